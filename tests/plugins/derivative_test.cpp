#include <doctest/doctest.h>

#include <string>

#include "aggregator_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

// One metric "test" every 2 seconds from 0s: up from 0 to 10 in the first 10 seconds, then
// down to 0 (the example of Telegraf's README).
std::string point(int second) {
  int value = second <= 10 ? second : 20 - second;
  return "test value=" + std::to_string(value) + " " +
         std::to_string(kGatherTime + second * kSecond) + "\n";
}

// Feeds the points within [from, to) seconds as one window and pushes it.
std::string window(Aggregator& agg, int from, int to) {
  for (int s = from + from % 2; s < to; s += 2) add_lines(agg, point(s));
  return push_lines(agg);
}

}  // namespace

TEST_CASE("derivative: first to last of the window, per second, gauge type") {
  auto agg = make_aggregator("derivative", "{max_roll_over: 0}");
  for (int s = 0; s < 10; s += 2) add_lines(*agg, point(s));
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 1);
  CHECK(metrics[0].type() == ValueType::kGauge);
  CHECK(push_lines(*agg) == "test value_rate=1 1700000000000000000\n");       // (8 - 0) / (8 - 0)
  CHECK(window(*agg, 10, 20) == "test value_rate=-1 1700000000000000000\n");  // (2 - 10) / 8
}

TEST_CASE("derivative: the last metric rolls over as the next window's first") {
  // Windows of 2 seconds hold one metric each: nothing without roll-over...
  auto none = make_aggregator("derivative", "{max_roll_over: 0}");
  for (int s = 0; s <= 20; s += 2) CHECK(window(*none, s, s + 2) == "");

  // ...and the slope between neighbours with it.
  auto rolled = make_aggregator("derivative", "{max_roll_over: 1}");
  CHECK(window(*rolled, 0, 2) == "");
  for (int s = 2; s <= 10; s += 2) {
    CHECK(window(*rolled, s, s + 2) == "test value_rate=1 1700000000000000000\n");
  }
  for (int s = 12; s <= 20; s += 2) {
    CHECK(window(*rolled, s, s + 2) == "test value_rate=-1 1700000000000000000\n");
  }

  // Windows of 7 seconds: the change between windows counts with roll-over.
  auto seven = make_aggregator("derivative", "{max_roll_over: 1}");
  CHECK(window(*seven, 0, 7) == "test value_rate=1 1700000000000000000\n");
  CHECK(window(*seven, 7, 14) == "test value_rate=0.3333333333333333 1700000000000000000\n");
  CHECK(window(*seven, 14, 21) == "test value_rate=-1 1700000000000000000\n");
}

TEST_CASE("derivative: roll-over stops after max_roll_over windows without a new metric") {
  // The window with the last metric rolls it over once; each quiet window once more.
  auto survives = make_aggregator("derivative", "{max_roll_over: 2}");
  add_lines(*survives, "m v=0 1700000000000000000\n");
  CHECK(push_lines(*survives) == "");
  CHECK(push_lines(*survives) == "");
  add_lines(*survives, "m v=10 1700000010000000000\n");
  CHECK(push_lines(*survives) == "m v_rate=1 1700000000000000000\n");

  auto forgotten = make_aggregator("derivative", "{max_roll_over: 2}");
  add_lines(*forgotten, "m v=0 1700000000000000000\n");
  CHECK(push_lines(*forgotten) == "");
  CHECK(push_lines(*forgotten) == "");
  CHECK(push_lines(*forgotten) == "");
  add_lines(*forgotten, "m v=10 1700000010000000000\n");
  CHECK(push_lines(*forgotten) == "");  // no first metric left to start from
}

TEST_CASE("derivative: a field as the variable, with its own suffix") {
  auto agg = make_aggregator("derivative", "{variable: packets_recv, suffix: _by_packets_recv}");
  add_lines(*agg,
            "net bytes_recv=15409i,packets_recv=164i,bytes_sent=16649i 1508843640000000000\n"
            "net bytes_recv=73987i,packets_recv=364i 1508843660000000000\n");
  // bytes_sent is missing from the last metric: no derivative for it.
  CHECK(push_lines(*agg) == "net bytes_recv_by_packets_recv=292.89 1700000000000000000\n");
}

TEST_CASE("derivative: metrics at the first or last time add fields, an earlier one is first") {
  auto agg = make_aggregator("derivative");
  add_lines(*agg,
            "m a=10 1700000010000000000\n"
            "m a=30 1700000020000000000\n"
            "m b=1 1700000020000000000\n"
            "m a=0,b=0 1700000000000000000\n"
            "m b=-4,text=\"x\" 1700000020000000000\n");
  CHECK(push_lines(*agg) == "m a_rate=1.5,b_rate=-0.2 1700000000000000000\n");
}

TEST_CASE("derivative: nothing when the denominator is zero or the variable is missing") {
  auto agg = make_aggregator("derivative", "{variable: x}");
  add_lines(*agg,
            "flat x=1,v=1 1700000000000000000\n"
            "flat x=1,v=5 1700000010000000000\n"
            "missing v=1 1700000000000000000\n"
            "missing x=1,v=5 1700000010000000000\n");
  CHECK(push_lines(*agg) == "");
  CHECK(option_error("derivative", "{max_roll_over: -1}") == "max_roll_over: must not be negative");
}
