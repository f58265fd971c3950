#include "core/kafka_client_options.hpp"

#include <charconv>

namespace sluice::core {
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

std::vector<OptionSpec> with_kafka_client_options(std::vector<OptionSpec> table) {
  static const OptionSpec kBrokers = {"brokers", OptionType::kStringList, "[localhost:9092]",
                                      "Bootstrap brokers as host:port"};
  static const OptionSpec kShared[] = {
      {"client_id", OptionType::kString, "sluice", "Client id sent to the brokers"},
      {"version", OptionType::kString, "",
       "Kafka version of brokers older than 0.10 (newer brokers say so themselves)"},
      {"sasl_username", OptionType::kString, "", "SASL user name"},
      {"sasl_password", OptionType::kString, "", "SASL password"},
      {"sasl_mechanism", OptionType::kString, "",
       "PLAIN (default), SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER"},
      {"enable_tls", OptionType::kBool, "false", "Connect with TLS"},
      {"tls_ca", OptionType::kString, "", "CA certificate file (PEM) to verify the brokers"},
      {"tls_cert", OptionType::kString, "", "Client certificate file (PEM)"},
      {"tls_key", OptionType::kString, "", "Client private key file (PEM)"},
      {"insecure_skip_verify", OptionType::kBool, "false",
       "Use TLS but do not verify the brokers' certificates"},
  };
  table.insert(table.begin(), kBrokers);
  table.insert(table.end(), std::begin(kShared), std::end(kShared));
  return table;
}

KafkaProperties kafka_client_properties(const Options& o) {
  KafkaProperties p;
  const auto& brokers = o.get_strings("brokers");
  if (brokers.empty()) throw OptionError("brokers", "needs at least one broker as host:port");
  for (const std::string& b : brokers) {
    if (b.find("://") != std::string::npos) {
      throw OptionError("brokers", "expected host:port without a scheme, got \"" + b + "\"");
    }
  }
  p.emplace_back("bootstrap.servers", join(brokers, ","));
  p.emplace_back("client.id", o.get_string("client_id"));

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
    if (!o.get_string("tls_key").empty()) {
      p.emplace_back("ssl.key.location", o.get_string("tls_key"));
    }
    if (o.get_bool("insecure_skip_verify")) {
      p.emplace_back("enable.ssl.certificate.verification", "false");
      p.emplace_back("ssl.endpoint.identification.algorithm", "none");
    }
  }
  return p;
}

std::string kafka_option_of(std::string_view property) {
  static constexpr std::pair<std::string_view, std::string_view> kOrigins[] = {
      {"bootstrap.servers", "brokers"},
      {"client.id", "client_id"},
      {"api.version.request", "version"},
      {"broker.version.fallback", "version"},
      {"security.protocol", "enable_tls"},
      {"sasl.mechanisms", "sasl_mechanism"},
      {"sasl.username", "sasl_username"},
      {"sasl.password", "sasl_password"},
      {"ssl.ca.location", "tls_ca"},
      {"ssl.certificate.location", "tls_cert"},
      {"ssl.key.location", "tls_key"},
      {"enable.ssl.certificate.verification", "insecure_skip_verify"},
      {"ssl.endpoint.identification.algorithm", "insecure_skip_verify"},
  };
  for (const auto& [name, option] : kOrigins) {
    if (property == name) return std::string(option);
  }
  return "";
}

void log_kafka_line(Logger& log, int level, const char* facility, const char* message) {
  std::string line = std::string("librdkafka ") + facility + ": " + message;
  // A failed connection (FAIL) also reaches the error callback, which logs it once per outage.
  if (std::string_view(facility) == "FAIL") {
    log.debug(line);
  } else if (level <= 3) {
    log.error(line);
  } else if (level == 4) {
    log.warn(line);
  } else {
    log.debug(line);
  }
}

rd_kafka_conf_t* make_kafka_conf(const KafkaProperties& properties,
                                 const std::function<std::string(const std::string&)>& option_of) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw OptionError(option_of(name),
                        std::string("librdkafka refuses ") + name + "=" + value + ": " + error);
    }
  }
  rd_kafka_conf_set(conf, "log.connection.close", "false", error, sizeof error);
  return conf;
}

std::string kafka_property(const KafkaProperties& properties, std::string_view name) {
  for (const auto& [key, value] : properties) {
    if (key == name) return value;
  }
  return "";
}

}  // namespace sluice::core
