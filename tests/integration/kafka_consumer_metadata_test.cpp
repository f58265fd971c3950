// What the kafka_consumer input takes from a Kafka message besides its payload, against
// librdkafka's mock cluster: header values as tags and as the metric name
// (msg_headers_as_tags, msg_header_as_metric_name), and the metrics' time (timestamp_source).
// Headers are produced with kcat -H; what kcat cannot set (a message's timestamp, header values
// that are empty or not UTF-8) with a librdkafka producer of the test's own.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/clock.hpp"
#include "support/kafka_consumer_agent.hpp"
#include "support/kafka_mock.hpp"
#include "support/kafka_produce.hpp"
#include "support/net.hpp"
#include "support/test_plugins.hpp"

using sluice::Metric;
using sluice::testing::consumer;
using sluice::testing::ConsumerAgent;
using sluice::testing::eventually;
using sluice::testing::kafka_produce;
using sluice::testing::KafkaMessage;
using sluice::testing::KafkaMockCluster;
using sluice::testing::kcat_produce;
using sluice::testing::recording;

namespace {

const std::string kMockCluster = SLUICE_KAFKA_MOCK_CLUSTER;

// The metrics written, by their field "seq".
std::map<int64_t, Metric> by_seq(const std::shared_ptr<sluice::testing::Recording>& rec) {
  std::lock_guard lock(rec->mutex);
  std::map<int64_t, Metric> out;
  for (const auto& batch : rec->writes) {
    for (const Metric& m : batch) {
      if (const auto* seq = m.field("seq")) out.emplace(std::get<int64_t>(*seq), m);
    }
  }
  return out;
}

std::string tag_or_none(const Metric& m, const std::string& key) {
  auto value = m.tag(key);
  return value ? std::string(*value) : "<none>";
}

int64_t wall_clock_ns() { return sluice::pipeline::SystemClock::instance().now(); }

bool skip_without_kcat() {
  if (sluice::testing::kcat_available()) return false;
  MESSAGE("kcat is not installed (Debian package kcat); skipped");
  return true;
}

}  // namespace

TEST_CASE("kafka_consumer: listed message headers become tags and one names the metric") {
  if (skip_without_kcat()) return;
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic headed 1") == "ok");
  // Two messages with headers, then one without.
  REQUIRE(kcat_produce(cluster.bootstrap(), "headed", 0,
                       {"cpu,host=a seq=1i", "cpu,host=b,region=parsed seq=2i"},
                       {"region=eu-west", "source=gateway 7", "unlisted=x", "measurement=gw_cpu",
                        "topic=not-the-topic"}) == 0);
  REQUIRE(kcat_produce(cluster.bootstrap(), "headed", 0, {"cpu,host=c seq=3i"}) == 0);
  auto rec = recording("kc-headers");
  ConsumerAgent agent(consumer(cluster,
                               "topics: [headed], consumer_group: headers-group, topic_tag: topic, "
                               "msg_headers_as_tags: [region, source, absent, topic], "
                               "msg_header_as_metric_name: measurement"),
                      "kc-headers");
  REQUIRE(eventually([&] { return rec->metric_count() >= 3; }, 30));
  auto got = by_seq(rec);
  REQUIRE(got.size() == 3);
  for (int64_t seq : {1, 2}) {
    INFO("seq " << seq);
    const Metric& m = got.at(seq);
    CHECK(m.name() == "gw_cpu");
    // A header's tag wins over the payload's tag of the same name.
    CHECK(tag_or_none(m, "region") == "eu-west");
    CHECK(tag_or_none(m, "source") == "gateway 7");
    CHECK(tag_or_none(m, "host") == (seq == 1 ? "a" : "b"));
    // The topic tag wins over a header of its name.
    CHECK(tag_or_none(m, "topic") == "headed");
    CHECK_FALSE(m.has_tag("unlisted"));
    CHECK_FALSE(m.has_tag("measurement"));
    CHECK_FALSE(m.has_tag("absent"));
    CHECK(m.tags().size() == 4);
  }
  // Without headers: the parser's name, no header tags.
  const Metric& plain = got.at(3);
  CHECK(plain.name() == "cpu");
  CHECK_FALSE(plain.has_tag("region"));
  CHECK_FALSE(plain.has_tag("source"));
  CHECK(tag_or_none(plain, "topic") == "headed");
}

TEST_CASE("kafka_consumer: empty or non-UTF-8 header values are left out, not the message") {
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic odd-headers 1") == "ok");
  const std::string not_utf8 = "\xff\xfe";
  const std::string truncated = "ab\xc3";  // a two-byte sequence cut short
  std::vector<KafkaMessage> messages = {
      {"m seq=1i", {{"region", not_utf8}, {"source", ""}, {"rack", "r1"}}, std::nullopt},
      {"m seq=2i", {{"name", truncated}, {"rack", "r2"}}, std::nullopt},
      {"m seq=3i", {{"name", ""}}, std::nullopt},
      // A repeated header: the last value counts.
      {"m seq=4i", {{"rack", "first"}, {"rack", "last"}, {"name", "renamed"}}, std::nullopt},
  };
  REQUIRE(kafka_produce(cluster.bootstrap(), "odd-headers", 0, messages) == "");
  auto rec = recording("kc-odd-headers");
  // "name" is listed as a tag too: the header that names the metric is not also a tag.
  ConsumerAgent agent(consumer(cluster,
                               "topics: [odd-headers], consumer_group: odd-headers-group, "
                               "msg_headers_as_tags: [region, source, rack, name], "
                               "msg_header_as_metric_name: name"),
                      "kc-odd-headers");
  REQUIRE(eventually([&] { return rec->metric_count() >= 4; }, 30));
  auto got = by_seq(rec);
  REQUIRE(got.size() == 4);
  CHECK(got.at(1).name() == "m");
  CHECK_FALSE(got.at(1).has_tag("region"));
  CHECK_FALSE(got.at(1).has_tag("source"));
  CHECK(tag_or_none(got.at(1), "rack") == "r1");
  CHECK(got.at(2).name() == "m");
  CHECK(tag_or_none(got.at(2), "rack") == "r2");
  CHECK(got.at(3).name() == "m");
  CHECK(got.at(3).tags().empty());
  CHECK(got.at(4).name() == "renamed");
  CHECK(tag_or_none(got.at(4), "rack") == "last");
  CHECK_FALSE(got.at(4).has_tag("name"));
  CHECK(agent.input_stats().metrics_rejected == 0);
}

TEST_CASE("kafka_consumer: timestamp_source picks the parser's, the message's or receipt time") {
  constexpr int64_t kLineTime = 1'500'000'000'000'000'000;  // in the payload, ns
  constexpr int64_t kMessageMs = 1'600'000'000'000;         // the Kafka timestamp, ms
  KafkaMockCluster cluster(kMockCluster, 1);
  REQUIRE(cluster.started());
  REQUIRE(cluster.command("topic stamped 1") == "ok");
  REQUIRE(kafka_produce(cluster.bootstrap(), "stamped", 0,
                        {{"t seq=1i " + std::to_string(kLineTime), {}, kMessageMs},
                         {"t seq=2i", {}, kMessageMs + 123}}) == "");
  for (const std::string source : {"metric", "inner", "outer"}) {
    INFO("timestamp_source " << source);
    auto rec = recording("kc-stamped-" + source);
    int64_t before = wall_clock_ns();
    std::map<int64_t, Metric> got;
    {
      ConsumerAgent agent(consumer(cluster, "topics: [stamped], consumer_group: stamped-" + source +
                                                ", timestamp_source: " + source),
                          "kc-stamped-" + source);
      REQUIRE(eventually([&] { return rec->metric_count() >= 2; }, 30));
      got = by_seq(rec);
    }
    int64_t after = wall_clock_ns();
    REQUIRE(got.size() == 2);
    int64_t with_time = got.at(1).time(), without_time = got.at(2).time();
    INFO("before " << before << ", after " << after << ", times " << with_time << " and "
                   << without_time);
    if (source == "metric") {
      CHECK(with_time == kLineTime);
      // A line without a timestamp gets the time it was read.
      CHECK(without_time >= before);
      CHECK(without_time <= after);
    } else if (source == "inner") {
      CHECK(with_time == kMessageMs * 1'000'000);
      CHECK(without_time == (kMessageMs + 123) * 1'000'000);
    } else {
      CHECK(with_time >= before);
      CHECK(with_time <= after);
      CHECK(without_time >= before);
      CHECK(without_time <= after);
    }
  }
}
