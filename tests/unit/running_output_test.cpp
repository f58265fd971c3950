#include <doctest/doctest.h>

#include "config/config.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/running_output.hpp"
#include "support/test_plugins.hpp"

using namespace sluice::pipeline;
using sluice::Batch;
using sluice::Metric;
using sluice::WriteResult;
using sluice::testing::eventually;
using sluice::testing::recording;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

sluice::config::Config output_config(const std::string& name, const std::string& extra = "") {
  return sluice::config::load_text("outputs:\n  - recorder: {name: " + name + extra + "}\n",
                                   "t.yaml", sluice::testing::test_registry());
}

SharedBatch values(int64_t first, int64_t count) {
  auto b = std::make_shared<Batch>();
  for (int64_t i = first; i < first + count; ++i) {
    Metric m("m", 1);
    m.set_field("value", i);
    b->push_back(std::move(m));
  }
  return b;
}

std::vector<int64_t> range(int64_t first, int64_t count) {
  std::vector<int64_t> v;
  for (int64_t i = first; i < first + count; ++i) v.push_back(i);
  return v;
}

OutputDefaults defaults(size_t batch, size_t limit) {
  return OutputDefaults{10 * kSecond, 0, batch, limit};
}

}  // namespace

TEST_CASE("a full batch is written at once, the rest waits for the flush interval") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("flush");
  auto config = output_config("flush");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(5, 100), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 7));
  REQUIRE(eventually([&] { return rec->metric_count() == 5; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(rec->metric_count() == 5);  // 2 left: not a full batch
  clock.advance(10 * kSecond);
  REQUIRE(eventually([&] { return rec->metric_count() == 7; }));
  CHECK(rec->values() == range(0, 7));
  CHECK(output->stats().metrics_written == 7);
  output->stop(clock.now() + kSecond);
  CHECK(rec->closes == 1);
}

TEST_CASE("a failed write keeps its metrics at the front and retries with back-off, in order") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("retry");
  rec->script(WriteResult::retry("server down"));
  rec->script(WriteResult::retry("still down", std::chrono::seconds(7)));
  auto config = output_config("retry", ", retry_initial_backoff: 1s, retry_max_backoff: 8s");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(4, 100), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 4));
  REQUIRE(eventually([&] { return output->stats().retries == 1; }));
  output->add(values(4, 4));  // arrives while backing off
  // Back-off: the first retry comes within 1 s (half fixed, half jitter), not sooner than 0.5 s.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(rec->attempts == 1);
  clock.advance(kSecond / 2 - 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(rec->attempts == 1);
  clock.advance(kSecond / 2 + 1);
  REQUIRE(eventually([&] { return output->stats().retries == 2; }));
  // The server asked for 7 s (Retry-After), more than the 2 s back-off.
  clock.advance(3 * kSecond);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(rec->attempts == 2);
  clock.advance(4 * kSecond);
  REQUIRE(eventually([&] { return rec->metric_count() == 8; }));
  CHECK(rec->values() == range(0, 8));
  CHECK(output->stats().retries == 2);
  CHECK(output->stats().metrics_written == 8);
  CHECK(output->stats().metrics_dropped == 0);
  output->stop(clock.now() + kSecond);
}

TEST_CASE("a rejected batch is dropped and counted, a split batch is written in halves") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("reject");
  rec->script(WriteResult::reject("bad data"));
  rec->script(WriteResult::split("too large"));
  auto config = output_config("reject");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(4, 100), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 4));
  REQUIRE(eventually([&] { return output->stats().metrics_rejected == 4; }));
  output->add(values(4, 4));
  REQUIRE(eventually([&] { return rec->metric_count() == 4; }));
  CHECK(rec->values() == range(4, 4));
  {
    std::lock_guard lock(rec->mutex);
    REQUIRE(rec->writes.size() == 2);  // two halves
    CHECK(rec->writes[0].size() == 2);
  }
  output->stop(clock.now() + kSecond);
}

TEST_CASE("buffer overflow drops the oldest and counts every dropped metric") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("overflow");
  rec->script(WriteResult::retry("down"));
  auto config = output_config("overflow", ", retry_initial_backoff: 1m");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(5, 10), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 5));
  REQUIRE(eventually([&] { return output->stats().retries == 1; }));
  for (int64_t i = 5; i < 25; i += 5) output->add(values(i, 5));  // 25 metrics into 10 places
  CHECK(output->stats().metrics_dropped == 15);
  CHECK(output->buffered() == 10);
  clock.advance(60 * kSecond);
  REQUIRE(eventually([&] { return rec->metric_count() == 10; }));
  CHECK(rec->values() == range(15, 10));
  output->stop(clock.now() + kSecond);
}

TEST_CASE("when_full: block holds the writer instead of dropping") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("block");
  rec->script(WriteResult::retry("down"));
  auto config = output_config("block", ", when_full: block, retry_initial_backoff: 1m");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(5, 10), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 10));
  REQUIRE(eventually([&] { return output->stats().retries == 1; }));
  std::atomic<bool> added{false};
  std::thread writer([&] {
    output->add(values(10, 5));
    added = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK_FALSE(added);
  clock.advance(60 * kSecond);  // the retry succeeds and makes room
  writer.join();
  CHECK(added);
  REQUIRE(eventually([&] { return rec->metric_count() == 15; }));
  CHECK(rec->values() == range(0, 15));
  CHECK(output->stats().metrics_dropped == 0);
  output->stop(clock.now() + kSecond);
}

TEST_CASE("stop writes everything held before closing") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("drain");
  auto config = output_config("drain");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(1000, 10000), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 3));
  output->add(values(3, 3));
  CHECK(output->stop(clock.now() + 5 * kSecond) == 0);
  CHECK(rec->values() == range(0, 6));
  CHECK(rec->closes == 1);
}

TEST_CASE("stop gives up at the deadline and reports what is left") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("deadline");
  for (int i = 0; i < 1000; ++i) rec->script(WriteResult::retry("down"));
  auto config = output_config("deadline", ", retry_initial_backoff: 1s");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(1000, 10000), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 3));
  std::thread advance([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    clock.advance(10 * kSecond);
  });
  CHECK(output->stop(clock.now() + 5 * kSecond) == 3);
  advance.join();
}

TEST_CASE("startup_error_behavior: error refuses to start, ignore runs without, retry waits") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("startup");
  rec->connect_error = "connection refused";
  auto pipeline_with = [&](const std::string& behavior) {
    auto config = output_config("startup", ", startup_error_behavior: " + behavior);
    return std::make_unique<Pipeline>(config, clock);
  };
  auto refusing = pipeline_with("error");
  CHECK_THROWS_WITH(refusing->start(),
                    "outputs.recorder: cannot connect at startup: connection refused "
                    "(startup_error_behavior: error)");

  auto ignoring = pipeline_with("ignore");
  ignoring->start();
  CHECK(ignoring->outputs().empty());
  ignoring->stop(clock.now());

  auto retrying = pipeline_with("retry");
  retrying->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  REQUIRE(retrying->outputs().size() == 1);
  SharedBatch three = values(0, 3);
  retrying->fan_out(Batch(three->begin(), three->end()));
  clock.advance(10 * kSecond);  // the flush: connect fails, back-off
  REQUIRE(eventually([&] { return retrying->outputs()[0]->stats().retries == 1; }));
  {
    std::lock_guard lock(rec->mutex);
    rec->connect_error.clear();
  }
  clock.advance(2 * kSecond);  // past the first back-off
  REQUIRE(eventually([&] { return rec->metric_count() == 3; }));
  retrying->stop(clock.now() + kSecond);
}

TEST_CASE("an output that writes ahead has several batches started at once, settled in order") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("ahead");
  auto config = output_config("ahead", ", in_flight: 3");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(4, 100), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 20));
  REQUIRE(eventually([&] { return output->stats().metrics_written == 20; }));
  CHECK(rec->values() == range(0, 20));
  // The first write connects and goes alone; the other four batches go three at a time.
  CHECK(rec->most_in_flight == 3);
  CHECK(output->buffered() == 0);
  output->stop(clock.now() + kSecond);
}

namespace {

std::vector<int64_t> concat(std::initializer_list<std::vector<int64_t>> parts) {
  std::vector<int64_t> all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

}  // namespace

TEST_CASE("writing ahead: after a failed batch the later ones are written again, in order") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("ahead-retry");
  rec->script(WriteResult::ok());                 // 0-3, written alone (it connects)
  rec->script(WriteResult::retry("server down"));  // 4-7, while 8-11 and 12-15 are out
  auto config = output_config("ahead-retry", ", in_flight: 3, retry_initial_backoff: 1s");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(4, 100), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 20));
  REQUIRE(eventually([&] { return output->stats().retries == 1; }));
  CHECK(output->stats().metrics_written == 4);
  CHECK(output->buffered() == 16);  // what was written ahead of the failure counts for nothing
  REQUIRE(sluice::testing::settle(clock, 1));
  clock.advance(2 * kSecond);
  REQUIRE(eventually([&] { return output->stats().metrics_written == 20; }));
  // 8-15 reached the server before the retry and again after it: at least once, in order.
  CHECK(rec->values() ==
        concat({range(0, 4), range(8, 8), range(4, 16)}));
  CHECK(output->buffered() == 0);
  output->stop(clock.now() + kSecond);
}

TEST_CASE("writing ahead: a batch to split is written in halves, then writing ahead goes on") {
  ManualClock clock(100 * kSecond);
  auto rec = recording("ahead-split");
  rec->script(WriteResult::ok());
  rec->script(WriteResult::split("too large"));  // 4-7
  auto config = output_config("ahead-split", ", in_flight: 3");
  auto output = std::make_shared<RunningOutput>(config.outputs[0], defaults(4, 100), clock);
  output->start();
  REQUIRE(sluice::testing::settle(clock, 1));
  output->add(values(0, 20));
  REQUIRE(eventually([&] { return output->stats().metrics_written == 20; }));
  CHECK(rec->values() == concat({range(0, 4), range(8, 8), range(4, 16)}));
  {
    std::lock_guard lock(rec->mutex);
    REQUIRE(rec->writes.size() == 8);
    CHECK(rec->writes[3].size() == 2);  // the halves of 4-7
    CHECK(rec->writes[4].size() == 2);
  }
  CHECK(output->stats().metrics_rejected == 0);
  output->stop(clock.now() + kSecond);
}
