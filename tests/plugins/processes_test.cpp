#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("processes: counts by state letter and the sum of threads") {
  ScopedEnv proc("HOST_PROC", fixture("processes/proc"));
  auto input = make_input("processes");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  // 14 processes: R R S S S I D Z T t X W P and one with an unknown letter; the name
  // "my) (proc" holds spaces and parentheses.
  CHECK(acc.lines() ==
        "processes blocked=1i,dead=1i,idle=1i,paging=1i,parked=1i,running=2i,sleeping=3i,"
        "stopped=2i,total=14i,total_threads=20i,unknown=1i,zombies=1i 1700000000000000000\n");
  CHECK(acc.metrics[0].type() == ValueType::kGauge);
}

TEST_CASE("processes: no /proc is an error, malformed stat files are counted out and reported") {
  ScopedEnv proc("HOST_PROC", fixture("processes/nonexistent"));
  auto input = make_input("processes");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.metrics.empty());
  CHECK(acc.errors == std::vector<std::string>{"processes: no process directories found in " +
                                               fixture("processes/nonexistent")});

  proc.set(fixture("processes/garbled"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.errors == std::vector<std::string>{"processes: 2 malformed stat file(s), first " +
                                               fixture("processes/garbled/2/stat")});
  CHECK(acc.lines() ==
        "processes blocked=0i,dead=0i,idle=0i,paging=0i,parked=0i,running=0i,sleeping=1i,"
        "stopped=0i,total=1i,total_threads=1i,unknown=0i,zombies=0i 1700000000000000000\n");
}
