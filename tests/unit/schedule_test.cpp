#include <doctest/doctest.h>

#include "config/config.hpp"
#include "pipeline/running_input.hpp"
#include "pipeline/schedule.hpp"
#include "support/test_plugins.hpp"

using namespace sluice::pipeline;

constexpr int64_t kSecond = 1'000'000'000;

TEST_CASE("round_interval aligns ticks to wall-clock multiples of the interval") {
  Schedule s{10 * kSecond, true, 0};
  CHECK(first_tick(s, 1'700'000'003 * kSecond) == 1'700'000'010 * kSecond);
  CHECK(first_tick(s, 1'700'000'010 * kSecond) == 1'700'000'010 * kSecond);
  s.offset = 2 * kSecond;
  CHECK(first_tick(s, 1'700'000'003 * kSecond) == 1'700'000'012 * kSecond);
  s.round_interval = false;
  s.offset = 0;
  CHECK(first_tick(s, 1'700'000'003 * kSecond + 5) == 1'700'000'003 * kSecond + 5);
}

TEST_CASE("the next tick comes from the schedule, not from when the gather ended") {
  Schedule s{10 * kSecond, true, 0};
  NextTick n = next_tick(s, 100 * kSecond, 103 * kSecond);
  CHECK(n.tick == 110 * kSecond);
  CHECK(n.skipped == 0);
}

TEST_CASE("a gather that overruns skips the ticks it overran, and counts them") {
  Schedule s{10 * kSecond, true, 0};
  NextTick n = next_tick(s, 100 * kSecond, 110 * kSecond);  // ended exactly on the next tick
  CHECK(n.tick == 120 * kSecond);
  CHECK(n.skipped == 1);
  n = next_tick(s, 100 * kSecond, 135 * kSecond);
  CHECK(n.tick == 140 * kSecond);
  CHECK(n.skipped == 3);
}

TEST_CASE("a running input gathers on aligned ticks of an injected clock") {
  ManualClock clock(1'000 * kSecond + 3 * kSecond);
  auto config = sluice::config::load_text(
      "agent: {interval: 10s, omit_hostname: true}\ninputs:\n  - gen: {count: 2}\n", "t.yaml",
      sluice::testing::test_registry());
  RunningInput input(config.inputs[0], InputDefaults{10 * kSecond, true, 0, 0, 0, {}}, clock);
  BatchChannel channel(100);
  input.start(channel);
  // Nothing before the first aligned tick at 1010 s.
  clock.advance(6 * kSecond);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(channel.queued_metrics() == 0);
  clock.advance(1 * kSecond);  // 1010 s
  REQUIRE(sluice::testing::eventually([&] { return channel.queued_metrics() == 2; }));
  REQUIRE(sluice::testing::settle(clock, 1));
  clock.advance(10 * kSecond);  // 1020 s
  REQUIRE(sluice::testing::eventually([&] { return channel.queued_metrics() == 4; }));
  input.stop();
  channel.close();
  auto first = channel.pop();
  REQUIRE(first);
  CHECK(first->at(0).time() == 1'010 * kSecond);
  CHECK(first->at(1).time() == 1'010 * kSecond);
  auto second = channel.pop();
  REQUIRE(second);
  CHECK(second->at(0).time() == 1'020 * kSecond);
  CHECK(input.stats().gathers_skipped == 0);
}

TEST_CASE("a gather still running at the next tick skips that tick") {
  // Each gather takes 50 ms of real time; the clock jumps 25 s during it.
  ManualClock clock(2'000 * kSecond);
  auto config = sluice::config::load_text(
      "inputs:\n  - gen: {count: 1, gather_ms: 200}\n", "t.yaml",
      sluice::testing::test_registry());
  RunningInput input(config.inputs[0], InputDefaults{10 * kSecond, true, 0, 0, 0, {}}, clock);
  BatchChannel channel(100);
  input.start(channel);  // first tick: 2000 s, due now
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  clock.advance(25 * kSecond);  // while gathering: 2010 and 2020 pass
  REQUIRE(sluice::testing::eventually([&] { return input.stats().gathers_skipped == 2; }));
  REQUIRE(sluice::testing::eventually([&] { return channel.queued_metrics() == 1; }));
  REQUIRE(sluice::testing::settle(clock, 1));
  clock.advance(5 * kSecond);  // 2030 s: the next tick that is run
  REQUIRE(sluice::testing::eventually([&] { return channel.queued_metrics() == 2; }));
  input.stop();
  channel.close();
  channel.pop();
  CHECK(channel.pop()->at(0).time() == 2'030 * kSecond);
}

TEST_CASE("a bounded channel blocks a writer until the reader makes room") {
  BatchChannel channel(3);
  sluice::Batch two(2);
  CHECK(channel.push(std::move(two)));
  std::atomic<bool> pushed{false};
  std::thread writer([&] {
    sluice::Batch more(2);
    channel.push(std::move(more));
    pushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK_FALSE(pushed);  // 2 + 2 > 3: back-pressure
  CHECK(channel.pop()->size() == 2);
  writer.join();
  CHECK(pushed);
  CHECK(channel.queued_metrics() == 2);
  channel.close();
  CHECK_FALSE(channel.push(sluice::Batch(1)));
  CHECK(channel.pop()->size() == 2);
  CHECK_FALSE(channel.pop());
}
