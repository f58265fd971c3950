// What a Kafka message gives the metrics parsed from it besides its payload: tags and a name
// from its headers (msg_headers_as_tags, msg_header_as_metric_name) and a time
// (timestamp_source). Free of librdkafka, so that the rules can be tested without a broker.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/metric.hpp"

namespace sluice::inputs::kafka_consumer {

// Where a metric's time comes from (Telegraf's timestamp_source).
enum class TimestampSource {
  kMetric,  // the parser's: the payload's timestamp, or the time the message was read
  kInner,   // the Kafka message's timestamp (CreateTime or LogAppendTime)
  kOuter,   // the time the agent received the message
};

struct MetadataOptions {
  // Headers whose values become tags, named after the header. Never holds header_as_name.
  std::vector<std::string> headers_as_tags;
  // The header whose value becomes the metric name ("": the parser's name stays).
  std::string header_as_name;
  TimestampSource timestamp_source = TimestampSource::kMetric;
};

// The value of a message's header (the last one when the header repeats), an empty value for a
// header without one, nullopt when the message has no such header.
using HeaderLookup = std::function<std::optional<std::string_view>(const std::string& name)>;

struct MessageMetadata {
  std::vector<Tag> tags;
  std::optional<std::string> name;
  std::optional<int64_t> time_ns;
  // Listed headers the message has whose value is empty or not UTF-8: left out, named here so
  // that the consumer can say why a tag is missing.
  std::vector<std::string> unusable_headers;

  // Sets the tags, the name and the time on a metric parsed from the message.
  void apply(Metric& metric) const;
};

// What `options` take from one message. `message_time_ms` is the message's Kafka timestamp
// (nullopt when the broker gave none: the parser's time stays); `received_ns` is when the agent
// read it.
MessageMetadata message_metadata(const MetadataOptions& options, const HeaderLookup& header,
                                 std::optional<int64_t> message_time_ms, int64_t received_ns);

}  // namespace sluice::inputs::kafka_consumer
