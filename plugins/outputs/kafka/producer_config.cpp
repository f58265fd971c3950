#include "producer_config.hpp"

#include <chrono>

namespace sluice::outputs::kafka {

std::string compression_codec_name(std::string_view codec) {
  static constexpr std::string_view kNames[] = {"none", "gzip", "snappy", "lz4", "zstd"};
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (codec == kNames[i] || codec == std::to_string(i)) return std::string(kNames[i]);
  }
  throw OptionError("compression_codec",
                    "expected 0 (none), 1 (gzip), 2 (snappy), 3 (lz4) or 4 (zstd), got \"" +
                        std::string(codec) + "\"");
}

Properties producer_properties(const Options& o) {
  Properties p = core::kafka_client_properties(o);

  int64_t acks = o.get_int("required_acks");
  if (acks != -1 && acks != 0 && acks != 1) {
    throw OptionError(
        "required_acks",
        "expected -1 (all replicas), 0 (none) or 1 (the leader), got " + std::to_string(acks));
  }
  p.emplace_back("acks", std::to_string(acks));
  bool idempotent = o.get_bool("idempotent_writes");
  if (idempotent && acks != -1) {
    throw OptionError("idempotent_writes",
                      "needs required_acks: -1 (the broker must confirm "
                      "with every replica)");
  }
  p.emplace_back("enable.idempotence", idempotent ? "true" : "false");

  int64_t max_bytes = o.get_int("max_message_bytes");
  if (max_bytes < 1000 || max_bytes > 1'000'000'000) {
    throw OptionError("max_message_bytes",
                      "expected 1000 to 1000000000 bytes, got " + std::to_string(max_bytes));
  }
  p.emplace_back("message.max.bytes", std::to_string(max_bytes));
  int64_t retries = o.get_int("max_retry");
  if (retries < 0) throw OptionError("max_retry", "cannot be negative");
  p.emplace_back("message.send.max.retries", std::to_string(retries));
  p.emplace_back("compression.codec", compression_codec_name(o.get_string("compression_codec")));

  auto timeout_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(o.get_duration("timeout"));
  if (timeout_ms.count() <= 0) throw OptionError("timeout", "must be at least 1ms");
  // A message not delivered by then fails, so no delivery report outlives the write by long.
  p.emplace_back("message.timeout.ms", std::to_string(timeout_ms.count()));
  // Sarama's (and so Telegraf's) partitioner hashes the key with FNV-1a: the same key lands
  // on the same partition as it did with Telegraf. Messages without a key are spread randomly.
  p.emplace_back("partitioner", "fnv1a_random");

  return p;
}

}  // namespace sluice::outputs::kafka
