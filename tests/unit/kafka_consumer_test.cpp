// The kafka_consumer input's pure parts: which offsets may be stored as messages end, and its
// options as librdkafka properties and a subscription.
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "inputs/kafka_consumer/consumer_config.hpp"
#include "inputs/kafka_consumer/offset_tracker.hpp"
#include "inputs/kafka_consumer/outage_log.hpp"
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
