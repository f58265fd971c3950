#include <doctest/doctest.h>

#include "aggregator_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("merge: fields of the same series and timestamp become one metric") {
  auto agg = make_aggregator("merge");
  add_lines(*agg,
            "cpu,host=a usage_time=42 1700000005000000000\n"
            "cpu,host=b usage_time=7 1700000005000000000\n"
            "cpu,host=a idle_time=42i,state=\"on\" 1700000005000000000\n"
            "cpu,host=a usage_time=1 1700000015000000000\n"
            "cpu,host=a usage_time=43 1700000005000000000\n");
  // The metrics keep their own time; a repeated field takes the later value.
  CHECK(push_lines(*agg) ==
        "cpu,host=a usage_time=43,idle_time=42i,state=\"on\" 1700000005000000000\n"
        "cpu,host=b usage_time=7 1700000005000000000\n"
        "cpu,host=a usage_time=1 1700000015000000000\n");
  CHECK(push_lines(*agg) == "");
}

TEST_CASE("merge: round_timestamp_to groups metrics a little apart, halfway rounding up") {
  auto agg = make_aggregator("merge", "{round_timestamp_to: 1s}");
  add_lines(*agg,
            "m a=1 1700000000400000000\n"
            "m b=2 1700000000300000000\n"
            "m c=3 1699999999700000000\n"
            "m d=4 1700000000500000000\n");
  CHECK(push_lines(*agg) ==
        "m a=1,b=2,c=3 1700000000000000000\n"
        "m d=4 1700000001000000000\n");
}

TEST_CASE("merge: the merged metric keeps the first metric's value type") {
  auto agg = make_aggregator("merge");
  Metric first("m", kGatherTime, ValueType::kCounter);
  first.append_field("a", 1.0);
  Metric second("m", kGatherTime, ValueType::kGauge);
  second.append_field("b", 2.0);
  agg->add(first);
  agg->add(second);
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 1);
  CHECK(metrics[0].type() == ValueType::kCounter);
  CHECK(metrics[0].fields().size() == 2);
}
