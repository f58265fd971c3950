// Delivery tracking: a source hears that its message was delivered only once every output that
// took its metrics has written them, and hears of a loss when a metric is dropped unwritten.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "core/delivery.hpp"
#include "pipeline/agent.hpp"
#include "pipeline/aggregation_windows.hpp"
#include "pipeline/memory_buffer.hpp"
#include "support/test_plugins.hpp"

using namespace sluice;
using namespace sluice::pipeline;
using sluice::testing::delivery_log;
using sluice::testing::eventually;
using sluice::testing::recording;
using sluice::testing::settle;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

struct Outcomes {
  std::vector<bool> seen;
  DeliveryHandle group() {
    return make_delivery_group([this](bool delivered) { seen.push_back(delivered); });
  }
};

Metric tracked(const DeliveryHandle& group, int64_t time = 0) {
  Metric m("m", time);
  m.set_field("v", int64_t{1});
  m.set_delivery(group);
  return m;
}

}  // namespace

TEST_CASE("a delivery group ends when its last metric is released, copies included") {
  int64_t before = DeliveryGroup::groups_in_flight();
  Outcomes outcomes;
  {
    DeliveryHandle group = outcomes.group();
    Metric a = tracked(group);
    Metric copy = a;
    group.reset();
    CHECK(DeliveryGroup::groups_in_flight() == before + 1);
    a = Metric("other", 0);  // the original lets go, the copy still holds it
    CHECK(outcomes.seen.empty());
  }
  CHECK(outcomes.seen == std::vector<bool>{true});
  CHECK(DeliveryGroup::groups_in_flight() == before);
}

TEST_CASE("the delivery group is not part of a metric's content") {
  Outcomes outcomes;
  Metric plain("m", 0);
  plain.set_field("v", int64_t{1});
  CHECK(tracked(outcomes.group()) == plain);
}

TEST_CASE("metrics a full buffer drops, or still holds when it goes, are reported lost") {
  Outcomes first, second, third;
  {
    MemoryBuffer buffer(2);
    buffer.add(std::make_shared<Batch>(Batch{tracked(first.group())}));
    buffer.add(std::make_shared<Batch>(Batch{tracked(second.group())}));
    // The oldest goes to make room.
    CHECK(buffer.add(std::make_shared<Batch>(Batch{tracked(third.group())})) == 1);
    CHECK(first.seen == std::vector<bool>{false});
    // The second is written: delivered once nothing holds it.
    BufferLease lease = buffer.take(1);
    buffer.remove(lease);
    lease = {};
    CHECK(second.seen == std::vector<bool>{true});
    CHECK(third.seen.empty());
  }
  CHECK(third.seen == std::vector<bool>{false});  // never written
}

TEST_CASE("a batch larger than the whole buffer reports the part it cannot keep as lost") {
  Outcomes kept, dropped;
  MemoryBuffer buffer(1);
  buffer.add(std::make_shared<Batch>(Batch{tracked(dropped.group()), tracked(kept.group())}));
  BufferLease lease = buffer.take(1);
  buffer.remove(lease);
  lease = {};
  // Both end when the shared batch goes: the part never kept as lost, the part written not.
  CHECK(dropped.seen == std::vector<bool>{false});
  CHECK(kept.seen == std::vector<bool>{true});
}

TEST_CASE("an aggregation window holds tracked metrics until it is pushed") {
  struct Counter final : Aggregator {
    int64_t n = 0;
    void add(const Metric&) override { ++n; }
    void push(Accumulator& acc) override {
      Metric m("count", 0);
      m.set_field("n", n);
      acc.add(std::move(m));
    }
    void reset() override { n = 0; }
  };
  struct Sink final : Accumulator {
    Batch out;
    void add(Metric m) override { out.push_back(std::move(m)); }
    void add_error(std::string_view) override {}
    int64_t time() const override { return 0; }
  };
  WindowSettings settings;
  settings.size = settings.every = 10 * kSecond;
  settings.delay = 0;
  AggregationWindows windows(settings, [] { return std::make_unique<Counter>(); }, 100 * kSecond);
  Outcomes outcomes;
  {
    DeliveryHandle group = outcomes.group();
    CHECK(windows.add(tracked(group, 101 * kSecond), 101 * kSecond));
    CHECK(windows.add(tracked(group, 102 * kSecond), 102 * kSecond));
  }
  Sink sink;
  windows.push_due(105 * kSecond, sink);  // not due yet
  CHECK(outcomes.seen.empty());
  windows.push_due(110 * kSecond, sink);
  REQUIRE(sink.out.size() == 1);
  CHECK(outcomes.seen == std::vector<bool>{true});
  CHECK_FALSE(sink.out[0].delivery());  // the aggregate is the aggregator's own metric
}

TEST_CASE("a tracked message is delivered only when every output has written it") {
  int64_t before = DeliveryGroup::groups_in_flight();
  ManualClock clock(6'000 * kSecond);
  auto path = std::filesystem::temp_directory_path() / "sluice-delivery-test.yaml";
  std::ofstream(path)
      << "agent: {interval: 1s, flush_interval: 1h, metric_batch_size: 3, omit_hostname: true,"
         " shutdown_timeout: 5s}\n"
         "inputs:\n  - tracked: {count: 3, log: two-outputs, interval: 10s, collection_offset: 500ms}\n"
         "outputs:\n  - recorder: {name: delivery-fast}\n"
         "  - recorder: {name: delivery-slow, retry_initial_backoff: 10s}\n";
  auto slow = recording("delivery-slow");
  slow->script(WriteResult::retry("server down"));
  sluice::config::LoadOptions options;
  options.files = {path.string()};
  options.registry = &sluice::testing::test_registry();
  auto& log = delivery_log("two-outputs");
  {
    Agent agent(options, clock);
    agent.start();
    REQUIRE(settle(clock, 3));  // the input and two outputs
    // 6001 s: one gather (the next is at 6010.5 s), one message of 3 metrics: a full batch,
    // which both outputs write at once; the slow one fails and schedules its retry.
    clock.advance(kSecond);
    auto& slow_stats = agent.pipeline().outputs()[1]->stats();
    REQUIRE(eventually([&] {
      return recording("delivery-fast")->metric_count() == 3 && slow_stats.retries == 1;
    }));
    CHECK(log.count() == 0);  // the slow output still holds the metrics
    clock.advance(30 * kSecond);  // past the jittered back-off: the retry succeeds
    REQUIRE(eventually([&] { return slow->metric_count() >= 3; }));
    REQUIRE(eventually([&] { return log.count() >= 1; }));
    CHECK(log.snapshot()[0] == true);
    agent.stop();
  }
  // Every message that was gathered ended, delivered or not, and nothing is still tracked.
  CHECK(DeliveryGroup::groups_in_flight() == before);
  std::filesystem::remove(path);
}
