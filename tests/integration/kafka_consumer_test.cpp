// The kafka_consumer input against librdkafka's mock cluster (tests/tools/kafka_mock_cluster,
// real TCP listeners on 127.0.0.1), fed by kcat -P as an independent producer. The group's
// committed offsets are read back with a librdkafka handle of the test's own, to prove that an
// offset is committed only once the outputs have written its message; the real sluice binary,
// killed with SIGKILL between reading and writing, proves that nothing read is lost.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/delivery.hpp"
#include "support/kafka_consumer_agent.hpp"
#include "support/kafka_mock.hpp"
#include "support/kafka_offsets.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/test_plugins.hpp"

using namespace std::chrono_literals;
using sluice::DeliveryGroup;
using sluice::Metric;
using sluice::testing::committed_offsets;
using sluice::testing::consumer;
using sluice::testing::ConsumerAgent;
using sluice::testing::eventually;
using sluice::testing::KafkaMockCluster;
using sluice::testing::kcat_produce;
using sluice::testing::kNoOffset;
using sluice::testing::recording;

namespace {

const std::string kMockCluster = SLUICE_KAFKA_MOCK_CLUSTER;

// Messages "<name>,p=<partition> seq=<i>i" for i in [first, first + count).
std::vector<std::string> lines(const std::string& name, int partition, int first, int count) {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) {
    out.push_back(name + ",p=" + std::to_string(partition) + " seq=" + std::to_string(i) + "i");
  }
  return out;
}

std::multiset<int64_t> seqs(const std::shared_ptr<sluice::testing::Recording>& rec) {
  auto values = rec->values("seq");
  return {values.begin(), values.end()};
}

std::set<int64_t> range_set(int64_t first, int64_t count) {
  std::set<int64_t> out;
  for (int64_t i = first; i < first + count; ++i) out.insert(i);
  return out;
}

// Samples the delivery groups in flight (above `base`) on a thread of its own until it goes,
// keeping the most seen.
class InFlightSampler {
 public:
  explicit InFlightSampler(int64_t base)
      : thread_([this, base] {
          while (running_) {
            int64_t now = DeliveryGroup::groups_in_flight() - base;
            if (now > most_) most_ = now;
            std::this_thread::sleep_for(200us);
          }
        }) {}
  ~InFlightSampler() {
    running_ = false;
    thread_.join();
  }
  int64_t most() const { return most_; }

 private:
  std::atomic<bool> running_{true};
  std::atomic<int64_t> most_{0};
  std::thread thread_;
};

bool skip_without_kcat() {
  if (sluice::testing::kcat_available()) return false;
  MESSAGE("kcat is not installed (Debian package kcat); skipped");
  return true;
}

}  // namespace

TEST_CASE("kafka_consumer: influx messages from several partitions arrive with the topic tag") {
  if (skip_without_kcat()) return;
  int64_t groups_before = DeliveryGroup::groups_in_flight();
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic metrics 3") == "ok");
  for (int p = 0; p < 3; ++p)
    REQUIRE(kcat_produce(cluster.bootstrap(), "metrics", p, lines("m", p, p * 10, 10)) == 0);
  // One message may carry several lines.
  REQUIRE(kcat_produce(cluster.bootstrap(), "metrics", 1, {"m,p=1 seq=100i\nm,p=1 seq=101i"}) == 0);
  auto rec = recording("kc-influx");
  {
    ConsumerAgent agent(consumer(cluster,
                                 "topics: [metrics], topic_tag: topic, "
                                 "consumer_group: influx-group"),
                        "kc-influx");
    REQUIRE(eventually([&] { return rec->metric_count() >= 32; }, 30));
    std::set<int64_t> want = range_set(0, 30);
    want.insert({100, 101});
    auto got = seqs(rec);
    CHECK(std::set<int64_t>(got.begin(), got.end()) == want);
    CHECK(got.size() == 32);
    std::lock_guard lock(rec->mutex);
    std::set<std::string> partitions;
    for (const auto& batch : rec->writes) {
      for (const Metric& m : batch) {
        CHECK(m.name() == "m");
        REQUIRE(m.has_tag("topic"));
        CHECK(*m.tag("topic") == "metrics");
        partitions.insert(std::string(*m.tag("p")));
      }
    }
    CHECK(partitions == std::set<std::string>{"0", "1", "2"});
  }
  CHECK(DeliveryGroup::groups_in_flight() == groups_before);
  // Everything was written, so the group committed the end of every partition.
  CHECK(committed_offsets(cluster.bootstrap(), "influx-group", "metrics", 3) ==
        std::vector<int64_t>{10, 11, 10});
}

TEST_CASE("kafka_consumer: json messages are parsed with the json data format") {
  if (skip_without_kcat()) return;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic readings 2") == "ok");
  REQUIRE(kcat_produce(cluster.bootstrap(), "readings", 0,
                       {R"({"host": "h1", "seq": 1, "temp": 21.5})",
                        R"({"host": "h2", "seq": 2, "temp": 22})"}) == 0);
  REQUIRE(kcat_produce(
              cluster.bootstrap(), "readings", 1,
              {R"([{"host": "h3", "seq": 3, "temp": 1}, {"host": "h4", "seq": 4, "temp": 2}])"}) ==
          0);
  auto rec = recording("kc-json");
  ConsumerAgent agent(consumer(cluster,
                               "topics: [readings], consumer_group: json-group, data_format: json, "
                               "json_measurement_name: weather, json_object_tag_keys: [host]"),
                      "kc-json");
  REQUIRE(eventually([&] { return rec->metric_count() >= 4; }, 30));
  auto got = seqs(rec);
  CHECK(got == std::multiset<int64_t>{1, 2, 3, 4});
  std::lock_guard lock(rec->mutex);
  std::set<std::string> hosts;
  for (const auto& batch : rec->writes) {
    for (const Metric& m : batch) {
      CHECK(m.name() == "weather");
      CHECK_FALSE(m.has_tag("topic"));  // no topic_tag
      if (m.has_tag("host")) hosts.insert(std::string(*m.tag("host")));
    }
  }
  CHECK(hosts == std::set<std::string>{"h1", "h2", "h3", "h4"});
}

TEST_CASE("kafka_consumer: topic_regexps subscribe to every matching topic, and only those") {
  if (skip_without_kcat()) return;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  const std::vector<std::string> topics = {"regex-a", "regex-b", "x-alpha-y", "other"};
  for (size_t i = 0; i < topics.size(); ++i) {
    REQUIRE(cluster.command("topic " + topics[i] + " 2") == "ok");
    REQUIRE(kcat_produce(cluster.bootstrap(), topics[i], static_cast<int>(i % 2),
                         lines("t", 0, static_cast<int>(i) * 10, 3)) == 0);
  }
  auto rec = recording("kc-regex");
  ConsumerAgent agent(consumer(cluster,
                               "topic_regexps: [\"^regex-.*\", alpha], topic_tag: topic, "
                               "consumer_group: regex-group"),
                      "kc-regex");
  REQUIRE(eventually([&] { return rec->metric_count() >= 9; }, 30));
  std::this_thread::sleep_for(1s);  // time for anything of "other" to show up, wrongly
  auto got = seqs(rec);
  std::multiset<int64_t> want = {0, 1, 2, 10, 11, 12, 20, 21, 22};
  CHECK(got == want);
  std::lock_guard lock(rec->mutex);
  std::set<std::string> seen;
  for (const auto& batch : rec->writes) {
    for (const Metric& m : batch) seen.insert(std::string(*m.tag("topic")));
  }
  CHECK(seen == std::set<std::string>{"regex-a", "regex-b", "x-alpha-y"});
}

TEST_CASE("kafka_consumer: offset oldest reads what came before, newest only what comes after") {
  if (skip_without_kcat()) return;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic history 1") == "ok");
  REQUIRE(kcat_produce(cluster.bootstrap(), "history", 0, lines("old", 0, 0, 5)) == 0);

  auto newest = recording("kc-newest");
  {
    ConsumerAgent agent(
        consumer(cluster, "topics: [history], offset: newest, consumer_group: newest-group"),
        "kc-newest");
    // The group joins at some point: produce until one message made after it arrives.
    int next = 100;
    bool arrived = eventually(
        [&] {
          REQUIRE(kcat_produce(cluster.bootstrap(), "history", 0, lines("new", 0, next++, 1)) == 0);
          return eventually([&] { return newest->metric_count() > 0; }, 0.5);
        },
        30);
    REQUIRE(arrived);
    std::this_thread::sleep_for(500ms);
    for (int64_t seq : seqs(newest)) CHECK(seq >= 100);  // nothing from before it joined
  }

  auto oldest = recording("kc-oldest");
  ConsumerAgent agent(consumer(cluster, "topics: [history], consumer_group: oldest-group"),
                      "kc-oldest");
  REQUIRE(eventually([&] { return oldest->metric_count() >= 5; }, 30));
  auto got = seqs(oldest);
  for (int64_t seq = 0; seq < 5; ++seq) CHECK(got.count(seq) == 1);
}

TEST_CASE("kafka_consumer: offsets are committed only after the output has written") {
  if (skip_without_kcat()) return;
  int64_t groups_before = DeliveryGroup::groups_in_flight();
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic held 2") == "ok");
  REQUIRE(kcat_produce(cluster.bootstrap(), "held", 0, lines("h", 0, 0, 5)) == 0);
  REQUIRE(kcat_produce(cluster.bootstrap(), "held", 1, lines("h", 1, 5, 7)) == 0);
  auto rec = recording("kc-held");
  {
    // The output writes only when told (flush_interval 1h, batches of 1000).
    ConsumerAgent agent(consumer(cluster, "topics: [held], consumer_group: held-group"), "kc-held",
                        "flush_interval: 1h");
    // All 12 messages read: each is a delivery group held by the output's buffer.
    REQUIRE(
        eventually([&] { return DeliveryGroup::groups_in_flight() == groups_before + 12; }, 30));
    // librdkafka commits every second: three chances to commit what it must not.
    std::this_thread::sleep_for(3s);
    CHECK(rec->metric_count() == 0);
    CHECK(committed_offsets(cluster.bootstrap(), "held-group", "held", 2) ==
          std::vector<int64_t>{kNoOffset, kNoOffset});

    // Flushed until the write has all 12 (a message read reaches the buffer a moment later).
    REQUIRE(eventually(
        [&] {
          agent.flush();
          return eventually([&] { return rec->metric_count() == 12; }, 0.2);
        },
        20));
    CHECK(eventually([&] { return DeliveryGroup::groups_in_flight() == groups_before; }, 10));
    std::vector<int64_t> committed;
    CHECK(eventually(
        [&] {
          committed = committed_offsets(cluster.bootstrap(), "held-group", "held", 2);
          return committed == std::vector<int64_t>{5, 7};
        },
        10));
    INFO("committed: " << (committed.empty() ? -2 : committed[0]) << ", "
                       << (committed.size() < 2 ? -2 : committed[1]));
    CHECK(seqs(rec) == std::multiset<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  }
  CHECK(DeliveryGroup::groups_in_flight() == groups_before);
}

TEST_CASE("kafka_consumer: max_undelivered_messages pauses reading until the output writes") {
  if (skip_without_kcat()) return;
  constexpr int kLimit = 4, kPerPartition = 15;
  int64_t groups_before = DeliveryGroup::groups_in_flight();
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic paced 2") == "ok");
  REQUIRE(kcat_produce(cluster.bootstrap(), "paced", 0, lines("p", 0, 0, kPerPartition)) == 0);
  REQUIRE(kcat_produce(cluster.bootstrap(), "paced", 1,
                       lines("p", 1, kPerPartition, kPerPartition)) == 0);
  auto rec = recording("kc-paced");
  // Samples the messages in flight the whole time, to catch any moment above the limit.
  InFlightSampler sampler(groups_before);
  {
    ConsumerAgent agent(consumer(cluster,
                                 "topics: [paced], consumer_group: paced-group, "
                                 "max_undelivered_messages: " +
                                     std::to_string(kLimit)),
                        "kc-paced", "flush_interval: 1h");
    REQUIRE(eventually([&] { return DeliveryGroup::groups_in_flight() == groups_before + kLimit; },
                       30));
    // Paused: the rest waits in Kafka while the output holds these.
    std::this_thread::sleep_for(1500ms);
    CHECK(DeliveryGroup::groups_in_flight() == groups_before + kLimit);
    CHECK(rec->metric_count() == 0);
    CHECK(agent.input_stats().metrics_gathered == kLimit);

    // Each write frees the consumer to read up to the limit again. A message read is in the
    // output's buffer a moment later: flush until a write takes something.
    for (int i = 0; i < 2 * kPerPartition && rec->metric_count() < 2 * kPerPartition; ++i) {
      size_t written = rec->metric_count();
      REQUIRE(eventually(
          [&] {
            agent.flush();
            return eventually([&] { return rec->metric_count() > written; }, 0.2);
          },
          20));
    }
    auto got = seqs(rec);
    CHECK(std::set<int64_t>(got.begin(), got.end()) == range_set(0, 2 * kPerPartition));
    CHECK(got.size() == 2 * kPerPartition);
    {
      // No write ever had more than the limit to take.
      std::lock_guard lock(rec->mutex);
      CHECK(rec->writes.size() >= 2 * kPerPartition / kLimit);
      for (const auto& batch : rec->writes) CHECK(batch.size() <= static_cast<size_t>(kLimit));
    }
    CHECK(eventually(
        [&] {
          return committed_offsets(cluster.bootstrap(), "paced-group", "paced", 2) ==
                 std::vector<int64_t>{kPerPartition, kPerPartition};
        },
        10));
  }
  CHECK(sampler.most() <= kLimit);
  MESSAGE("most messages in flight at once: " << sampler.most());
  CHECK(DeliveryGroup::groups_in_flight() == groups_before);
}

TEST_CASE("kafka_consumer: malformed and over-long messages are rejected, the rest goes on") {
  if (skip_without_kcat()) return;
  int64_t groups_before = DeliveryGroup::groups_in_flight();
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic mixed 1") == "ok");
  std::string long_line = "ok,pad=" + std::string(2000, 'x') + " seq=4i";
  REQUIRE(kcat_produce(cluster.bootstrap(), "mixed", 0,
                       {"ok seq=1i", "this is not line protocol",
                        "ok seq=2i\nbroken line\nok seq=3i", long_line, "ok seq=5i"}) == 0);
  auto rec = recording("kc-mixed");
  {
    ConsumerAgent agent(
        consumer(cluster, "topics: [mixed], consumer_group: mixed-group, max_message_len: 1000"),
        "kc-mixed");
    REQUIRE(eventually([&] { return rec->metric_count() >= 4; }, 30));
    CHECK(seqs(rec) == std::multiset<int64_t>{1, 2, 3, 5});
    // The bad message, the bad line of the third, and the long message.
    CHECK(eventually([&] { return agent.input_stats().metrics_rejected == 3; }, 5));
    // Rejected messages count as delivered: the offset passes all five.
    CHECK(eventually(
        [&] {
          return committed_offsets(cluster.bootstrap(), "mixed-group", "mixed", 1) ==
                 std::vector<int64_t>{5};
        },
        10));
  }
  CHECK(DeliveryGroup::groups_in_flight() == groups_before);
}

TEST_CASE("kafka_consumer: sluice killed between reading and writing loses nothing") {
  if (skip_without_kcat()) return;
  constexpr int kPerPartition = 20, kTotal = 2 * kPerPartition;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic crash 2") == "ok");
  REQUIRE(kcat_produce(cluster.bootstrap(), "crash", 0, lines("c", 0, 0, kPerPartition)) == 0);
  REQUIRE(kcat_produce(cluster.bootstrap(), "crash", 1,
                       lines("c", 1, kPerPartition, kPerPartition)) == 0);

  sluice::testing::TempDir dir("kafka-consumer-crash");
  std::filesystem::path out = dir.path() / "metrics.out";
  auto write_config = [&](const std::string& flush_interval) {
    std::ofstream(dir.path() / "sluice.yaml")
        << "agent: {flush_interval: " << flush_interval << ", omit_hostname: true}\n"
        << "inputs:\n  - kafka_consumer: {brokers: [\"" << cluster.bootstrap()
        << "\"], topics: [crash], consumer_group: crash-group, max_undelivered_messages: " << kTotal
        << ", session_timeout: 3s, heartbeat_interval: 500ms}\n"
        << "outputs:\n  - file: {files: [\"" << out.string() << "\"]}\n";
  };
  auto start = [&](const std::string& log) {
    return std::make_unique<sluice::testing::BackgroundProcess>(
        std::string(SLUICE_BINARY) + " run --log-level debug --config " +
        (dir.path() / "sluice.yaml").string() + " 2> " + (dir.path() / log).string());
  };
  auto log_has = [&](const std::string& log, const std::string& text) {
    return sluice::testing::read_text(dir.path() / log).find(text) != std::string::npos;
  };

  // First run: the file output would write in an hour. The consumer reads all messages and
  // pauses (max_undelivered_messages reached): everything is read, nothing written.
  write_config("1h");
  {
    auto agent = start("first.log");
    REQUIRE(agent->started());
    bool read_all = eventually(
        [&] { return log_has("first.log", "paused: " + std::to_string(kTotal) + " messages"); },
        30);
    if (!read_all) MESSAGE(sluice::testing::read_text(dir.path() / "first.log"));
    REQUIRE(read_all);
    std::this_thread::sleep_for(2500ms);  // librdkafka's auto commit would have run twice
    agent->signal(SIGKILL);
    CHECK(agent->wait_exit(10) == 128 + SIGKILL);
  }
  CHECK(sluice::testing::read_text(out).empty());
  CHECK(committed_offsets(cluster.bootstrap(), "crash-group", "crash", 2) ==
        std::vector<int64_t>{kNoOffset, kNoOffset});

  // Second run, same group: it reads everything again and writes it.
  write_config("200ms");
  auto agent = start("second.log");
  REQUIRE(agent->started());
  std::multiset<int64_t> got;
  auto read_out = [&] {
    got.clear();
    std::istringstream in(sluice::testing::read_text(out));
    for (std::string line; std::getline(in, line);) {
      size_t at = line.find("seq=");
      if (at != std::string::npos) got.insert(std::stoll(line.substr(at + 4)));
    }
    return std::set<int64_t>(got.begin(), got.end()).size() == kTotal;
  };
  bool all = eventually(read_out, 60);
  if (!all) MESSAGE(sluice::testing::read_text(dir.path() / "second.log"));
  CHECK(all);
  CHECK(eventually(
      [&] {
        return committed_offsets(cluster.bootstrap(), "crash-group", "crash", 2) ==
               std::vector<int64_t>{kPerPartition, kPerPartition};
      },
      10));
  agent->signal(SIGTERM);
  CHECK(agent->wait_exit(20) == 0);
  read_out();
  CHECK(std::set<int64_t>(got.begin(), got.end()) == range_set(0, kTotal));
  CHECK(got.size() >= static_cast<size_t>(kTotal));  // duplicates allowed, losses not
  MESSAGE((got.size() - kTotal) << " duplicates after the restart");
}

// Duplicates are expected with range: librdkafka's mock cluster refuses the commit a member
// makes while its partitions are revoked ("Group rebalance in progress"; Kafka itself accepts
// it while the group prepares the rebalance), so what was stored since the last auto commit
// is read again by the next owner.
TEST_CASE("kafka_consumer: members of a group share partitions and hand them over without loss") {
  if (skip_without_kcat()) return;
  for (const std::string strategy : {"range", "sticky"}) {
    INFO("balance_strategy " << strategy);
    int64_t groups_before = DeliveryGroup::groups_in_flight();
    KafkaMockCluster cluster(kMockCluster, 1);
    REQUIRE(cluster.started());
    REQUIRE(cluster.command("topic shared 4") == "ok");
    auto produce_round = [&](int first) {
      for (int p = 0; p < 4; ++p) {
        REQUIRE(kcat_produce(cluster.bootstrap(), "shared", p, lines("s", p, first + p * 10, 10)) ==
                0);
      }
    };
    auto a = recording("kc-share-a-" + strategy);
    auto b = recording("kc-share-b-" + strategy);
    auto distinct = [&] {
      auto sa = seqs(a), sb = seqs(b);
      std::set<int64_t> all(sa.begin(), sa.end());
      all.insert(sb.begin(), sb.end());
      return all;
    };
    const std::string options = "topics: [shared], consumer_group: share-" + strategy +
                                ", balance_strategy: " + strategy +
                                ", session_timeout: 6s, heartbeat_interval: 500ms";
    produce_round(0);
    auto first =
        std::make_unique<ConsumerAgent>(consumer(cluster, options), "kc-share-a-" + strategy);
    REQUIRE(eventually([&] { return distinct().size() == 40; }, 30));

    // A second member joins: the partitions are shared between the two.
    ConsumerAgent second(consumer(cluster, options), "kc-share-b-" + strategy);
    // It joins at some point: produce a round a second until it has read something.
    int round = 0;
    bool shared = eventually(
        [&] {
          produce_round(1000 + 100 * round++);
          return eventually([&] { return b->metric_count() > 0; }, 1);
        },
        30);
    REQUIRE(shared);
    // Both are members now: a round is read partly by each.
    const std::set<int64_t> shared_round = range_set(50'000, 40);
    produce_round(50'000);
    REQUIRE(eventually(
        [&] {
          auto all = distinct();
          return std::includes(all.begin(), all.end(), shared_round.begin(), shared_round.end());
        },
        30));
    auto read_of_round = [&](const std::shared_ptr<sluice::testing::Recording>& rec) {
      auto got = seqs(rec);
      return std::count_if(got.begin(), got.end(),
                           [&](int64_t s) { return shared_round.count(s) == 1; });
    };
    CHECK(read_of_round(a) > 0);
    CHECK(read_of_round(b) > 0);

    // The first leaves (writing what it holds): the second takes every partition, from what
    // the first committed.
    first.reset();
    size_t a_total = a->metric_count();
    size_t b_before = b->metric_count();
    produce_round(100'000);
    const std::set<int64_t> last_round = range_set(100'000, 40);
    REQUIRE(eventually(
        [&] {
          auto all = distinct();
          return std::includes(all.begin(), all.end(), last_round.begin(), last_round.end());
        },
        30));
    CHECK(b->metric_count() >= b_before + 40);
    CHECK(a->metric_count() == a_total);
    auto all = distinct();
    for (int64_t s = 0; s < 40; ++s) CHECK(all.count(s) == 1);
    for (int r = 0; r < round; ++r) {
      for (int64_t s = 1000 + 100 * r; s < 1040 + 100 * r; ++s) CHECK(all.count(s) == 1);
    }
    MESSAGE(strategy << ": " << a->metric_count() + b->metric_count() << " metrics written for "
                     << all.size() << " distinct");
    CHECK(eventually([&] { return DeliveryGroup::groups_in_flight() == groups_before; }, 10));
  }
}
