#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "pipeline/agent.hpp"
#include "support/test_plugins.hpp"

using namespace sluice::pipeline;
using sluice::WriteResult;
using sluice::testing::eventually;
using sluice::testing::recording;
using sluice::testing::settle;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

struct TempConfig {
  std::filesystem::path path;
  explicit TempConfig(const std::string& name) {
    path = std::filesystem::temp_directory_path() / ("sluice-agent-test-" + name + ".yaml");
  }
  ~TempConfig() { std::filesystem::remove(path); }
  void write(const std::string& text) const { std::ofstream(path) << text; }
  sluice::config::LoadOptions load() const {
    sluice::config::LoadOptions options;
    options.files = {path.string()};
    options.registry = &sluice::testing::test_registry();
    return options;
  }
};

std::vector<int64_t> range(int64_t n) {
  std::vector<int64_t> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(i);
  return v;
}

const char* kAgent =
    "agent: {interval: 1s, flush_interval: 1s, omit_hostname: true, shutdown_timeout: 5s}\n";

}  // namespace

TEST_CASE("metrics flow from an input through a processor and an aggregator to outputs") {
  ManualClock clock(1'000 * kSecond);
  TempConfig file("flow");
  file.write(std::string(kAgent) +
             "inputs:\n  - gen: {count: 3, collection_offset: 500ms}\n"
             "processors:\n  - tag: {key: stage, value: processed}\n"
             "aggregators:\n  - count: {period: 10s, delay: 0s}\n"
             "outputs:\n  - recorder: {name: flow-all}\n"
             "  - recorder: {name: flow-counts, namepass: [count]}\n");
  Agent agent(file.load(), clock);
  agent.start();
  // Gathers at 1000.5 s, 1001.5 s, ... 1009.5 s: all inside the window [1000 s, 1010 s).
  REQUIRE(settle(clock, 4));  // the input, the aggregation and two outputs
  clock.advance(kSecond / 2);
  for (int i = 0; i < 10; ++i) {
    REQUIRE(eventually([&] {
      return agent.pipeline().inputs()[0]->stats().metrics_gathered == 3u * (i + 1);
    }));
    REQUIRE(settle(clock, 4));  // the input, the aggregation and two outputs
    if (i < 9) clock.advance(kSecond);
  }
  clock.advance(kSecond / 2);  // 1010 s: the window is due
  REQUIRE(eventually([&] {
    for (const auto& s : StatsRegistry::global().snapshot()) {
      if (s->name == "count" && s->metrics_out == 2) return true;  // one per series
    }
    return false;
  }));
  clock.advance(kSecond);  // a flush
  REQUIRE(eventually([&] { return recording("flow-counts")->metric_count() == 2; }));
  agent.stop();
  auto all = recording("flow-all");
  std::lock_guard lock(all->mutex);
  for (const auto& batch : all->writes) {
    for (const auto& m : batch) CHECK(m.tag("stage") == "processed");  // originals and aggregates
  }
  // The window [1000 s, 1010 s) saw the 10 gathers: per gather two metrics of series n=0 and
  // one of n=1.
  auto counts = recording("flow-counts")->values();
  REQUIRE(counts.size() >= 2);
  CHECK(counts[0] == 20);
  CHECK(counts[1] == 10);
}

TEST_CASE("SIGHUP reload keeps unchanged outputs with their buffers, a bad config changes nothing") {
  ManualClock clock(2'000 * kSecond);
  auto kept = recording("reload-kept");
  for (int i = 0; i < 3; ++i) kept->script(WriteResult::retry("server down"));
  auto dropped = recording("reload-removed");
  TempConfig file("reload");
  const std::string kept_output =
      "  - recorder: {name: reload-kept, retry_initial_backoff: 1h, retry_max_backoff: 1h}\n";
  file.write(std::string(kAgent) + "inputs:\n  - gen: {count: 1, collection_offset: 500ms}\noutputs:\n" + kept_output +
             "  - recorder: {name: reload-removed}\n");
  Agent agent(file.load(), clock);
  agent.start();
  RunningOutput* before = agent.pipeline().outputs()[0].get();
  for (uint64_t i = 1; i <= 3; ++i) {
    REQUIRE(settle(clock, 3));  // the input and two outputs
    clock.advance(kSecond);
    REQUIRE(eventually([&] {
      return agent.pipeline().inputs()[0]->stats().metrics_gathered == i;
    }));
  }
  REQUIRE(eventually([&] { return before->buffered() == 3; }));
  // The flush ticks may each have come before a metric reached the buffer: ask for a write, so
  // that the kept output has surely tried (and failed, the server being down) before the reload.
  before->flush_now();
  REQUIRE(eventually([&] { return kept->attempts >= 1; }));

  // Good config: the input changes, the kept output does not, the other output goes.
  file.write(std::string(kAgent) + "inputs:\n  - gen: {count: 2, metric: other, collection_offset: 500ms}\noutputs:\n" +
             kept_output);
  CHECK_FALSE(agent.reload());
  REQUIRE(agent.pipeline().outputs().size() == 1);
  CHECK(agent.pipeline().outputs()[0].get() == before);
  CHECK(before->buffered() == 3);  // nothing lost, nothing written yet
  CHECK(dropped->closes == 1);
  CHECK(dropped->values() == std::vector<int64_t>{0, 1, 2});  // written before it went

  // Bad config: the error is returned and the running pipeline stays.
  Pipeline* running = &agent.pipeline();
  file.write(std::string(kAgent) + "inputs:\n  - gen: {cuont: 2}\n");
  auto error = agent.reload();
  REQUIRE(error);
  CHECK(error->find("unknown option \"cuont\"") != std::string::npos);
  CHECK(&agent.pipeline() == running);
  REQUIRE(settle(clock, 2));  // the input and the output
  clock.advance(kSecond);
  REQUIRE(eventually([&] { return before->buffered() == 5; }));  // still gathering (2 a tick)

  // Shutdown drains: the retries pass now and every metric arrives once, in order.
  {
    std::lock_guard lock(kept->mutex);
    kept->scripted.clear();
  }
  agent.stop();
  CHECK(kept->metric_count() == 5);
  CHECK(kept->values() == std::vector<int64_t>{0, 1, 2, 0, 1});
}

TEST_CASE("shutdown drains what is gathered into the outputs within the deadline") {
  ManualClock clock(3'000 * kSecond);
  TempConfig file("drain");
  file.write(
      "agent: {interval: 1s, flush_interval: 1h, omit_hostname: true}\n"
      "inputs:\n  - gen: {count: 50, collection_offset: 500ms}\noutputs:\n  - recorder: {name: shutdown-drain}\n");
  Agent agent(file.load(), clock);
  agent.start();
  for (int i = 0; i < 4; ++i) {
    REQUIRE(settle(clock, 2));  // the input and the output
    clock.advance(kSecond);
    REQUIRE(eventually([&] {
      auto& stats = agent.pipeline().inputs()[0]->stats();
      return stats.metrics_gathered == 50u * (i + 1);
    }));
  }
  CHECK(recording("shutdown-drain")->metric_count() == 0);  // the flush is an hour away
  agent.stop();
  CHECK(recording("shutdown-drain")->values() == range(200));
}

TEST_CASE("SIGHUP keeps an unchanged aggregator's open window") {
  ManualClock clock(4'000 * kSecond);
  TempConfig file("reload-window");
  const std::string aggregator = "aggregators:\n  - count: {period: 10s, delay: 0s}\n";
  auto config_with = [&](const std::string& input) {
    return std::string(kAgent) + "inputs:\n  - gen: {" + input + "collection_offset: 500ms}\n" +
           aggregator + "outputs:\n  - recorder: {name: reload-window, namepass: [count]}\n";
  };
  file.write(config_with("count: 1, "));
  Agent agent(file.load(), clock);
  agent.start();
  RunningAggregator* before = agent.pipeline().aggregators()[0].get();
  for (uint64_t i = 1; i <= 3; ++i) {  // gathers at 4000.5, 4001.5, 4002.5
    REQUIRE(settle(clock, 3));  // the input, the aggregation and the output
    clock.advance(kSecond);
    REQUIRE(eventually([&] { return agent.pipeline().inputs()[0]->stats().metrics_gathered == i; }));
  }
  file.write(config_with("count: 2, "));  // the input changes, the aggregator does not
  CHECK_FALSE(agent.reload());
  CHECK(agent.pipeline().aggregators()[0].get() == before);
  // Gathers at 4003.5 .. 4009.5, two metrics each; the window is due at 4010 s, after them.
  for (uint64_t i = 1; i <= 7; ++i) {
    REQUIRE(settle(clock, 3));
    clock.advance(i < 7 ? kSecond : kSecond * 6 / 10);
    REQUIRE(eventually([&] { return agent.pipeline().inputs()[0]->stats().metrics_gathered == 2 * i; }));
  }
  // Every gathered metric has reached the aggregator before its window becomes due.
  REQUIRE(eventually([&] { return before->stats().metrics_in == 3 + 14; }));
  REQUIRE(settle(clock, 3));
  clock.advance(kSecond * 4 / 10);
  REQUIRE(eventually([&] { return before->stats().metrics_out == 2; }));  // pushed
  REQUIRE(settle(clock, 3));
  clock.advance(kSecond);  // a flush
  REQUIRE(eventually([&] { return recording("reload-window")->metric_count() == 2; }));
  agent.stop();
  // One window [4000 s, 4010 s): 3 metrics of series n=0 before the reload, and 7 of each of
  // n=0 and n=1 after it.
  auto values = recording("reload-window")->values();
  REQUIRE(values.size() >= 2);  // later windows follow at shutdown
  CHECK(values[0] == 10);
  CHECK(values[1] == 7);
}

TEST_CASE("shutdown ends although an input is blocked behind an output that blocks when full") {
  ManualClock clock(7'000 * kSecond);
  TempConfig file("blocked-shutdown");
  // The output never flushes before shutdown and holds 10 metrics; each gather is larger than
  // the channel, so the third one blocks its input until the pipeline drains.
  file.write(
      "agent: {interval: 1s, flush_interval: 1h, omit_hostname: true, shutdown_timeout: 1s,"
      " metric_buffer_limit: 10}\n"
      "inputs:\n  - gen: {count: 20000, collection_offset: 500ms}\n"
      "outputs:\n  - recorder: {name: blocked-shutdown, when_full: block}\n");
  Agent agent(file.load(), clock);
  agent.start();
  auto output = agent.pipeline().outputs()[0];
  for (uint64_t i = 1; i <= 3; ++i) {
    REQUIRE(settle(clock, 2));  // the input and the output
    clock.advance(kSecond);
    REQUIRE(eventually([&] {
      return agent.pipeline().inputs()[0]->stats().metrics_gathered == 20000 * i;
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the third push blocks
  auto stopped = std::async(std::launch::async, [&] { agent.stop(); });
  REQUIRE(stopped.wait_for(std::chrono::seconds(20)) == std::future_status::ready);
  // What the buffer held is written at shutdown; the rest was dropped, oldest first, and counted.
  CHECK(recording("blocked-shutdown")->metric_count() == 10);
  CHECK(output->stats().metrics_dropped > 0);
}

TEST_CASE("drop_original: originals never reach the output, other metrics and the aggregate do") {
  ManualClock clock(5'000 * kSecond);
  TempConfig file("drop-original");
  // `gen` is aggregated and dropped; `other` is not selected (namepass) and passes. The lines
  // input sends one `gen` metric stamped long before any window: the aggregator selects it but
  // no window takes it (it is 4000 s older than the clock), and it is dropped all the same, as
  // Telegraf does.
  file.write(std::string(kAgent) +
             "inputs:\n"
             "  - gen: {count: 2, collection_offset: 500ms}\n"
             "  - gen: {count: 1, metric: other, collection_offset: 500ms}\n"
             "  - lines: {data_format: influx, text: \"gen,n=0 value=-1i 1000000000000\"}\n"
             "aggregators:\n"
             "  - count: {period: 10s, delay: 0s, drop_original: true, namepass: [gen]}\n"
             "outputs:\n  - recorder: {name: drop-original}\n");
  Agent agent(file.load(), clock);
  agent.start();
  const int kWaiters = 5;  // three inputs, the aggregation and the output
  auto& inputs = agent.pipeline().inputs();
  RunningAggregator& aggregator = *agent.pipeline().aggregators()[0];
  // Gathers at 5000.5 s .. 5009.5 s, inside the window [5000 s, 5010 s). The clock moves one
  // interval at a time, and only once every thread waits on it again, so no tick is skipped.
  for (uint64_t i = 1; i <= 10; ++i) {
    REQUIRE(settle(clock, kWaiters));
    clock.advance(i == 1 ? kSecond / 2 : kSecond);
    REQUIRE(eventually([&] {
      return inputs[0]->stats().metrics_gathered == 2 * i &&
             inputs[1]->stats().metrics_gathered == i;
    }));
  }
  // The processing thread does not wait on the clock, so nothing above waited for it. The
  // window is made due only once it has handed on every gathered metric: the aggregator has
  // every `gen` metric (the one from long ago counted as dropped), the output every `other`.
  // Made due earlier, the window would be pushed without the last gather, whose metrics would
  // then be too late (counted, and dropped too as originals).
  auto output = agent.pipeline().outputs()[0];
  REQUIRE(eventually([&] {
    return aggregator.stats().metrics_in == 20 && aggregator.stats().metrics_dropped == 1 &&
           output->stats().metrics_written + output->buffered() == 10;
  }));
  REQUIRE(settle(clock, kWaiters));
  clock.advance(kSecond / 2);  // 5010 s: the window is due
  REQUIRE(eventually([&] { return aggregator.stats().metrics_out == 2; }));
  REQUIRE(settle(clock, kWaiters));
  clock.advance(kSecond);  // a flush
  auto recorded = recording("drop-original");
  auto count_named = [&](const std::string& name) {
    std::lock_guard lock(recorded->mutex);
    size_t n = 0;
    for (const auto& batch : recorded->writes) {
      for (const auto& m : batch) n += m.name() == name;
    }
    return n;
  };
  REQUIRE(eventually([&] { return count_named("count") == 2 && count_named("other") >= 10; }));
  agent.stop();

  CHECK(count_named("gen") == 0);
  std::vector<int64_t> others, counts;
  {
    std::lock_guard lock(recorded->mutex);
    for (const auto& batch : recorded->writes) {
      for (const auto& m : batch) {
        int64_t value = std::get<int64_t>(*m.field("value"));
        if (m.name() == "other") others.push_back(value);
        if (m.name() == "count") counts.push_back(value);
      }
    }
  }
  // Every `other` metric, in order; the first window counted 10 gathers of each `gen` series.
  REQUIRE(others.size() >= 10);
  for (size_t i = 0; i < others.size(); ++i) CHECK(others[i] == static_cast<int64_t>(i));
  REQUIRE(counts.size() >= 2);
  CHECK(counts[0] == 10);
  CHECK(counts[1] == 10);
}

namespace {

// Runs `gathers` gathers of a gen input (count: 2) into a count aggregator with 1 h windows and
// stops the agent, which pushes the open window. Returns what the recorder `name` got.
std::shared_ptr<sluice::testing::Recording> run_until_shutdown(const std::string& name,
                                                               const std::string& agent_extra,
                                                               uint64_t gathers) {
  ManualClock clock(3'600 * 10 * kSecond);  // a multiple of the hour
  TempConfig file(name);
  // The second tag processor selects only aggregates (namepass), so it shows whether they went
  // through the processors a second time.
  file.write("agent: {interval: 1s, flush_interval: 1h, omit_hostname: true, shutdown_timeout: 5s" +
             agent_extra +
             "}\n"
             "inputs:\n  - gen: {count: 2, collection_offset: 500ms}\n"
             "processors:\n  - tag: {key: stage, value: processed}\n"
             "  - tag: {key: again, value: yes, namepass: [count]}\n"
             "aggregators:\n  - count: {period: 1h, delay: 0s}\n"
             "outputs:\n  - recorder: {name: " +
             name + ", namepass: [count]}\n");
  Agent agent(file.load(), clock);
  agent.start();
  for (uint64_t i = 1; i <= gathers; ++i) {
    REQUIRE(settle(clock, 3));  // the input, the aggregation and the output
    clock.advance(i == 1 ? kSecond / 2 : kSecond);
    REQUIRE(eventually(
        [&] { return agent.pipeline().inputs()[0]->stats().metrics_gathered == 2 * i; }));
  }
  RunningAggregator& aggregator = *agent.pipeline().aggregators()[0];
  REQUIRE(eventually([&] { return aggregator.stats().metrics_in == 2 * gathers; }));
  CHECK(recording(name)->metric_count() == 0);  // the window is an hour long
  agent.stop();
  return recording(name);
}

}  // namespace

TEST_CASE("shutdown pushes the open aggregation window, through the processors a second time") {
  auto recorded = run_until_shutdown("shutdown-push", "", 3);
  CHECK(recorded->values() == std::vector<int64_t>{3, 3});  // series n=0 and n=1
  std::lock_guard lock(recorded->mutex);
  for (const auto& batch : recorded->writes) {
    for (const auto& m : batch) {
      CHECK(m.tag("stage") == "processed");
      CHECK(m.tag("again") == "yes");
    }
  }
}

TEST_CASE("skip_processors_after_aggregators: aggregates go straight to the outputs") {
  auto recorded =
      run_until_shutdown("skip-second-pass", ", skip_processors_after_aggregators: true", 2);
  CHECK(recorded->values() == std::vector<int64_t>{2, 2});
  std::lock_guard lock(recorded->mutex);
  for (const auto& batch : recorded->writes) {
    for (const auto& m : batch) {
      CHECK(m.tag("stage") == "processed");  // from the originals, processed once
      CHECK_FALSE(m.has_tag("again"));
    }
  }
}
