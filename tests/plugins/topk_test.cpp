#include "processors/topk/topk.hpp"

#include <doctest/doctest.h>

#include <memory>

#include "processor_test_support.hpp"

using sluice::testing::processor_options;
using sluice::testing::run_lines;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

struct FakeClock {
  int64_t now = 1000 * kSecond;
};

std::unique_ptr<sluice::Processor> make_topk(const char* yaml, FakeClock& clock) {
  static sluice::testing::CapturingLogger log;
  return sluice::processors::topk::make_topk(processor_options("topk", yaml), log,
                                             [&clock] { return clock.now; });
}

constexpr const char* kBatch =
    "cpu,host=a value=10 1\n"
    "cpu,host=b value=30 1\n"
    "cpu,host=c value=20 1\n"
    "cpu,host=a value=50 2\n";

}  // namespace

TEST_CASE("topk: metrics are held until a batch arrives after the period") {
  FakeClock clock;
  auto p = make_topk("{period: 10s, k: 2}", clock);
  CHECK(run_lines(*p, kBatch) == "");
  clock.now += 9 * kSecond;
  CHECK(run_lines(*p, "cpu,host=d value=1 3\n") == "");
  clock.now += 1 * kSecond;
  // Means: a 30, b 30, c 20, d 1. Ties keep the order of first arrival.
  CHECK(run_lines(*p, "") == "");  // an empty batch does not trigger the period
  CHECK(run_lines(*p, "cpu,host=d value=2 4\n") ==
        "cpu,host=a value=10 1\ncpu,host=a value=50 2\ncpu,host=b value=30 1\n");
  clock.now += 10 * kSecond;
  CHECK(run_lines(*p, "cpu,host=e value=1 5\n") == "cpu,host=e value=1 5\n");
}

TEST_CASE("topk: aggregations, bottomk, rank and aggregate fields, group tag") {
  FakeClock clock;
  auto sum = make_topk(
      "{period: 1s, k: 1, aggregation: sum, add_rank_fields: [value], add_aggregate_fields: "
      "[value], add_groupby_tag: group}",
      clock);
  run_lines(*sum, kBatch);
  clock.now += kSecond;
  CHECK(run_lines(*sum, "") == "");
  CHECK(run_lines(*sum, "cpu,host=c value=100 9\n") ==
        "cpu,group=cpu&host\\=c&,host=c value=20,value_topk_aggregate=120,value_topk_rank=1i 1\n"
        "cpu,group=cpu&host\\=c&,host=c value=100,value_topk_aggregate=120,value_topk_rank=1i 9\n");

  auto bottom = make_topk("{period: 1s, k: 1, aggregation: max, bottomk: true}", clock);
  run_lines(*bottom, kBatch);
  clock.now += kSecond;
  CHECK(run_lines(*bottom, "cpu,host=z other=1 3\n") == "cpu,host=c value=20 1\n");

  auto min = make_topk("{period: 1s, k: 1, aggregation: min}", clock);
  run_lines(*min, kBatch);
  clock.now += kSecond;
  CHECK(run_lines(*min, "") == "");
  CHECK(run_lines(*min, "mem value=0 3\n") == "cpu,host=b value=30 1\n");
}

TEST_CASE("topk: group_by decides the groups, each field ranks on its own") {
  FakeClock clock;
  auto p = make_topk("{period: 1s, k: 1, group_by: [dc], fields: [rx, tx]}", clock);
  run_lines(*p,
            "net,dc=x,host=a rx=10i,tx=1i 1\n"
            "net,dc=x,host=b rx=10i,tx=1i 1\n"
            "net,dc=y,host=c rx=15i,tx=9i 1\n"
            "net,dc=z,host=d tx=100i 1\n"
            "net,dc=w,host=e rx=\"text\" 1\n");
  clock.now += kSecond;
  // rx: x (mean 10) < y (15): y; tx: z (100). Groups without a field are not ranked by it.
  CHECK(run_lines(*p, "net,dc=x,host=a rx=1i 2\n") ==
        "net,dc=y,host=c rx=15i,tx=9i 1\nnet,dc=z,host=d tx=100i 1\n");
  auto by_name = make_topk("{period: 1s, k: 1, group_by: []}", clock);
  run_lines(*by_name, "a value=1 1\nb value=2 1\nb value=4 2\n");
  clock.now += kSecond;
  CHECK(run_lines(*by_name, "a value=0 3\n") == "b value=2 1\nb value=4 2\n");
}

TEST_CASE("topk: option errors") {
  FakeClock clock;
  CHECK_THROWS_AS(make_topk("{aggregation: median}", clock), sluice::OptionError);
  CHECK_THROWS_AS(make_topk("{k: 0}", clock), sluice::OptionError);
  CHECK_THROWS_AS(make_topk("{fields: []}", clock), sluice::OptionError);
  CHECK_THROWS_AS(make_topk("{period: 0s}", clock), sluice::OptionError);
  // The registered factory works with the real clock.
  auto real = sluice::testing::make_processor("topk", "{period: 1h}");
  CHECK(run_lines(*real, kBatch) == "");
}
