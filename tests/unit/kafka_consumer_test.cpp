// The kafka_consumer input's pure parts: which offsets may be stored as messages end, its
// options as librdkafka properties and a subscription, and what a message's headers and
// timestamp give its metrics.
#include <doctest/doctest.h>

#include <map>
#include <optional>

#include "config/config.hpp"
#include "inputs/kafka_consumer/consumer_config.hpp"
#include "inputs/kafka_consumer/message_metadata.hpp"
#include "inputs/kafka_consumer/offset_tracker.hpp"
#include "inputs/kafka_consumer/outage_log.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/registry.hpp"

using sluice::OptionError;
namespace kc = sluice::inputs::kafka_consumer;

namespace {

const kc::PartitionKey kP0{"metrics", 0};
const kc::PartitionKey kP1{"metrics", 1};

// "topic[partition]=offset" for each storable offset, in partition order.
std::vector<std::string> storable(kc::OffsetTracker& tracker) {
  std::vector<std::string> out;
  for (const kc::StorableOffset& s : tracker.take_storable()) {
    out.push_back(s.partition.topic + "[" + std::to_string(s.partition.partition) +
                  "]=" + std::to_string(s.next_offset));
  }
  return out;
}

using Strings = std::vector<std::string>;

const sluice::Options& input_options(const sluice::config::Config& config) {
  return config.inputs.at(0).options;
}

kc::Properties properties(const std::string& options) {
  auto config = sluice::config::load_text(
      "inputs:\n  - kafka_consumer: {topics: [t], " + options + "}\n", "kafka-consumer-unit.yaml");
  return kc::consumer_properties(input_options(config));
}

std::string property(const kc::Properties& p, const std::string& name) {
  for (const auto& [key, value] : p) {
    if (key == name) return value;
  }
  return "<unset>";
}

// What creating the input with `options` says: "accepted", or "option: message".
std::string load_error(const std::string& options) {
  const auto* info =
      sluice::plugin::Registry::builtins().find(sluice::plugin::Kind::kInput, "kafka_consumer");
  REQUIRE(info != nullptr);
  struct : sluice::Logger {
    void log(sluice::LogLevel, std::string_view) override {}
    bool enabled(sluice::LogLevel) const override { return false; }
  } quiet;
  try {
    auto config = sluice::config::load_text("inputs:\n  - kafka_consumer: {" + options + "}\n",
                                            "kafka-consumer-unit.yaml");
    info->create_input(sluice::PluginContext{input_options(config), quiet});
  } catch (const OptionError& e) {
    return e.option() + ": " + e.what();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "accepted";
}

// The ConfigError of building a pipeline whose kafka_consumer has `options` (one "key: value"
// a line), "" when it builds: the message as the agent prints it, with file, line and column.
std::string build_error(const std::vector<std::string>& options) {
  std::string yaml = "inputs:\n  - kafka_consumer:\n";
  for (const std::string& o : options) yaml += "      " + o + "\n";
  yaml += "outputs:\n  - discard: {}\n";
  try {
    auto config = sluice::config::load_text(yaml, "/etc/sluice/kafka.yaml");
    sluice::pipeline::Pipeline pipeline(config, sluice::pipeline::SystemClock::instance());
  } catch (const sluice::config::ConfigError& e) {
    return e.what();
  }
  return "";
}

kc::MetadataOptions metadata(const std::string& options) {
  auto config = sluice::config::load_text(
      "inputs:\n  - kafka_consumer: {topics: [t], " + options + "}\n", "kafka-consumer-unit.yaml");
  return kc::metadata_options(input_options(config));
}

int poll_timeout(const std::string& options) {
  auto config = sluice::config::load_text(
      "inputs:\n  - kafka_consumer: {topics: [t], " + options + "}\n", "kafka-consumer-unit.yaml");
  return kc::poll_timeout_ms(input_options(config));
}

// A message's headers, for message_metadata.
kc::HeaderLookup headers(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string_view> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return std::string_view(it->second);
  };
}

}  // namespace

TEST_CASE("kafka_consumer offsets: only the delivered prefix of a partition is stored") {
  kc::OffsetTracker tracker;
  tracker.assign(kP0);
  uint64_t a = tracker.consumed(kP0, 10);
  tracker.consumed(kP0, 11);
  tracker.consumed(kP0, 12);
  CHECK(tracker.in_flight() == 3);
  CHECK(storable(tracker).empty());

  // 11 and 12 finish first: nothing may be stored while 10 is in flight.
  tracker.finish({a, 12, true});
  tracker.finish({a, 11, true});
  CHECK(tracker.in_flight() == 1);
  CHECK(storable(tracker).empty());
  tracker.finish({a, 10, true});
  CHECK(tracker.in_flight() == 0);
  CHECK(storable(tracker) == Strings{"metrics[0]=13"});
  CHECK(storable(tracker).empty());  // taken once
}

TEST_CASE("kafka_consumer offsets: partitions advance independently") {
  kc::OffsetTracker tracker;
  uint64_t a0 = tracker.consumed(kP0, 0);  // assigned on first sight
  uint64_t a1 = tracker.consumed(kP1, 5);
  tracker.consumed(kP1, 6);
  tracker.finish({a1, 5, true});
  CHECK(storable(tracker) == Strings{"metrics[1]=6"});
  tracker.finish({a0, 0, true});
  CHECK(storable(tracker) == Strings{"metrics[0]=1"});
  CHECK(tracker.in_flight(kP1) == 1);
  CHECK(tracker.in_flight(kP0) == 0);
}

TEST_CASE("kafka_consumer offsets: a lost message holds its partition before it") {
  kc::OffsetTracker tracker;
  tracker.assign(kP0);
  uint64_t a = 0;
  for (int64_t offset = 0; offset < 6; ++offset) a = tracker.consumed(kP0, offset);
  tracker.finish({a, 0, true});
  tracker.finish({a, 3, true});
  auto lost = tracker.finish({a, 2, false});
  REQUIRE(lost.has_value());
  CHECK(*lost == kP0);
  CHECK(storable(tracker) == Strings{"metrics[0]=1"});
  // The message before the loss still counts; nothing after it ever does.
  tracker.finish({a, 1, true});
  CHECK(storable(tracker) == Strings{"metrics[0]=2"});
  CHECK_FALSE(tracker.finish({a, 4, false}).has_value());  // a second loss is not news
  tracker.finish({a, 5, true});
  CHECK(storable(tracker).empty());
  CHECK(tracker.in_flight() == 0);
  // A new assignment (after a rebalance) starts over from what the group committed.
  tracker.assign(kP0);
  uint64_t b = tracker.consumed(kP0, 2);
  tracker.finish({b, 2, true});
  CHECK(storable(tracker) == Strings{"metrics[0]=3"});
}

TEST_CASE("kafka_consumer offsets: outcomes of a revoked assignment are ignored") {
  kc::OffsetTracker tracker;
  tracker.assign(kP0);
  uint64_t before = tracker.consumed(kP0, 7);
  tracker.consumed(kP0, 8);
  CHECK(tracker.in_flight() == 2);
  tracker.revoke(kP0);
  CHECK(tracker.in_flight() == 0);
  tracker.finish({before, 7, true});
  CHECK(storable(tracker).empty());
  // Assigned again: the late outcome of the first assignment does not touch the second.
  tracker.assign(kP0);
  uint64_t after = tracker.consumed(kP0, 7);
  CHECK(after != before);
  tracker.finish({before, 7, true});
  CHECK(tracker.in_flight() == 1);
  CHECK(storable(tracker).empty());
  tracker.finish({after, 7, true});
  CHECK(storable(tracker) == Strings{"metrics[0]=8"});
  // An outcome reported twice counts once.
  tracker.finish({after, 7, true});
  CHECK(tracker.in_flight() == 0);
}

TEST_CASE("kafka_consumer config: Telegraf's defaults become librdkafka properties") {
  auto p = properties("brokers: [\"127.0.0.1:9092\"]");
  CHECK(property(p, "bootstrap.servers") == "127.0.0.1:9092");
  CHECK(property(p, "group.id") == "sluice_metrics_consumers");
  CHECK(property(p, "auto.offset.reset") == "earliest");
  CHECK(property(p, "partition.assignment.strategy") == "range");
  CHECK(property(p, "enable.auto.offset.store") == "false");
  CHECK(property(p, "enable.auto.commit") == "true");
  CHECK(property(p, "session.timeout.ms") == "10000");
  CHECK(property(p, "heartbeat.interval.ms") == "3000");
  CHECK(property(p, "security.protocol") == "plaintext");
  CHECK(property(p, "client.id") == "sluice");

  p = properties(
      "offset: newest, balance_strategy: sticky, consumer_group: g, session_timeout: 30s,"
      " heartbeat_interval: 1s, sasl_username: u, sasl_password: pw, tls_ca: /ca.pem");
  CHECK(property(p, "auto.offset.reset") == "latest");
  CHECK(property(p, "partition.assignment.strategy") == "cooperative-sticky");
  CHECK(property(p, "group.id") == "g");
  CHECK(property(p, "session.timeout.ms") == "30000");
  CHECK(property(p, "heartbeat.interval.ms") == "1000");
  CHECK(property(p, "security.protocol") == "sasl_ssl");
  CHECK(property(p, "sasl.username") == "u");
  CHECK(property(p, "ssl.ca.location") == "/ca.pem");
  CHECK(property(properties("balance_strategy: roundrobin"), "partition.assignment.strategy") ==
        "roundrobin");
}

TEST_CASE("kafka_consumer config: topics and unanchored regexps make the subscription") {
  auto config = sluice::config::load_text(
      "inputs:\n  - kafka_consumer: {topics: [a, b], topic_regexps: [\"^m-.*\", \"cpu|mem\"]}\n",
      "kafka-consumer-unit.yaml");
  CHECK(kc::subscription(input_options(config)) == Strings{"a", "b", "^m-.*", "^.*(cpu|mem)"});
}

TEST_CASE("kafka_consumer config: values that cannot work are refused with the option's name") {
  CHECK(load_error("brokers: [a:1]").find("topics: needs at least one topic") != std::string::npos);
  CHECK(load_error("topics: [\"^x\"]").find("put it in topic_regexps") != std::string::npos);
  CHECK(load_error("topics: [t], offset: latest").find("offset: expected oldest or newest") !=
        std::string::npos);
  CHECK(load_error("topics: [t], balance_strategy: fair").find("balance_strategy: expected") !=
        std::string::npos);
  CHECK(load_error("topics: [t], max_undelivered_messages: 0")
            .find("max_undelivered_messages: must be at least 1") != std::string::npos);
  CHECK(load_error("topics: [t], max_message_len: -1").find("max_message_len:") !=
        std::string::npos);
  CHECK(load_error("topics: [t], heartbeat_interval: 20s").find("heartbeat_interval: must be") !=
        std::string::npos);
  CHECK(load_error("topics: [t], consumer_group: \"\"").find("consumer_group:") !=
        std::string::npos);
  CHECK(load_error("topics: [t], brokers: [\"kafka://h:9092\"]").find("without a scheme") !=
        std::string::npos);
  CHECK(load_error("topics: [t], data_format: xml").find("xml") != std::string::npos);
  CHECK(load_error("topics: [t]") == "accepted");
  CHECK(load_error("topic_regexps: [\"metrics-.*\"], data_format: json") == "accepted");
}

TEST_CASE("kafka_consumer config: header, timestamp and poll options as Telegraf's") {
  // Telegraf's defaults: no headers, the parser's time, polls of at most 100ms.
  kc::MetadataOptions defaults = metadata("");
  CHECK(defaults.headers_as_tags.empty());
  CHECK(defaults.header_as_name.empty());
  CHECK(defaults.timestamp_source == kc::TimestampSource::kMetric);
  CHECK(poll_timeout("") == 100);

  kc::MetadataOptions set = metadata(
      "msg_headers_as_tags: [region, name, rack], msg_header_as_metric_name: name, "
      "timestamp_source: inner");
  // The header that names the metric is not a tag as well (as in Telegraf).
  CHECK(set.headers_as_tags == Strings{"region", "rack"});
  CHECK(set.header_as_name == "name");
  CHECK(set.timestamp_source == kc::TimestampSource::kInner);
  CHECK(metadata("timestamp_source: outer").timestamp_source == kc::TimestampSource::kOuter);
  CHECK(metadata("timestamp_source: metric").timestamp_source == kc::TimestampSource::kMetric);
  CHECK(metadata("msg_header_as_metric_name: n").headers_as_tags.empty());

  CHECK(poll_timeout("max_processing_time: 250ms") == 250);
  CHECK(poll_timeout("max_processing_time: 2s") == 2000);
  CHECK(poll_timeout("max_processing_time: 1ms") == 1);
}

TEST_CASE("kafka_consumer config: bad timestamp or poll options are refused where written") {
  CHECK(build_error({"topics: [t]"}) == "");
  CHECK(build_error({"topics: [t]", "timestamp_source: inner", "max_processing_time: 1s",
                     "msg_headers_as_tags: [a, b]", "msg_header_as_metric_name: c"}) == "");

  std::string e = build_error({"topics: [t]", "timestamp_source: kafka"});
  CHECK(e.find("/etc/sluice/kafka.yaml:4:") == 0);
  CHECK(e.find("option \"timestamp_source\": expected metric, inner or outer, got \"kafka\"") !=
        std::string::npos);
  // Telegraf's values only, spelled as Telegraf spells them.
  CHECK(build_error({"topics: [t]", "timestamp_source: Inner"})
            .find("option \"timestamp_source\": expected metric, inner or outer") !=
        std::string::npos);

  e = build_error({"topics: [t]", "max_processing_time: 0s"});
  CHECK(e.find("/etc/sluice/kafka.yaml:4:") == 0);
  CHECK(e.find("option \"max_processing_time\": must be at least 1ms") != std::string::npos);
  // Less than a millisecond would be a poll that never waits: a busy loop.
  CHECK(build_error({"topics: [t]", "max_processing_time: 500us"})
            .find("option \"max_processing_time\": must be at least 1ms") != std::string::npos);
  CHECK(build_error({"topics: [t]", "max_processing_time: 1000h"})
            .find("option \"max_processing_time\": must be at most 2147483647ms") !=
        std::string::npos);
  CHECK(build_error({"topics: [t]", "max_processing_time: soon"}).find("max_processing_time") !=
        std::string::npos);

  e = build_error({"topics: [t]", "msg_headers_as_tags: [region, \"\"]"});
  CHECK(e.find("option \"msg_headers_as_tags\": a header name cannot be empty") !=
        std::string::npos);
}

TEST_CASE("kafka_consumer metadata: listed headers with text values become tags and the name") {
  kc::MetadataOptions options;
  options.headers_as_tags = {"region", "rack", "absent", "empty", "binary", "cut"};
  options.header_as_name = "measurement";
  auto got = kc::message_metadata(options,
                                  headers({{"region", "eu-west"},
                                           {"rack", "r\xc3\xa9"},  // UTF-8 beyond ASCII
                                           {"empty", ""},
                                           {"binary", "\xff\x01"},
                                           {"cut", "ab\xe2\x82"},  // a sequence cut short
                                           {"unlisted", "x"},
                                           {"measurement", "gw_cpu"}}),
                                  1'600'000'000'000, 42);
  REQUIRE(got.tags.size() == 2);
  CHECK(got.tags[0] == sluice::Tag{"region", "eu-west"});
  CHECK(got.tags[1] == sluice::Tag{"rack", "r\xc3\xa9"});
  REQUIRE(got.name.has_value());
  CHECK(*got.name == "gw_cpu");
  CHECK(got.unusable_headers == Strings{"empty", "binary", "cut"});
  CHECK_FALSE(got.time_ns.has_value());  // timestamp_source metric

  sluice::Metric m("cpu", 7);
  m.set_tag("region", "from-payload");
  m.set_tag("host", "h");
  got.apply(m);
  CHECK(m.name() == "gw_cpu");
  CHECK(*m.tag("region") == "eu-west");
  CHECK(*m.tag("host") == "h");
  CHECK(m.time() == 7);

  // A name header that is not text leaves the parser's name.
  auto bad_name =
      kc::message_metadata(options, headers({{"measurement", "\xc0\xaf"}}), std::nullopt, 0);
  CHECK_FALSE(bad_name.name.has_value());
  CHECK(bad_name.unusable_headers == Strings{"measurement"});
  CHECK(kc::message_metadata(options, headers({}), std::nullopt, 0).unusable_headers.empty());
}

TEST_CASE("kafka_consumer metadata: the time comes from the message or its receipt") {
  kc::MetadataOptions options;
  auto time_of = [&](kc::TimestampSource source, std::optional<int64_t> message_ms) {
    options.timestamp_source = source;
    return kc::message_metadata(options, headers({}), message_ms, 1'700'000'000'123'456'789)
        .time_ns;
  };
  CHECK_FALSE(time_of(kc::TimestampSource::kMetric, 1'600'000'000'000).has_value());
  CHECK(time_of(kc::TimestampSource::kInner, 1'600'000'000'001) == 1'600'000'000'001'000'000);
  CHECK(time_of(kc::TimestampSource::kOuter, 1'600'000'000'000) == 1'700'000'000'123'456'789);
  CHECK(time_of(kc::TimestampSource::kOuter, std::nullopt) == 1'700'000'000'123'456'789);
  // No Kafka timestamp, or one nanoseconds since 1970 cannot hold: the parser's time stays.
  CHECK_FALSE(time_of(kc::TimestampSource::kInner, std::nullopt).has_value());
  CHECK_FALSE(time_of(kc::TimestampSource::kInner, -5).has_value());
  CHECK_FALSE(time_of(kc::TimestampSource::kInner, 9'300'000'000'000).has_value());

  options.timestamp_source = kc::TimestampSource::kInner;
  sluice::Metric m("cpu", 7);
  kc::message_metadata(options, headers({}), 1'600'000'000'000, 0).apply(m);
  CHECK(m.time() == 1'600'000'000'000'000'000);
}

TEST_CASE("kafka_consumer errors: each kind is logged once per outage, and again after a while") {
  struct Lines : sluice::Logger {
    std::vector<std::string> lines;
    void log(sluice::LogLevel, std::string_view m) override { lines.emplace_back(m); }
    bool enabled(sluice::LogLevel) const override { return true; }
  } log;
  using namespace std::chrono_literals;
  kc::OutageLog outages(log, 5min);
  auto t0 = kc::OutageLog::Clock::time_point{} + 1h;
  outages.error("_TRANSPORT", "_TRANSPORT: connection refused", t0);
  outages.error("_TRANSPORT", "_TRANSPORT: connection refused (1 suppressed)", t0 + 1s);
  outages.error("_ALL_BROKERS_DOWN", "_ALL_BROKERS_DOWN: 1/1 brokers are down", t0 + 1s);
  outages.error("_TRANSPORT", "_TRANSPORT: connection refused", t0 + 2s);
  CHECK(log.lines == Strings{"Kafka: _TRANSPORT: connection refused",
                             "Kafka: _ALL_BROKERS_DOWN: 1/1 brokers are down"});
  // Still down five minutes later: said once more, with the count.
  outages.error("_TRANSPORT", "_TRANSPORT: connection refused", t0 + 5min + 1s);
  REQUIRE(log.lines.size() == 3);
  CHECK(log.lines[2] ==
        "Kafka: _TRANSPORT: connection refused (still failing: 2 more times since it was first "
        "logged)");
  // Working again: the next outage is news.
  outages.recovered();
  outages.error("_TRANSPORT", "_TRANSPORT: connection refused", t0 + 5min + 2s);
  CHECK(log.lines.size() == 4);
}
