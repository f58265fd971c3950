#include <doctest/doctest.h>

#include "aggregator_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("rate: increase over the window's time span, per second") {
  auto agg = make_aggregator("rate");
  add_lines(*agg,
            "net,if=eth0 bytes=100i,packets=10u,up=true 1700000000000000000\n"
            "net,if=eth1 bytes=5i 1700000000000000000\n"
            "net,if=eth0 bytes=150i,packets=12u 1700000010000000000\n"
            "net,if=eth0 bytes=250i,packets=20u 1700000020000000000\n");
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 1);  // eth1 has one value only
  CHECK(metrics[0].type() == ValueType::kGauge);
  CHECK(push_lines(*agg) == "net,if=eth0 bytes_rate=7.5,packets_rate=0.5 1700000000000000000\n");
}

TEST_CASE("rate: a counter that goes down was reset and counts from zero") {
  auto agg = make_aggregator("rate");
  // 100 -> 150 (+50), reset to 20 (+20 since the restart), -> 70 (+50): 120 in 30 seconds.
  add_lines(*agg,
            "c v=100 1700000000000000000\n"
            "c v=150 1700000010000000000\n"
            "c v=20 1700000020000000000\n"
            "c v=70 1700000030000000000\n");
  CHECK(push_lines(*agg) == "c v_rate=4 1700000000000000000\n");
}

TEST_CASE("rate: values extend the span at either end, one in the middle is left out") {
  auto agg = make_aggregator("rate", "{max_roll_over: 0}");
  add_lines(*agg,
            "c v=100 1700000010000000000\n"
            "c v=50 1700000000000000000\n"
            "c v=200 1700000020000000000\n"
            "c v=120 1700000015000000000\n");
  CHECK(push_lines(*agg) == "c v_rate=7.5 1700000000000000000\n");
}

TEST_CASE("rate: unit and suffix") {
  auto agg = make_aggregator("rate", "{unit: 1m, suffix: _per_minute}");
  add_lines(*agg, "c v=0 1700000000000000000\nc v=30 1700000030000000000\n");
  CHECK(push_lines(*agg) == "c v_per_minute=60 1700000000000000000\n");
}

TEST_CASE("rate: the last value rolls over, so the next window counts from it") {
  auto rolled = make_aggregator("rate");
  add_lines(*rolled, "c v=0 1700000000000000000\nc v=10 1700000010000000000\n");
  CHECK(push_lines(*rolled) == "c v_rate=1 1700000000000000000\n");
  add_lines(*rolled, "c v=40 1700000020000000000\n");
  CHECK(push_lines(*rolled) == "c v_rate=3 1700000000000000000\n");
  // A quiet window emits nothing, and the value still rolls over.
  CHECK(push_lines(*rolled) == "");
  add_lines(*rolled, "c v=100 1700000040000000000\n");
  CHECK(push_lines(*rolled) == "c v_rate=3 1700000000000000000\n");

  auto single = make_aggregator("rate", "{max_roll_over: 0}");
  add_lines(*single, "c v=0 1700000000000000000\nc v=10 1700000010000000000\n");
  CHECK(push_lines(*single) == "c v_rate=1 1700000000000000000\n");
  add_lines(*single, "c v=40 1700000020000000000\n");
  CHECK(push_lines(*single) == "");
}

TEST_CASE("rate: option errors") {
  CHECK(option_error("rate", "{unit: 0s}") == "unit: must be longer than 0s");
  CHECK(option_error("rate", "{max_roll_over: -2}") == "max_roll_over: must not be negative");
}
