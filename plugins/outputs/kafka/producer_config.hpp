// Turns the kafka output's options (Telegraf's names) into librdkafka producer properties.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/kafka_client_options.hpp"
#include "sluice/options.hpp"

namespace sluice::outputs::kafka {

using Properties = core::KafkaProperties;

// librdkafka's name of a compression codec given as Telegraf's number (0 none, 1 gzip,
// 2 snappy, 3 lz4, 4 zstd) or by name. Throws OptionError("compression_codec") otherwise.
std::string compression_codec_name(std::string_view codec);

// The producer properties for `options` (the shared client properties first), in the order
// they are applied. Throws OptionError naming the option for a value librdkafka would refuse or
// that makes no sense.
Properties producer_properties(const Options& options);

}  // namespace sluice::outputs::kafka
