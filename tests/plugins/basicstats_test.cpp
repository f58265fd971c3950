#include <doctest/doctest.h>

#include <string>

#include "aggregator_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("basicstats: default stats per series and field, strings and booleans skipped") {
  auto agg = make_aggregator("basicstats");
  add_lines(*agg,
            "cpu,host=a usage=10,temp=1i,ok=true,state=\"up\" 1700000000000000000\n"
            "cpu,host=b usage=5 1700000000000000000\n"
            "cpu,host=a usage=20,temp=3i 1700000010000000000\n"
            "cpu,host=a usage=30 1700000020000000000\n");
  // temp: {1, 3} has sample variance ((1-2)^2 + (3-2)^2) / 1 = 2.
  CHECK(push_lines(*agg) ==
        "cpu,host=a usage_count=3,usage_min=10,usage_max=30,usage_mean=20,usage_stdev=10,"
        "usage_s2=100,temp_count=2,temp_min=1,temp_max=3,temp_mean=2,"
        "temp_stdev=1.4142135623730951,temp_s2=2 1700000000000000000\n"
        // One value: no variance.
        "cpu,host=b usage_count=1,usage_min=5,usage_max=5,usage_mean=5 1700000000000000000\n");
}

TEST_CASE("basicstats: every statistic against textbook values, in the order listed") {
  auto agg = make_aggregator(
      "basicstats",
      "{stats: [last, count, min, max, mean, sum, s2, stdev, diff, non_negative_diff, rate, "
      "non_negative_rate, percent_change, interval]}");
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, so the sample variance is
  // 32/7 and the sample standard deviation sqrt(32/7). First 2 at 0s, last 9 at 70s.
  add_lines(*agg,
            "m v=2 1700000000000000000\n"
            "m v=4 1700000010000000000\n"
            "m v=4 1700000020000000000\n"
            "m v=4 1700000030000000000\n"
            "m v=5 1700000040000000000\n"
            "m v=5 1700000050000000000\n"
            "m v=7 1700000060000000000\n"
            "m v=9 1700000070000000000\n");
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 1);
  CHECK(metrics[0].type() == ValueType::kGauge);
  CHECK(push_lines(*agg) ==
        "m v_last=9,v_count=8,v_min=2,v_max=9,v_mean=5,v_sum=40,v_s2=4.571428571428571,"
        "v_stdev=2.138089935299395,v_diff=7,v_non_negative_diff=7,v_rate=0.1,"
        "v_non_negative_rate=0.1,v_percent_change=350,v_interval=70000000000i "
        "1700000000000000000\n");
}

TEST_CASE("basicstats: first and last follow the timestamps, not the arrival order") {
  auto agg = make_aggregator("basicstats", "{stats: [diff, rate, interval, last]}");
  add_lines(*agg,
            "m v=50 1700000010000000000\n"
            "m v=100 1700000020000000000\n"
            "m v=10 1700000000000000000\n");
  CHECK(push_lines(*agg) ==
        "m v_diff=90,v_rate=4.5,v_interval=20000000000i,v_last=100 1700000000000000000\n");
}

TEST_CASE("basicstats: non-negative stats, percent change and rate are left out when undefined") {
  auto agg = make_aggregator(
      "basicstats", "{stats: [diff, non_negative_diff, rate, non_negative_rate, percent_change]}");
  add_lines(*agg,
            // A decrease: no non-negative stats.
            "down v=8 1700000000000000000\n"
            "down v=2 1700000004000000000\n"
            // From zero: no percent change.
            "zero v=0 1700000000000000000\n"
            "zero v=5 1700000010000000000\n"
            // Two values at the same time: no rate (no time passed).
            "same v=1 1700000000000000000\n"
            "same v=3 1700000000000000000\n");
  CHECK(push_lines(*agg) ==
        "down v_diff=-6,v_rate=-1.5,v_percent_change=-75 1700000000000000000\n"
        "zero v_diff=5,v_non_negative_diff=5,v_rate=0.5,v_non_negative_rate=0.5 "
        "1700000000000000000\n"
        "same v_diff=2,v_non_negative_diff=2,v_percent_change=200 1700000000000000000\n");
}

TEST_CASE("basicstats: integer types are read as floats, fields appearing later join in") {
  auto agg = make_aggregator("basicstats", "{stats: [count, sum, mean]}");
  add_lines(*agg,
            "m a=1i 1700000000000000000\n"
            "m a=2u,b=1.5 1700000001000000000\n"
            "m b=2.5,a=-9223372036854775808i 1700000002000000000\n");
  CHECK(push_lines(*agg) ==
        "m a_count=3,a_sum=-9.223372036854776e+18,a_mean=-3.0744573456182584e+18,b_count=2,"
        "b_sum=4,b_mean=2 1700000000000000000\n");
}

TEST_CASE("basicstats: a series with no numeric field emits nothing, reset forgets") {
  auto agg = make_aggregator("basicstats");
  add_lines(*agg, "log msg=\"hello\",ok=true 1700000000000000000\n");
  CHECK(push_lines(*agg) == "");
  add_lines(*agg, "m v=1 1700000000000000000\n");
  CHECK(push_lines(*agg) == "m v_count=1,v_min=1,v_max=1,v_mean=1 1700000000000000000\n");
  CHECK(push_lines(*agg) == "");
}

TEST_CASE("basicstats: an empty stats list emits nothing, duplicates count once") {
  auto none = make_aggregator("basicstats", "{stats: []}");
  add_lines(*none, "m v=1 1700000000000000000\nm v=2 1700000001000000000\n");
  CHECK(push_lines(*none) == "");

  auto twice = make_aggregator("basicstats", "{stats: [max, max]}");
  add_lines(*twice, "m v=1 1700000000000000000\nm v=2 1700000001000000000\n");
  CHECK(push_lines(*twice) == "m v_max=2 1700000000000000000\n");
}

TEST_CASE("basicstats: many series keep their order of first appearance") {
  auto agg = make_aggregator("basicstats", "{stats: [count]}");
  std::string input, expected;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 100; ++i) {
      input += "m,id=" + std::to_string(i) + " v=1 1700000000000000000\n";
    }
  }
  for (int i = 0; i < 100; ++i) {
    expected += "m,id=" + std::to_string(i) + " v_count=3 1700000000000000000\n";
  }
  add_lines(*agg, input);
  CHECK(push_lines(*agg) == expected);
}

TEST_CASE("basicstats: an unknown statistic is an option error") {
  CHECK(option_error("basicstats", "{stats: [mean, median]}") ==
        "stats: unknown statistic \"median\"; expected count, min, max, mean, sum, s2, stdev, "
        "diff, non_negative_diff, rate, non_negative_rate, percent_change, interval or last");
}
