// Turns the kafka_consumer input's options (Telegraf's names) into librdkafka consumer
// properties, the subscription, what each message adds to its metrics, and the poll timeout.
#pragma once

#include <string>
#include <vector>

#include "core/kafka_client_options.hpp"
#include "message_metadata.hpp"
#include "sluice/options.hpp"

namespace sluice::inputs::kafka_consumer {

using Properties = core::KafkaProperties;

// The consumer properties for `options` (the shared client properties first), in the order they
// are applied. Offsets are stored by the consumer once their messages are delivered, and
// committed by librdkafka every second. Throws OptionError naming the option.
Properties consumer_properties(const Options& options);

// What to subscribe to: the topics, then each of topic_regexps as the "^..." pattern librdkafka
// takes. A regexp matches anywhere in a topic's name unless it starts with ^, as in Telegraf.
// Throws OptionError when there is nothing to subscribe to.
std::vector<std::string> subscription(const Options& options);

// msg_headers_as_tags, msg_header_as_metric_name and timestamp_source, checked. Throws
// OptionError naming the option.
MetadataOptions metadata_options(const Options& options);

// max_processing_time in milliseconds: the longest one rd_kafka_consumer_poll call blocks.
// Throws OptionError when it is under 1ms or longer than the int librdkafka takes.
int poll_timeout_ms(const Options& options);

// The option a consumer property came from, for librdkafka's refusals.
std::string option_of(const std::string& property);

}  // namespace sluice::inputs::kafka_consumer
