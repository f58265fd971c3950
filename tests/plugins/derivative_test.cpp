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

namespace {

// "m <fields> <1700000000 + seconds, in ns>"
std::string at_second(const std::string& fields, int second) {
  return "m " + fields + " " + std::to_string(kGatherTime + second * kSecond) + "\n";
}

}  // namespace

TEST_CASE("derivative pairs: one derivative per consecutive pair, at the later metric's time") {
  auto agg = make_aggregator("derivative", "{mode: pairs}");
  // Arrival out of order: the pairs follow the timestamps.
  add_lines(*agg, at_second("v=0", 0) + at_second("v=10", 5) + at_second("v=4", 2) +
                      at_second("v=0", 10));
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 3);
  CHECK(metrics[0].type() == ValueType::kGauge);
  // (4 - 0) / 2 s, (10 - 4) / 3 s, (0 - 10) / 5 s
  CHECK(push_lines(*agg) == at_second("v_rate=2", 2) + at_second("v_rate=2", 5) +
                                at_second("v_rate=-2", 10));
}

TEST_CASE("derivative pairs: the pair spanning two windows comes with the later window") {
  auto rolled = make_aggregator("derivative", "{mode: pairs}");
  add_lines(*rolled, at_second("v=0", 0) + at_second("v=4", 2));
  CHECK(push_lines(*rolled) == at_second("v_rate=2", 2));
  add_lines(*rolled, at_second("v=6", 6));
  CHECK(push_lines(*rolled) == at_second("v_rate=0.5", 6));  // (6 - 4) / (6 - 2)
  CHECK(push_lines(*rolled) == "");                            // a quiet window
  add_lines(*rolled, at_second("v=16", 11));
  CHECK(push_lines(*rolled) == at_second("v_rate=2", 11));  // (16 - 6) / (11 - 6)

  // Without roll-over each window stands alone: one metric makes no pair.
  auto alone = make_aggregator("derivative", "{mode: pairs, max_roll_over: 0}");
  add_lines(*alone, at_second("v=0", 0) + at_second("v=4", 2));
  CHECK(push_lines(*alone) == at_second("v_rate=2", 2));
  add_lines(*alone, at_second("v=6", 6));
  CHECK(push_lines(*alone) == "");

  // Roll-over ends after max_roll_over quiet windows, as in the window mode.
  auto forgotten = make_aggregator("derivative", "{mode: pairs, max_roll_over: 1}");
  add_lines(*forgotten, at_second("v=0", 0));
  CHECK(push_lines(*forgotten) == "");
  CHECK(push_lines(*forgotten) == "");
  add_lines(*forgotten, at_second("v=10", 20));
  CHECK(push_lines(*forgotten) == "");
}

TEST_CASE("derivative pairs: a metric older than the carried one pairs only within its window") {
  auto agg = make_aggregator("derivative", "{mode: pairs}");
  add_lines(*agg, at_second("v=0", 0) + at_second("v=10", 10));
  CHECK(push_lines(*agg) == at_second("v_rate=1", 10));
  // 8 s arrives late; the pair (8 s, 10 s) ends in the window already pushed.
  add_lines(*agg, at_second("v=2", 8) + at_second("v=14", 12));
  CHECK(push_lines(*agg) == at_second("v_rate=2", 12));  // (14 - 10) / (12 - 10)
}

TEST_CASE("derivative pairs: metrics with one timestamp are one point, a zero denominator no pair") {
  auto agg = make_aggregator("derivative", "{mode: pairs}");
  // Same time: fields join, a repeated field takes the later value.
  add_lines(*agg, at_second("a=1", 0) + at_second("b=5", 0) + at_second("a=3,b=2", 1) +
                      at_second("a=4", 1));
  CHECK(push_lines(*agg) == at_second("a_rate=3,b_rate=-3", 1));
  // The carried metric's instant again: it completes that metric, whose pairs are done.
  add_lines(*agg, at_second("c=7", 1) + at_second("a=6,c=9", 3));
  CHECK(push_lines(*agg) == at_second("a_rate=1,c_rate=1", 3));

  // With a variable that does not move, that pair gives nothing; the others do.
  auto by_x = make_aggregator("derivative", "{mode: pairs, variable: x}");
  add_lines(*by_x, at_second("x=1,v=1", 0) + at_second("x=1,v=5", 1) + at_second("x=3,v=9", 2) +
                       at_second("v=20", 3));  // no x: no pair with it
  CHECK(push_lines(*by_x) == at_second("v_rate=2", 2));  // (9 - 5) / (3 - 1)
}

TEST_CASE("derivative: mode must be window or pairs") {
  CHECK(option_error("derivative", "{mode: pair}") ==
        "mode: expected window or pairs, got \"pair\"");
  CHECK(option_error("derivative", "{mode: window}") == "");
}
