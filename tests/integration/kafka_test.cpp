// The kafka output against librdkafka's mock cluster (tests/tools/kafka_mock_cluster, real TCP
// listeners on 127.0.0.1), read back with kcat as an independent consumer: topics, keys and
// payloads compared byte for byte. The mock cluster's fault injection (brokers down, failing
// Produce requests) proves the retry paths.
//
// On duplicates: a batch with any undelivered message is written again whole (at-least-once),
// so the outage tests count distinct metrics (by their seq field), not messages.
#include <doctest/doctest.h>

#include <set>
#include <thread>

#include "config/config.hpp"
#include "support/output_pipeline.hpp"
#include "support/kafka_mock.hpp"
#include "support/test_plugins.hpp"

using namespace std::chrono_literals;
using sluice::Batch;
using sluice::Metric;
using sluice::pipeline::Pipeline;
using sluice::pipeline::SystemClock;
using sluice::testing::eventually;
using sluice::testing::KafkaMockCluster;
using sluice::testing::KafkaRecord;
using sluice::testing::kcat_read;

namespace {

constexpr int64_t kBaseTime = 1'700'000'000'000'000'000;
const std::string kMockCluster = SLUICE_KAFKA_MOCK_CLUSTER;

// A pipeline built from YAML, started; stopped (with a short last flush) when it goes.
using Agent = sluice::testing::OutputPipeline;

std::string output(const KafkaMockCluster& cluster, const std::string& extra) {
  return "  - kafka: {brokers: [\"" + cluster.bootstrap() +
         "\"], timeout: 2s, retry_initial_backoff: 100ms, retry_max_backoff: 500ms" + extra + "}\n";
}

// `count` metrics "load" with seq = first.., each at its own microsecond.
Batch sequence(int64_t first, int64_t count) {
  Batch batch;
  for (int64_t i = first; i < first + count; ++i) {
    Metric m("load", kBaseTime + i * 1000);
    m.set_tag("host", "h" + std::to_string(i % 3));
    m.set_field("seq", i);
    batch.push_back(std::move(m));
  }
  return batch;
}

std::set<int64_t> distinct_seqs(const std::vector<KafkaRecord>& records) {
  std::set<int64_t> seqs;
  for (const KafkaRecord& r : records) {
    size_t at = r.value.find("seq=");
    if (at != std::string::npos) seqs.insert(std::stoll(r.value.substr(at + 4)));
  }
  return seqs;
}

bool skip_without_kcat() {
  if (sluice::testing::kcat_available()) return false;
  MESSAGE("kcat is not installed (Debian package kcat); skipped");
  return true;
}

}  // namespace

TEST_CASE("kafka: payloads, keys from routing_tag and topics from topic_tag, read with kcat") {
  if (skip_without_kcat()) return;
  KafkaMockCluster cluster(kMockCluster, 3);
  REQUIRE(cluster.started());
  {
    Agent agent(output(cluster,
                       ", topic: metrics, topic_tag: dest, exclude_topic_tag: true,"
                       " routing_tag: host"));
    Batch batch;
    Metric a("cpu", kBaseTime);
    a.set_tag("host", "h1");
    a.set_field("usage", 1.5);
    a.set_field("note", std::string("two words, \"quoted\""));
    batch.push_back(a);
    Metric b("cpu", kBaseTime + 1);
    b.set_tag("host", "h2");
    b.set_tag("dest", "alerts");
    b.set_field("value", int64_t{2});
    batch.push_back(b);
    Metric c("mem", kBaseTime + 2);  // no host tag: no key
    c.set_field("free", int64_t{3});
    c.set_field("ok", true);
    batch.push_back(c);
    agent.send(batch);
    REQUIRE(eventually([&] { return agent.stats().metrics_written == 3; }, 20));
  }
  std::string raw_metrics, raw_alerts;
  auto got = kcat_read(cluster.bootstrap(), "metrics", &raw_metrics);
  auto alerts = kcat_read(cluster.bootstrap(), "alerts", &raw_alerts);
  got.insert(got.end(), alerts.begin(), alerts.end());
  std::sort(got.begin(), got.end());
  std::vector<KafkaRecord> want = {
      {"alerts", "h2", "cpu,host=h2 value=2i 1700000000000000001\n"},
      {"metrics", "h1",
       "cpu,host=h1 usage=1.5,note=\"two words, \\\"quoted\\\"\" 1700000000000000000\n"},
      {"metrics", std::nullopt, "mem free=3i,ok=true 1700000000000000002\n"},
  };
  std::sort(want.begin(), want.end());
  CHECK(got == want);
  if (got != want) MESSAGE("kcat printed: " << raw_metrics << raw_alerts);
}

TEST_CASE("kafka: random and fixed routing keys, every compression codec reads back") {
  if (skip_without_kcat()) return;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  {
    Agent agent(output(cluster, ", topic: random, routing_key: random"));
    agent.send(sequence(0, 20));
    REQUIRE(eventually([&] { return agent.stats().metrics_written == 20; }, 20));
  }
  auto records = kcat_read(cluster.bootstrap(), "random");
  REQUIRE(records.size() == 20);
  std::set<std::string> keys;
  for (const KafkaRecord& r : records) {
    REQUIRE(r.key.has_value());
    CHECK(r.key->size() == 36);
    CHECK((*r.key)[14] == '4');  // a version 4 UUID
    keys.insert(*r.key);
  }
  CHECK(keys.size() == 20);

  for (const std::string codec : {"none", "1", "snappy", "3", "zstd"}) {
    INFO("compression_codec " << codec);
    std::string topic = "codec-" + codec;
    {
      Agent agent(output(
          cluster, ", topic: " + topic + ", routing_key: fixed, compression_codec: " + codec));
      agent.send(sequence(0, 50));
      REQUIRE(eventually([&] { return agent.stats().metrics_written == 50; }, 20));
    }
    auto back = kcat_read(cluster.bootstrap(), topic);
    REQUIRE(back.size() == 50);
    CHECK(distinct_seqs(back).size() == 50);
    for (const KafkaRecord& r : back) CHECK(r.key == "fixed");
    std::set<std::string> values;
    for (const KafkaRecord& r : back) values.insert(r.value);
    CHECK(values.count("load,host=h1 seq=7i 1700000000000007000\n") == 1);
  }
}

TEST_CASE("kafka: brokers down at start delay delivery but lose nothing") {
  if (skip_without_kcat()) return;
  constexpr int kCount = 300;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("down all") == "ok");
  Agent agent(output(cluster, ", topic: down"));
  agent.send(sequence(0, kCount));
  REQUIRE(eventually([&] { return agent.stats().retries >= 2; }, 30));
  CHECK(agent.stats().metrics_written == 0);
  REQUIRE(cluster.command("up all") == "ok");
  REQUIRE(eventually([&] { return agent.stats().metrics_written == kCount; }, 30));
  auto seqs = distinct_seqs(kcat_read(cluster.bootstrap(), "down"));
  CHECK(seqs.size() == kCount);
  CHECK(agent.stats().metrics_dropped == 0);
}

TEST_CASE("kafka: a broker down mid-run and back gets every metric (at-least-once)") {
  if (skip_without_kcat()) return;
  constexpr int kBatches = 20, kPerBatch = 50;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  Agent agent(output(cluster, ", topic: restart, routing_tag: host"));
  for (int b = 0; b < kBatches; ++b) {
    if (b == 6) {
      REQUIRE(eventually([&] { return agent.stats().metrics_written >= 6 * kPerBatch; }, 20));
      REQUIRE(cluster.command("down all") == "ok");
    }
    if (b == 14) {
      REQUIRE(eventually([&] { return agent.stats().retries >= 1; }, 20));
      CHECK(agent.stats().metrics_written < 14 * kPerBatch);
      REQUIRE(cluster.command("up all") == "ok");
    }
    agent.send(sequence(b * kPerBatch, kPerBatch));
    std::this_thread::sleep_for(50ms);
  }
  constexpr size_t kTotal = kBatches * kPerBatch;
  REQUIRE(eventually([&] { return agent.stats().metrics_written == kTotal; }, 60));
  auto records = kcat_read(cluster.bootstrap(), "restart");
  CHECK(distinct_seqs(records).size() == kTotal);
  CHECK(records.size() >= kTotal);  // duplicates allowed, losses not
  CHECK(agent.stats().metrics_dropped == 0);
  MESSAGE((records.size() - kTotal) << " duplicate messages after the outage");
}

TEST_CASE("kafka: an outage while batches are written ahead loses nothing") {
  if (skip_without_kcat()) return;
  constexpr int kCount = 20000;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  // Small batches: several are out at once when the brokers go away.
  Agent agent(output(cluster, ", topic: ahead, metric_batch_size: 100"));
  agent.send(sequence(0, kCount));
  REQUIRE(eventually([&] { return agent.stats().metrics_written >= 1000; }, 20));
  REQUIRE(cluster.command("down all") == "ok");
  REQUIRE(eventually([&] { return agent.stats().retries >= 1; }, 20));
  CHECK(agent.stats().metrics_written < kCount);
  REQUIRE(cluster.command("up all") == "ok");
  REQUIRE(eventually([&] { return agent.stats().metrics_written == kCount; }, 60));
  auto records = kcat_read(cluster.bootstrap(), "ahead");
  CHECK(distinct_seqs(records).size() == kCount);
  CHECK(records.size() >= kCount);  // duplicates allowed, losses not
  CHECK(agent.stats().metrics_dropped == 0);
  MESSAGE((records.size() - kCount) << " duplicate messages after the outage");
}

TEST_CASE("kafka: failing Produce requests are retried by the host without loss") {
  if (skip_without_kcat()) return;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  // max_retry 0: librdkafka gives up at once, so the failure reaches the output.
  Agent agent(output(cluster, ", topic: flaky, max_retry: 0"));
  agent.send(sequence(0, 10));  // creates the topic and proves the way is clear
  REQUIRE(eventually([&] { return agent.stats().metrics_written == 10; }, 20));
  // NOT_ENOUGH_REPLICAS (19): a transient error of the broker.
  REQUIRE(cluster.command("produce_errors 3 19") == "ok");
  agent.send(sequence(10, 90));
  REQUIRE(eventually([&] { return agent.stats().metrics_written == 100; }, 30));
  CHECK(agent.stats().retries >= 1);
  CHECK(agent.stats().metrics_rejected == 0);
  CHECK(distinct_seqs(kcat_read(cluster.bootstrap(), "flaky")).size() == 100);
}

TEST_CASE("kafka: messages too large are rejected alone, the rest of their batch is written") {
  if (skip_without_kcat()) return;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  {
    // Larger than max_message_bytes: found before anything is sent, the batch is split.
    Agent agent(output(cluster, ", topic: sizes, max_message_bytes: 1000"));
    Batch batch = sequence(0, 5);
    batch[2].set_field("blob", std::string(2000, 'x'));
    agent.send(batch);
    REQUIRE(eventually(
        [&] { return agent.stats().metrics_written == 4 && agent.stats().metrics_rejected == 1; },
        20));
  }
  auto records = kcat_read(cluster.bootstrap(), "sizes");
  CHECK(records.size() == 4);  // nothing sent twice
  CHECK(distinct_seqs(records) == std::set<int64_t>{0, 1, 3, 4});

  {
    // The broker refuses a message as too large (MSG_SIZE_TOO_LARGE, 10): permanent, so a
    // single metric is rejected, not retried; the next one goes through.
    Agent agent(output(cluster, ", topic: refused"));
    agent.send(sequence(0, 1));
    REQUIRE(eventually([&] { return agent.stats().metrics_written == 1; }, 20));
    REQUIRE(cluster.command("produce_errors 1 10") == "ok");
    agent.send(sequence(1, 1));
    REQUIRE(eventually([&] { return agent.stats().metrics_rejected == 1; }, 20));
    agent.send(sequence(2, 1));
    REQUIRE(eventually([&] { return agent.stats().metrics_written == 2; }, 20));
    CHECK(agent.stats().retries == 0);
  }
  CHECK(distinct_seqs(kcat_read(cluster.bootstrap(), "refused")) == std::set<int64_t>{0, 2});
}
