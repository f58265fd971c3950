#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("swap: space as a gauge, traffic in bytes as a counter") {
  ScopedEnv proc("HOST_PROC", fixture("swap/proc"));
  auto input = make_input("swap");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  // pswpin 1500 and pswpout 2500 pages of 4 KiB.
  CHECK(acc.lines() ==
        "swap free=6291456000i,total=8388608000i,used=2097152000i,used_percent=25 "
        "1700000000000000000\n"
        "swap in=6144000u,out=10240000u 1700000000000000000\n");
  REQUIRE(acc.metrics.size() == 2);
  CHECK(acc.metrics[0].type() == ValueType::kGauge);
  CHECK(acc.metrics[1].type() == ValueType::kCounter);
}

TEST_CASE("swap: missing or garbled files are errors, the other half still reports") {
  ScopedEnv proc("HOST_PROC", fixture("swap/nonexistent"));
  auto input = make_input("swap");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.metrics.empty());
  REQUIRE(acc.errors.size() == 2);
  CHECK(acc.errors[0] == "swap: cannot read " + fixture("swap/nonexistent/meminfo"));
  CHECK(acc.errors[1] == "swap: cannot read " + fixture("swap/nonexistent/vmstat"));

  proc.set(fixture("swap/garbled"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.metrics.empty());
  REQUIRE(acc.errors.size() == 2);
  CHECK(has_error(acc, "SwapFree in " + fixture("swap/garbled/meminfo")));
  CHECK(has_error(acc, "pswpout in " + fixture("swap/garbled/vmstat")));
}
