// The kafka output's pure parts: options to librdkafka properties, topic and key routing, and
// what a failed delivery means for the batch.
#include <doctest/doctest.h>

#include <set>

#include "config/config.hpp"
#include "outputs/kafka/delivery_errors.hpp"
#include "outputs/kafka/producer_config.hpp"
#include "outputs/kafka/routing.hpp"
#include "plugin/registry.hpp"

using sluice::Metric;
using sluice::OptionError;
namespace kafka = sluice::outputs::kafka;

namespace {

// The properties of an output configured with `options` (YAML flow-map entries).
kafka::Properties properties(const std::string& options) {
  auto config = sluice::config::load_text("outputs:\n  - kafka: {topic: t, " + options + "}\n",
                                          "kafka-unit.yaml");
  return kafka::producer_properties(config.outputs.at(0).options);
}

std::string property(const kafka::Properties& p, const std::string& name) {
  for (const auto& [key, value] : p) {
    if (key == name) return value;
  }
  return "<unset>";
}

// What creating the output with `options` says: "accepted", or "option: message".
std::string load_error(const std::string& options) {
  const auto* info =
      sluice::plugin::Registry::builtins().find(sluice::plugin::Kind::kOutput, "kafka");
  REQUIRE(info != nullptr);
  struct : sluice::Logger {
    void log(sluice::LogLevel, std::string_view) override {}
    bool enabled(sluice::LogLevel) const override { return false; }
  } quiet;
  try {
    auto config =
        sluice::config::load_text("outputs:\n  - kafka: {" + options + "}\n", "kafka-unit.yaml");
    info->create_output(sluice::PluginContext{config.outputs.at(0).options, quiet});
  } catch (const OptionError& e) {
    return e.option() + ": " + e.what();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("kafka config: compression codecs by Telegraf's number or by name") {
  CHECK(kafka::compression_codec_name("0") == "none");
  CHECK(kafka::compression_codec_name("1") == "gzip");
  CHECK(kafka::compression_codec_name("2") == "snappy");
  CHECK(kafka::compression_codec_name("3") == "lz4");
  CHECK(kafka::compression_codec_name("4") == "zstd");
  CHECK(kafka::compression_codec_name("zstd") == "zstd");
  CHECK(kafka::compression_codec_name("none") == "none");
  CHECK_THROWS_AS(kafka::compression_codec_name("5"), OptionError);
  CHECK_THROWS_AS(kafka::compression_codec_name("brotli"), OptionError);
}

TEST_CASE("kafka config: Telegraf's defaults become librdkafka properties") {
  auto p = properties("brokers: [\"127.0.0.1:9092\", \"127.0.0.2:9092\"]");
  CHECK(property(p, "bootstrap.servers") == "127.0.0.1:9092,127.0.0.2:9092");
  CHECK(property(p, "acks") == "-1");
  CHECK(property(p, "enable.idempotence") == "false");
  CHECK(property(p, "message.max.bytes") == "1000000");
  CHECK(property(p, "message.send.max.retries") == "3");
  CHECK(property(p, "compression.codec") == "none");
  CHECK(property(p, "message.timeout.ms") == "10000");
  CHECK(property(p, "partitioner") == "fnv1a_random");
  CHECK(property(p, "security.protocol") == "plaintext");
  CHECK(property(p, "client.id") == "sluice");
  CHECK(property(p, "api.version.request") == "<unset>");
}

TEST_CASE("kafka config: acks, idempotence, version, SASL and TLS") {
  auto p = properties("required_acks: 1, compression_codec: 2, max_retry: 0, timeout: 1500ms");
  CHECK(property(p, "acks") == "1");
  CHECK(property(p, "compression.codec") == "snappy");
  CHECK(property(p, "message.send.max.retries") == "0");
  CHECK(property(p, "message.timeout.ms") == "1500");

  p = properties("idempotent_writes: true");
  CHECK(property(p, "enable.idempotence") == "true");

  p = properties("version: \"0.9.0.1\"");
  CHECK(property(p, "api.version.request") == "false");
  CHECK(property(p, "broker.version.fallback") == "0.9.0.1");
  p = properties("version: \"2.8.0\"");
  CHECK(property(p, "api.version.request") == "<unset>");

  p = properties("sasl_username: u, sasl_password: pw");
  CHECK(property(p, "security.protocol") == "sasl_plaintext");
  CHECK(property(p, "sasl.mechanisms") == "PLAIN");
  CHECK(property(p, "sasl.username") == "u");
  CHECK(property(p, "sasl.password") == "pw");

  p = properties(
      "sasl_username: u, sasl_mechanism: SCRAM-SHA-512, enable_tls: true,"
      " insecure_skip_verify: true");
  CHECK(property(p, "security.protocol") == "sasl_ssl");
  CHECK(property(p, "sasl.mechanisms") == "SCRAM-SHA-512");
  CHECK(property(p, "enable.ssl.certificate.verification") == "false");

  p = properties("tls_ca: /etc/ssl/ca.pem");
  CHECK(property(p, "security.protocol") == "ssl");
  CHECK(property(p, "ssl.ca.location") == "/etc/ssl/ca.pem");
}

TEST_CASE("kafka config: values that cannot work are refused with the option's name") {
  CHECK(load_error("brokers: [a:1]").find("\"topic\" is required") != std::string::npos);
  CHECK(load_error("topic: t, required_acks: 2").find("expected -1") != std::string::npos);
  CHECK(load_error("topic: t, required_acks: 1, idempotent_writes: true")
            .find("needs required_acks: -1") != std::string::npos);
  CHECK(load_error("topic: t, compression_codec: 9").find("compression_codec") !=
        std::string::npos);
  CHECK(load_error("topic: t, max_message_bytes: 10").find("1000 to 1000000000") !=
        std::string::npos);
  CHECK(load_error("topic: t, brokers: [\"kafka://h:9092\"]").find("without a scheme") !=
        std::string::npos);
  CHECK(load_error("topic: t, sasl_mechanism: MD5, sasl_username: u").find("SCRAM-SHA-256") !=
        std::string::npos);
  CHECK(load_error("topic: t, producer_timestamp: later").find("metric or now") !=
        std::string::npos);
  CHECK(load_error("topic: t, version: two").find("Kafka version") != std::string::npos);
  CHECK(load_error("topic: t") == "accepted");
  CHECK(load_error("topic: t, compression_codec: lz4, routing_key: random") == "accepted");
}

TEST_CASE("kafka routing: topic_tag picks the topic, routing_tag the key") {
  kafka::Router router({"metrics", "dest", true, "host", ""});
  Metric a("cpu", 1);
  a.set_tag("host", "h1");
  CHECK(router.topic(a) == "metrics");
  CHECK(router.key(a) == "h1");
  CHECK_FALSE(router.strips_topic_tag(a));
  Metric b("cpu", 1);
  b.set_tag("dest", "alerts");
  CHECK(router.topic(b) == "alerts");
  CHECK(router.key(b) == "");  // no host tag, no routing_key: no key
  CHECK(router.strips_topic_tag(b));

  kafka::Router kept({"metrics", "dest", false, "", "fixed"});
  CHECK_FALSE(kept.strips_topic_tag(b));
  CHECK(kept.key(b) == "fixed");
}

TEST_CASE("kafka routing: routing_key random gives each message a fresh version 4 UUID") {
  kafka::Router router({"metrics", "", false, "host", "random"});
  Metric m("cpu", 1);
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    std::string key = router.key(m);
    REQUIRE(key.size() == 36);
    CHECK(key[8] == '-');
    CHECK(key[13] == '-');
    CHECK(key[14] == '4');
    CHECK(key[18] == '-');
    CHECK(std::string("89ab").find(key[19]) != std::string::npos);
    CHECK(key[23] == '-');
    keys.insert(key);
  }
  CHECK(keys.size() == 100);
  m.set_tag("host", "h1");
  CHECK(router.key(m) == "h1");  // the tag wins over random
}

TEST_CASE("kafka delivery errors: message faults are permanent, the rest transient") {
  using kafka::FailureKind;
  CHECK(kafka::classify_delivery_error(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) ==
        FailureKind::kMessage);
  CHECK(kafka::classify_delivery_error(RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP) ==
        FailureKind::kMessage);
  CHECK(kafka::classify_delivery_error(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION) == FailureKind::kMessage);
  CHECK(kafka::classify_delivery_error(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT) ==
        FailureKind::kTransient);
  CHECK(kafka::classify_delivery_error(RD_KAFKA_RESP_ERR__TRANSPORT) == FailureKind::kTransient);
  CHECK(kafka::classify_delivery_error(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS) ==
        FailureKind::kTransient);
  CHECK(kafka::classify_delivery_error(RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) ==
        FailureKind::kTransient);
}
