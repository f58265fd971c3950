#include <doctest/doctest.h>

#include "aggregator_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("minmax: min and max of each numeric field per series") {
  auto agg = make_aggregator("minmax");
  add_lines(*agg,
            "disk,dev=sda used=40,free=60i,ro=false,label=\"root\" 1700000000000000000\n"
            "disk,dev=sdb used=5 1700000000000000000\n"
            "disk,dev=sda used=-2.5,free=10i 1700000010000000000\n"
            "disk,dev=sda used=90 1700000020000000000\n");
  CHECK(push_lines(*agg) ==
        "disk,dev=sda used_min=-2.5,used_max=90,free_min=10,free_max=60 1700000000000000000\n"
        "disk,dev=sdb used_min=5,used_max=5 1700000000000000000\n");
}

TEST_CASE("minmax: gauge type, unsigned values, nothing for non-numeric series, reset") {
  auto agg = make_aggregator("minmax");
  add_lines(*agg,
            "m big=18446744073709551615u 1700000000000000000\n"
            "m big=1u 1700000000000000000\n"
            "text s=\"x\" 1700000000000000000\n");
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 1);
  CHECK(metrics[0].type() == ValueType::kGauge);
  CHECK(push_lines(*agg) == "m big_min=1,big_max=1.8446744073709552e+19 1700000000000000000\n");
  CHECK(push_lines(*agg) == "");
}

TEST_CASE("minmax: takes no options") {
  CHECK(aggregator_info("minmax").options.empty());
  CHECK(option_error("minmax", "{}") == "");
}
