#include "producer_config.hpp"

#include <charconv>
#include <chrono>

namespace sluice::outputs::kafka {
namespace {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

// "0.9.0.1" -> {0, 9}; false when `version` does not start with two numbers.
bool major_minor(std::string_view version, int& major, int& minor) {
  const char* end = version.data() + version.size();
  auto [p1, e1] = std::from_chars(version.data(), end, major);
  if (e1 != std::errc() || p1 == end || *p1 != '.') return false;
  auto [p2, e2] = std::from_chars(p1 + 1, end, minor);
  return e2 == std::errc();
}

}  // namespace

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
  Properties p;
  const auto& brokers = o.get_strings("brokers");
  if (brokers.empty()) throw OptionError("brokers", "needs at least one broker as host:port");
  for (const std::string& b : brokers) {
    if (b.find("://") != std::string::npos) {
      throw OptionError("brokers", "expected host:port without a scheme, got \"" + b + "\"");
    }
  }
  p.emplace_back("bootstrap.servers", join(brokers, ","));
  p.emplace_back("client.id", o.get_string("client_id"));

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

  const std::string& version = o.get_string("version");
  if (!version.empty()) {
    int major = 0, minor = 0;
    if (!major_minor(version, major, minor)) {
      throw OptionError("version",
                        "expected a Kafka version such as 2.8.0, got \"" + version + "\"");
    }
    // Brokers from 0.10 on say which protocol versions they speak; older ones must be told.
    if (major == 0 && minor < 10) {
      p.emplace_back("api.version.request", "false");
      p.emplace_back("broker.version.fallback", version);
    }
  }

  bool tls = o.get_bool("enable_tls") || !o.get_string("tls_ca").empty() ||
             !o.get_string("tls_cert").empty();
  bool sasl = !o.get_string("sasl_username").empty();
  const std::string& mechanism = o.get_string("sasl_mechanism");
  if (!sasl && !mechanism.empty() && mechanism != "GSSAPI") {
    throw OptionError("sasl_mechanism", mechanism + " needs sasl_username");
  }
  sasl = sasl || mechanism == "GSSAPI";
  p.emplace_back("security.protocol",
                 sasl ? (tls ? "sasl_ssl" : "sasl_plaintext") : (tls ? "ssl" : "plaintext"));
  if (sasl) {
    std::string m = mechanism.empty() ? "PLAIN" : mechanism;
    if (m != "PLAIN" && m != "SCRAM-SHA-256" && m != "SCRAM-SHA-512" && m != "GSSAPI" &&
        m != "OAUTHBEARER") {
      throw OptionError("sasl_mechanism",
                        "expected PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER, "
                        "got \"" +
                            m + "\"");
    }
    p.emplace_back("sasl.mechanisms", m);
    if (!o.get_string("sasl_username").empty()) {
      p.emplace_back("sasl.username", o.get_string("sasl_username"));
      p.emplace_back("sasl.password", o.get_string("sasl_password"));
    }
  }
  if (tls) {
    if (!o.get_string("tls_ca").empty()) p.emplace_back("ssl.ca.location", o.get_string("tls_ca"));
    if (!o.get_string("tls_cert").empty()) {
      p.emplace_back("ssl.certificate.location", o.get_string("tls_cert"));
    }
    if (!o.get_string("tls_key").empty())
      p.emplace_back("ssl.key.location", o.get_string("tls_key"));
    if (o.get_bool("insecure_skip_verify")) {
      p.emplace_back("enable.ssl.certificate.verification", "false");
      p.emplace_back("ssl.endpoint.identification.algorithm", "none");
    }
  }
  return p;
}

}  // namespace sluice::outputs::kafka
