// mqtt_consumer: subscribes to MQTT topics and reads each message with its data format, as
// Telegraf's plugin of the same name. At QoS 1 and 2 a message is acknowledged to the broker
// only once every output wrote its metrics (at-least-once): a message whose metrics are lost,
// or that was in the agent when it died, comes again from the broker (with a persistent
// session). The MQTT client is our own (core/mqtt_client), since Paho acknowledges on arrival.
#include <fmt/format.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/delivery.hpp"
#include "core/mqtt_client.hpp"
#include "message_accumulator.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"
#include "topic_parsing.hpp"

namespace sluice::inputs::mqtt_consumer {
namespace {

namespace mqtt = core::mqtt;

const std::vector<OptionSpec> kOptions = {
    {"servers", OptionType::kStringList, "[\"tcp://127.0.0.1:1883\"]",
     "Brokers as scheme://host:port (tcp, mqtt, ssl, tls, mqtts); tried in turn"},
    {"topics", OptionType::kStringList, "", "Topic filters to subscribe to ('+' and '#' allowed)",
     true},
    {"topic_tag", OptionType::kString, "topic",
     "Tag holding the message's topic; empty: no tag"},
    {"qos", OptionType::kInt, "0",
     "QoS of the subscriptions: 0, 1 or 2 (1 and 2: acknowledged once written)"},
    {"connection_timeout", OptionType::kDuration, "30s",
     "How long a connection attempt (TCP, TLS, CONNACK) may take"},
    {"max_undelivered_messages", OptionType::kInt, "1000",
     "Messages read but not yet written by the outputs; at this many the socket is not read"},
    {"persistent_session", OptionType::kBool, "false",
     "Keep the session on the broker, so messages sent while away or not acknowledged come "
     "again (needs client_id)"},
    {"client_id", OptionType::kString, "", "Client identifier (empty: a random one)"},
    {"username", OptionType::kString, "", "User name for the broker"},
    {"password", OptionType::kString, "", "Password for the broker"},
    {"keepalive", OptionType::kInt, "60",
     "Seconds between pings when nothing else is sent; 0: no pings"},
    {"ping_timeout", OptionType::kDuration, "10s",
     "How long to wait for a ping's answer before the connection counts as lost"},
    {"tls_ca", OptionType::kString, "", "CA certificate file (PEM) to verify the broker"},
    {"tls_cert", OptionType::kString, "", "Client certificate file (PEM)"},
    {"tls_key", OptionType::kString, "", "Client private key file (PEM)"},
    {"insecure_skip_verify", OptionType::kBool, "false",
     "Use TLS but do not verify the broker's certificate"},
    {"topic_parsing", OptionType::kStringMapList, "",
     "Rules {topic, measurement, tags, fields, types} taking names, tags and fields from the "
     "topic's levels"},
};

std::string random_client_id() {
  std::random_device rd;
  uint64_t bits = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return fmt::format("sluice-{:016x}", bits);
}

std::chrono::milliseconds to_ms(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

mqtt::ClientSettings read_settings(const Options& o) {
  mqtt::ClientSettings s;
  for (const std::string& server : o.get_strings("servers")) {
    mqtt::BrokerAddress address;
    if (std::string error = mqtt::parse_broker_address(server, address); !error.empty()) {
      throw OptionError("servers", error);
    }
    s.servers.push_back(std::move(address));
  }
  if (s.servers.empty()) throw OptionError("servers", "needs at least one broker");

  int64_t qos = o.get_int("qos");
  if (qos < 0 || qos > 2) throw OptionError("qos", fmt::format("expected 0, 1 or 2, got {}", qos));
  const std::vector<std::string>& topics = o.get_strings("topics");
  if (topics.empty()) throw OptionError("topics", "needs at least one topic");
  for (const std::string& topic : topics) {
    if (std::string problem = topic_filter_problem(topic); !problem.empty()) {
      throw OptionError("topics", problem);
    }
    s.subscriptions.push_back(mqtt::TopicFilter{topic, static_cast<uint8_t>(qos)});
  }

  s.connection_timeout = to_ms(o.get_duration("connection_timeout"));
  if (s.connection_timeout.count() <= 0) {
    throw OptionError("connection_timeout", "must be at least 1ms");
  }
  int64_t undelivered = o.get_int("max_undelivered_messages");
  if (undelivered < 1) {
    throw OptionError("max_undelivered_messages",
                      fmt::format("must be at least 1, got {}", undelivered));
  }
  s.max_unacknowledged = static_cast<size_t>(undelivered);

  s.client_id = o.get_string("client_id");
  bool persistent = o.get_bool("persistent_session");
  if (persistent && s.client_id.empty()) {
    throw OptionError("persistent_session",
                      "needs client_id: the broker finds a session by its client id");
  }
  if (s.client_id.empty()) s.client_id = random_client_id();
  s.clean_session = !persistent;
  if (!o.get_string("username").empty()) s.username = o.get_string("username");
  if (!o.get_string("password").empty()) {
    if (!s.username) throw OptionError("password", "MQTT sends a password only with a username");
    s.password = o.get_string("password");
  }

  int64_t keepalive = o.get_int("keepalive");
  if (keepalive < 0 || keepalive > 65535) {
    throw OptionError("keepalive", fmt::format("expected 0 to 65535 seconds, got {}", keepalive));
  }
  s.keep_alive = std::chrono::seconds(keepalive);
  s.ping_timeout = to_ms(o.get_duration("ping_timeout"));
  if (s.ping_timeout.count() <= 0) throw OptionError("ping_timeout", "must be at least 1ms");

  s.tls.ca = o.get_string("tls_ca");
  s.tls.cert = o.get_string("tls_cert");
  s.tls.key = o.get_string("tls_key");
  s.tls.insecure_skip_verify = o.get_bool("insecure_skip_verify");
  bool any_tls = false;
  for (const mqtt::BrokerAddress& a : s.servers) any_tls = any_tls || a.tls;
  if (!any_tls && (!s.tls.ca.empty() || !s.tls.cert.empty() || !s.tls.key.empty())) {
    throw OptionError(!s.tls.ca.empty() ? "tls_ca" : "tls_cert",
                      "TLS options need an ssl://, tls:// or mqtts:// server");
  }
  if (s.tls.cert.empty() != s.tls.key.empty()) {
    throw OptionError(s.tls.cert.empty() ? "tls_cert" : "tls_key",
                      "a client certificate needs both tls_cert and tls_key");
  }
  return s;
}

class MqttConsumer final : public ServiceInput {
 public:
  explicit MqttConsumer(const PluginContext& ctx)
      : log_(ctx.log),
        settings_(read_settings(ctx.options)),
        parsing_(ctx.options.get_string_map_list("topic_parsing")),
        topic_tag_(ctx.options.get_string("topic_tag")),
        format_(ctx.options.get_string("data_format")),
        parser_(plugin::make_parser(ctx)) {
    // TLS files are loaded now, so that a bad one is a configuration error.
    try {
      mqtt::Client check(settings_, [](mqtt::ReceivedMessage&&) {}, log_);
    } catch (const std::invalid_argument& e) {
      throw OptionError(settings_.tls.cert.empty() ? "tls_ca" : "tls_cert", e.what());
    }
  }

  ~MqttConsumer() override { stop(); }

  void start(Accumulator& acc) override {
    acc_ = &acc;
    client_ = std::make_shared<mqtt::Client>(
        settings_, [this](mqtt::ReceivedMessage&& m) { on_message(std::move(m)); }, log_);
    client_->start();
  }

  void stop() override {
    if (!client_) return;
    client_->stop();
    // Messages still in the pipeline are not acknowledged any more: the broker keeps them
    // for the next connection (with a persistent session).
    client_.reset();
  }

 private:
  // On the client's thread, one message at a time.
  void on_message(mqtt::ReceivedMessage&& message) {
    std::weak_ptr<mqtt::Client> client = client_;
    mqtt::Receipt receipt = message.receipt;
    // Ends when the last of the message's metrics is written or dropped; at once when the
    // message gave no metric (empty, or unreadable and reported as rejected).
    DeliveryHandle group = make_delivery_group([client, receipt](bool delivered) {
      std::shared_ptr<mqtt::Client> c = client.lock();
      if (!c) return;
      if (delivered) {
        c->acknowledge(receipt);
      } else {
        c->abandon(receipt);
      }
    });
    const std::string& topic = message.publish.topic;
    MessageAccumulator acc(*acc_, topic, topic_tag_, parsing_, std::move(group));
    plugin::parse_into(*parser_, format_, message.publish.payload, acc, "topic " + topic);
    if (!acc.parsing_problem().empty()) {
      acc_->add_error(fmt::format("topic {}: {}", topic, acc.parsing_problem()));
    }
  }

  Logger& log_;
  mqtt::ClientSettings settings_;
  TopicParsing parsing_;
  std::string topic_tag_;
  std::string format_;
  std::unique_ptr<Parser> parser_;
  Accumulator* acc_ = nullptr;
  std::shared_ptr<mqtt::Client> client_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "mqtt_consumer";
  info.description = "Read metrics in any data format from MQTT topics, acknowledged once written";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<MqttConsumer>(ctx);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::mqtt_consumer
