#include "consumer_config.hpp"

#include <chrono>
#include <limits>

namespace sluice::inputs::kafka_consumer {
namespace {

int64_t milliseconds(const Options& o, const char* name) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(o.get_duration(name)).count();
  if (ms <= 0) throw OptionError(name, "must be at least 1ms");
  return ms;
}

}  // namespace

Properties consumer_properties(const Options& o) {
  Properties p = core::kafka_client_properties(o);

  const std::string& group = o.get_string("consumer_group");
  if (group.empty()) throw OptionError("consumer_group", "needs the name of a consumer group");
  p.emplace_back("group.id", group);

  const std::string& offset = o.get_string("offset");
  if (offset != "oldest" && offset != "newest") {
    throw OptionError("offset", "expected oldest or newest, got \"" + offset + "\"");
  }
  p.emplace_back("auto.offset.reset", offset == "oldest" ? "earliest" : "latest");

  const std::string& strategy = o.get_string("balance_strategy");
  if (strategy == "range" || strategy == "roundrobin") {
    p.emplace_back("partition.assignment.strategy", strategy);
  } else if (strategy == "sticky") {
    // librdkafka's sticky assignor is the cooperative one: partitions that stay with a member
    // are not taken away during a rebalance.
    p.emplace_back("partition.assignment.strategy", "cooperative-sticky");
  } else {
    throw OptionError("balance_strategy",
                      "expected range, roundrobin or sticky, got \"" + strategy + "\"");
  }

  int64_t session = milliseconds(o, "session_timeout");
  int64_t heartbeat = milliseconds(o, "heartbeat_interval");
  if (heartbeat >= session) {
    throw OptionError("heartbeat_interval",
                      "must be shorter than session_timeout (" + std::to_string(session) + "ms)");
  }
  p.emplace_back("session.timeout.ms", std::to_string(session));
  p.emplace_back("heartbeat.interval.ms", std::to_string(heartbeat));

  if (o.get_int("max_message_len") < 0) {
    throw OptionError("max_message_len", "must not be negative (0: no limit)");
  }
  if (o.get_int("max_undelivered_messages") < 1) {
    throw OptionError("max_undelivered_messages", "must be at least 1");
  }

  // At-least-once: an offset is stored only once its message and every earlier one of the
  // partition are written by the outputs; librdkafka commits what is stored every second (as
  // Sarama, Telegraf's client, does).
  p.emplace_back("enable.auto.offset.store", "false");
  p.emplace_back("enable.auto.commit", "true");
  p.emplace_back("auto.commit.interval.ms", "1000");
  return p;
}

std::vector<std::string> subscription(const Options& o) {
  std::vector<std::string> out;
  for (const std::string& topic : o.get_strings("topics")) {
    if (topic.empty()) throw OptionError("topics", "a topic name cannot be empty");
    if (topic.front() == '^') {
      throw OptionError("topics", "\"" + topic + "\" is a pattern: put it in topic_regexps");
    }
    out.push_back(topic);
  }
  for (const std::string& regexp : o.get_strings("topic_regexps")) {
    if (regexp.empty() || regexp == "^") {
      throw OptionError("topic_regexps", "a regular expression cannot be empty");
    }
    // librdkafka takes a subscription that starts with ^ as a regular expression.
    out.push_back(regexp.front() == '^' ? regexp : "^.*(" + regexp + ")");
  }
  if (out.empty()) {
    throw OptionError("topics", "needs at least one topic (or a pattern in topic_regexps)");
  }
  return out;
}

MetadataOptions metadata_options(const Options& o) {
  MetadataOptions out;
  out.header_as_name = o.get_string("msg_header_as_metric_name");
  for (const std::string& header : o.get_strings("msg_headers_as_tags")) {
    if (header.empty()) throw OptionError("msg_headers_as_tags", "a header name cannot be empty");
    // As in Telegraf: the header that names the metric is not also a tag.
    if (header == out.header_as_name) continue;
    out.headers_as_tags.push_back(header);
  }

  const std::string& source = o.get_string("timestamp_source");
  if (source == "metric") {
    out.timestamp_source = TimestampSource::kMetric;
  } else if (source == "inner") {
    out.timestamp_source = TimestampSource::kInner;
  } else if (source == "outer") {
    out.timestamp_source = TimestampSource::kOuter;
  } else {
    throw OptionError("timestamp_source",
                      "expected metric, inner or outer, got \"" + source + "\"");
  }
  return out;
}

int poll_timeout_ms(const Options& o) {
  int64_t ms = milliseconds(o, "max_processing_time");
  if (ms > std::numeric_limits<int>::max()) {
    throw OptionError("max_processing_time",
                      "must be at most " + std::to_string(std::numeric_limits<int>::max()) + "ms");
  }
  return static_cast<int>(ms);
}

std::string option_of(const std::string& property) {
  if (property == "group.id") return "consumer_group";
  if (property == "auto.offset.reset") return "offset";
  if (property == "partition.assignment.strategy") return "balance_strategy";
  if (property == "session.timeout.ms") return "session_timeout";
  if (property == "heartbeat.interval.ms") return "heartbeat_interval";
  std::string option = core::kafka_option_of(property);
  return option.empty() ? "brokers" : option;
}

}  // namespace sluice::inputs::kafka_consumer
