// Publishes metrics to MQTT brokers: one message per metric, or one per topic and batch, with
// QoS 0, 1 or 2. A write is acknowledged only once every message's delivery completed (PUBACK
// for QoS 1, PUBCOMP for QoS 2), so a broker lost mid-batch makes the host write the whole
// batch again: at-least-once delivery.
//
// MQTT 3.1.1 and 5 over TCP or TLS go through sluice's own publisher (core/mqtt_publisher),
// which keeps a window of messages in flight from the writing thread; WebSocket servers, which
// it does not speak, go through the Paho MQTT C++ client.
#include <mqtt/async_client.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/mqtt_publisher.hpp"
#include "plugin/registry.hpp"
#include "plugin/format_factory.hpp"
#include "topic_template.hpp"

namespace sluice::outputs::mqtt {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"servers", OptionType::kStringList, "[localhost:1883]",
     "Brokers as [scheme://]host:port (tcp, mqtt, ssl, tls, mqtts, ws, wss); tried in order"},
    {"protocol", OptionType::kString, "\"3.1.1\"", "MQTT protocol version: 3.1.1 or 5"},
    {"topic", OptionType::kString, "\"sluice/{{ .Hostname }}/{{ .PluginName }}\"",
     "Topic template: {{ .Hostname }}, {{ .PluginName }} (metric name), {{ .Tag \"key\" }}"},
    {"qos", OptionType::kInt, "2", "QoS of published messages: 0, 1 or 2"},
    {"retain", OptionType::kBool, "false",
     "Set the retain flag, so the broker keeps the last message"},
    {"batch", OptionType::kBool, "false",
     "Send one message per topic with all of a batch's metrics, not one per metric"},
    {"client_id", OptionType::kString, "", "Client identifier (empty: a random one)"},
    {"username", OptionType::kString, "", "User name for the broker"},
    {"password", OptionType::kString, "", "Password for the broker"},
    {"persistent_session", OptionType::kBool, "false",
     "Keep the session on the broker across reconnects (needs client_id)"},
    {"keep_alive", OptionType::kDuration, "30s", "Keep-alive interval (0s: none)"},
    {"timeout", OptionType::kDuration, "5s",
     "How long to wait for a connection, and for each acknowledgement"},
    {"max_inflight", OptionType::kInt, "20",
     "QoS 1 and 2 messages awaiting acknowledgement at once (an MQTT 5 broker may lower it)"},
    {"tls_ca", OptionType::kString, "", "CA certificate file (PEM) to verify the broker"},
    {"tls_cert", OptionType::kString, "", "Client certificate file (PEM)"},
    {"tls_key", OptionType::kString, "", "Client private key file (PEM)"},
    {"insecure_skip_verify", OptionType::kBool, "false",
     "Use TLS but do not verify the broker's certificate"},
};

// Paho wants scheme://host:port; Telegraf also accepts host:port and the tls:// scheme.
std::string normalize_server(const std::string& server) {
  size_t sep = server.find("://");
  if (sep == std::string::npos) return "tcp://" + server;
  std::string scheme = server.substr(0, sep);
  std::string rest = server.substr(sep + 3);
  if (scheme == "tcp" || scheme == "mqtt" || scheme == "ssl" || scheme == "mqtts" ||
      scheme == "ws" || scheme == "wss") {
    return server;
  }
  if (scheme == "tls") return "ssl://" + rest;
  throw OptionError("servers", "unknown scheme \"" + scheme + "\" in \"" + server +
                                   "\"; use tcp, mqtt, ssl, tls, mqtts, ws or wss");
}

bool is_tls(const std::string& url) {
  return url.starts_with("ssl://") || url.starts_with("mqtts://") || url.starts_with("wss://");
}

std::string random_client_id() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "sluice-";
  uint64_t bits = gen();
  for (int i = 0; i < 16; ++i) id += kHex[(bits >> (4 * i)) & 0xf];
  return id;
}

std::chrono::milliseconds to_ms(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

// Publishes Paho may hold before its send thread has taken them (its own default is 100).
constexpr int kMaxQueued = 65535;

// Paho's answers to a publish when its window of unacknowledged messages is full: wait for
// the oldest one and publish again.
bool is_window_full(int rc) {
  return rc == MQTTASYNC_MAX_MESSAGES_INFLIGHT || rc == MQTTASYNC_NO_MORE_MSGIDS ||
         rc == MQTTASYNC_MAX_BUFFERED_MESSAGES;
}

class MqttOutput final : public Output {
 public:
  explicit MqttOutput(const PluginContext& ctx)
      : log_(ctx.log),
        serializer_(plugin::make_serializer(ctx)),
        topic_(ctx.options.get_string("topic")),
        retain_(ctx.options.get_bool("retain")),
        batch_(ctx.options.get_bool("batch")),
        timeout_(ctx.options.get_duration("timeout")) {
    const Options& o = ctx.options;
    for (const std::string& s : o.get_strings("servers")) servers_.push_back(normalize_server(s));
    if (servers_.empty()) throw OptionError("servers", "needs at least one broker");
    const std::string& protocol = o.get_string("protocol");
    if (protocol == "3.1.1") {
      version_ = MQTTVERSION_3_1_1;
    } else if (protocol == "5" || protocol == "5.0") {
      version_ = MQTTVERSION_5;
    } else {
      throw OptionError("protocol", "expected 3.1.1 or 5, got \"" + protocol + "\"");
    }
    int64_t qos = o.get_int("qos");
    if (qos < 0 || qos > 2) {
      throw OptionError("qos", "expected 0, 1 or 2, got " + std::to_string(qos));
    }
    qos_ = static_cast<int>(qos);
    if (timeout_.count() <= 0) throw OptionError("timeout", "must be longer than 0s");
    int64_t inflight = o.get_int("max_inflight");
    if (inflight < 1 || inflight > 65535) {
      throw OptionError("max_inflight", "expected 1 to 65535, got " + std::to_string(inflight));
    }
    max_inflight_ = static_cast<size_t>(inflight);
    client_id_ = o.get_string("client_id");
    persistent_ = o.get_bool("persistent_session");
    if (persistent_ && client_id_.empty()) {
      throw OptionError("persistent_session",
                        "needs client_id: the broker finds a session by its client id");
    }
    if (client_id_.empty()) client_id_ = random_client_id();
    native_ = make_native_publisher(o);
    if (native_) return;

    options_.set_mqtt_version(version_);
    if (version_ == MQTTVERSION_5) {
      options_.set_clean_start(!persistent_);
      // A v5 session ends with the connection unless it is given a lifetime.
      if (persistent_) {
        options_.set_properties(
            ::mqtt::properties{{::mqtt::property::SESSION_EXPIRY_INTERVAL, INT32_MAX}});
      }
    } else {
      options_.set_clean_session(!persistent_);
    }
    options_.set_keep_alive_interval(
        std::chrono::duration_cast<std::chrono::seconds>(o.get_duration("keep_alive")));
    // Paho counts the connect timeout in whole seconds.
    options_.set_connect_timeout(std::max<int>(
        1, static_cast<int>(std::chrono::ceil<std::chrono::seconds>(timeout_).count())));
    options_.set_automatic_reconnect(false);  // the host retries with back-off
    if (!o.get_string("username").empty()) options_.set_user_name(o.get_string("username"));
    if (!o.get_string("password").empty()) options_.set_password(o.get_string("password"));
    if (servers_.size() > 1) options_.set_servers(::mqtt::string_collection::create(servers_));

    bool tls = false;
    for (const std::string& s : servers_) tls = tls || is_tls(s);
    if (tls) {
      ::mqtt::ssl_options ssl;
      if (!o.get_string("tls_ca").empty()) ssl.set_trust_store(o.get_string("tls_ca"));
      if (!o.get_string("tls_cert").empty()) ssl.set_key_store(o.get_string("tls_cert"));
      if (!o.get_string("tls_key").empty()) ssl.set_private_key(o.get_string("tls_key"));
      bool verify = !o.get_bool("insecure_skip_verify");
      ssl.set_enable_server_cert_auth(verify);
      ssl.set_verify(verify);
      options_.set_ssl(std::move(ssl));
    } else if (!o.get_string("tls_ca").empty() || !o.get_string("tls_cert").empty()) {
      throw OptionError("tls_ca", "TLS options need an ssl://, tls://, mqtts:// or wss:// server");
    }
  }

  ~MqttOutput() override { drop_client(); }

  WriteResult connect() override { return native_ ? ensure_native_connected() : ensure_connected(); }

  WriteResult write(std::span<const Metric> batch) override {
    if (batch.empty()) return WriteResult::ok();
    // Topics first: a metric that cannot be published anywhere is found before anything is
    // sent, so splitting the batch sends nothing twice.
    topics_.clear();
    topics_.reserve(batch.size());
    for (const Metric& m : batch) {
      topics_.push_back(topic_.render(m));
      if (std::string problem = publish_topic_problem(topics_.back()); !problem.empty()) {
        std::string why = "metric \"" + m.name() + "\" cannot be published: " + problem;
        return batch.size() > 1 ? WriteResult::split(why) : WriteResult::reject(why);
      }
    }
    build_messages(batch);
    if (messages_.empty()) return WriteResult::ok();

    if (native_) return publish_native();
    if (WriteResult r = ensure_connected(); r.status != WriteResult::Status::kOk) return r;
    WriteResult result = publish_all();
    if (result.status != WriteResult::Status::kOk) {
      // The connection may look alive while its messages went nowhere: start afresh, and let
      // the host send the whole batch again.
      drop_client();
    }
    return result;
  }

  void close() override {
    if (native_) native_->disconnect();
    drop_client();
  }

 private:
  struct Message {
    const std::string* topic;
    std::string payload;
  };

  void build_messages(std::span<const Metric> batch) {
    messages_.clear();
    if (!batch_) {
      for (size_t i = 0; i < batch.size(); ++i) {
        std::string payload;
        serializer_->serialize(batch[i], payload);
        if (!payload.empty()) messages_.push_back(Message{&topics_[i], std::move(payload)});
      }
      return;
    }
    // One message per topic, in the order the topics first appear.
    std::unordered_map<std::string_view, size_t> group_of;
    std::vector<std::vector<size_t>> groups;
    for (size_t i = 0; i < batch.size(); ++i) {
      auto [it, added] = group_of.try_emplace(topics_[i], groups.size());
      if (added) groups.emplace_back();
      groups[it->second].push_back(i);
    }
    for (const std::vector<size_t>& group : groups) {
      std::string payload;
      if (groups.size() == 1) {
        serializer_->serialize_batch(batch, payload);
      } else {
        std::vector<Metric> metrics;
        metrics.reserve(group.size());
        for (size_t i : group) metrics.push_back(batch[i]);
        serializer_->serialize_batch(metrics, payload);
      }
      if (!payload.empty())
        messages_.push_back(Message{&topics_[group.front()], std::move(payload)});
    }
  }

  // The publisher for MQTT 3.1.1 when every server is TCP or TLS; null otherwise (WebSocket).
  std::unique_ptr<core::mqtt::Publisher> make_native_publisher(const Options& o) {
    core::mqtt::PublisherSettings settings;
    for (const std::string& url : servers_) {
      core::mqtt::BrokerAddress address;
      if (!core::mqtt::parse_broker_address(url, address).empty()) return nullptr;
      settings.servers.push_back(address);
    }
    settings.tls.ca = o.get_string("tls_ca");
    settings.tls.cert = o.get_string("tls_cert");
    settings.tls.key = o.get_string("tls_key");
    settings.tls.insecure_skip_verify = o.get_bool("insecure_skip_verify");
    bool tls = false;
    for (const core::mqtt::BrokerAddress& a : settings.servers) tls = tls || a.tls;
    if (!tls && (!settings.tls.ca.empty() || !settings.tls.cert.empty())) {
      throw OptionError("tls_ca", "TLS options need an ssl://, tls://, mqtts:// or wss:// server");
    }
    settings.client_id = client_id_;
    if (!o.get_string("username").empty()) settings.username = o.get_string("username");
    if (!o.get_string("password").empty()) settings.password = o.get_string("password");
    settings.clean_session = !persistent_;
    settings.keep_alive =
        std::chrono::duration_cast<std::chrono::seconds>(o.get_duration("keep_alive"));
    settings.timeout = to_ms(timeout_);
    settings.max_inflight = max_inflight_;
    settings.protocol_level = version_ == MQTTVERSION_5 ? core::mqtt::kMqtt5 : core::mqtt::kMqtt311;
    try {
      return std::make_unique<core::mqtt::Publisher>(std::move(settings), log_);
    } catch (const std::invalid_argument& e) {
      throw OptionError("tls_ca", e.what());
    }
  }

  WriteResult ensure_native_connected() {
    bool was_connected = native_->connected();
    if (std::string error = native_->connect(); !error.empty()) {
      // `error` names each server tried.
      return WriteResult::retry("cannot connect to MQTT broker " + error);
    }
    if (!was_connected) {
      log_.info("connected to MQTT broker " + native_->server().text() + " as client \"" +
                client_id_ + "\"");
    }
    return WriteResult::ok();
  }

  WriteResult publish_native() {
    if (WriteResult r = ensure_native_connected(); r.status != WriteResult::Status::kOk) return r;
    outgoing_.clear();
    outgoing_.reserve(messages_.size());
    for (const Message& m : messages_) outgoing_.push_back({*m.topic, m.payload});
    std::string error = native_->publish(outgoing_, static_cast<uint8_t>(qos_), retain_);
    if (error.empty()) return WriteResult::ok();
    if (native_->refused_for_good()) {
      // Sending it again cannot help: halve the batch down to the message, and drop that one.
      std::string why = "publishing to " + native_->server().text() + " failed: " + error;
      return messages_.size() > 1 ? WriteResult::split(why) : WriteResult::reject(why);
    }
    // The publisher closed the connection: the next write connects afresh and sends the
    // whole batch again.
    return WriteResult::retry("publishing " + std::to_string(messages_.size()) + " messages to " +
                              native_->server().text() + " failed: " + error);
  }

  std::string server_list() const {
    std::string out;
    for (const std::string& s : servers_) out += (out.empty() ? "" : ", ") + s;
    return out;
  }

  WriteResult ensure_connected() {
    if (client_ && client_->is_connected()) return WriteResult::ok();
    drop_client();
    try {
      // Paho queues a publish until its send thread takes it, and by default refuses more than
      // 100 queued ones; a batch is published in one go, so allow a whole window of them.
      ::mqtt::create_options create(version_, kMaxQueued);
      client_ =
          std::make_unique<::mqtt::async_client>(servers_.front(), client_id_, create, nullptr);
      ::mqtt::token_ptr token = client_->connect(options_);
      // Paho ends a connect attempt after the connect timeout itself; the extra second only
      // guards against a token that never completes.
      if (!token->wait_for(to_ms(timeout_) * servers_.size() + std::chrono::seconds(1))) {
        drop_client();
        return WriteResult::retry("no answer from MQTT broker " + server_list() + " within " +
                                  std::to_string(to_ms(timeout_).count()) + "ms");
      }
      window_ = max_inflight_;
      if (version_ == MQTTVERSION_5) {
        // An MQTT 5 broker says how many unacknowledged messages it takes (Receive Maximum).
        const auto& props = token->get_connect_response().get_properties();
        if (props.contains(::mqtt::property::RECEIVE_MAXIMUM)) {
          auto most = ::mqtt::get<uint16_t>(props, ::mqtt::property::RECEIVE_MAXIMUM, 0);
          if (most > 0) window_ = std::min<size_t>(window_, most);
        }
      }
    } catch (const ::mqtt::exception& e) {
      drop_client();
      return WriteResult::retry("cannot connect to MQTT broker " + server_list() + ": " + e.what());
    }
    log_.info("connected to MQTT broker " + server_list() + " as client \"" + client_id_ + "\"");
    return WriteResult::ok();
  }

  void drop_client() {
    tokens_.clear();
    if (!client_) return;
    try {
      if (client_->is_connected())
        client_->disconnect(to_ms(timeout_).count())->wait_for(to_ms(timeout_));
    } catch (const ::mqtt::exception&) {
      // Already gone; nothing to tell the broker.
    }
    client_.reset();
  }

  // Waits for the oldest delivery not yet confirmed. Empty on success, else why it failed.
  std::string wait_oldest() {
    ::mqtt::delivery_token_ptr token = tokens_[waited_];
    try {
      if (!token->wait_for(to_ms(timeout_))) {
        return "no acknowledgement from the broker within " +
               std::to_string(to_ms(timeout_).count()) + "ms";
      }
    } catch (const ::mqtt::exception& e) {
      return e.what();
    }
    ++waited_;
    return "";
  }

  WriteResult publish_all() {
    tokens_.clear();
    waited_ = 0;
    tokens_.reserve(messages_.size());
    for (Message& m : messages_) {
      // Keep at most window_ messages unacknowledged: an MQTT 3.1.1 broker has no way to say
      // it is full (Mosquitto drops QoS 2 messages past its max_inflight_messages), and Paho,
      // when its own window is full, only looks again after a pause.
      while (qos_ > 0 && tokens_.size() - waited_ >= window_) {
        if (std::string error = wait_oldest(); !error.empty()) return failed_delivery(error);
      }
      auto message = ::mqtt::message::create(*m.topic, std::move(m.payload), qos_, retain_);
      while (true) {
        try {
          tokens_.push_back(client_->publish(message));
          break;
        } catch (const ::mqtt::exception& e) {
          if (!is_window_full(e.get_return_code()) || waited_ == tokens_.size()) {
            return WriteResult::retry("publishing to \"" + *m.topic + "\" on " + server_list() +
                                      " failed: " + e.what());
          }
        }
        if (std::string error = wait_oldest(); !error.empty()) return failed_delivery(error);
      }
    }
    while (waited_ < tokens_.size()) {
      if (std::string error = wait_oldest(); !error.empty()) return failed_delivery(error);
    }
    return WriteResult::ok();
  }

  WriteResult failed_delivery(const std::string& error) {
    const std::string& topic = tokens_[waited_]->get_message()->get_topic();
    return WriteResult::retry(std::to_string(tokens_.size() - waited_) + " of " +
                              std::to_string(messages_.size()) + " messages to " + server_list() +
                              " unconfirmed (first on \"" + topic + "\"): " + error);
  }

  Logger& log_;
  std::unique_ptr<Serializer> serializer_;
  TopicTemplate topic_;
  bool retain_;
  bool batch_;
  std::chrono::nanoseconds timeout_;
  std::vector<std::string> servers_;
  int version_ = MQTTVERSION_3_1_1;
  int qos_ = 2;
  std::string client_id_;
  bool persistent_ = false;
  ::mqtt::connect_options options_;

  std::unique_ptr<core::mqtt::Publisher> native_;
  std::vector<core::mqtt::OutgoingMessage> outgoing_;  // of the current write, for native_
  std::unique_ptr<::mqtt::async_client> client_;
  std::vector<std::string> topics_;  // per metric of the current write
  std::vector<Message> messages_;    // of the current write
  std::vector<::mqtt::delivery_token_ptr> tokens_;
  size_t waited_ = 0;  // tokens_ before this one are confirmed
  size_t max_inflight_ = 20;
  size_t window_ = 20;  // max_inflight_, or less when the broker says so
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "mqtt";
  info.description = "Publish metrics to MQTT brokers";
  info.options = kOptions;
  info.uses_serializer = true;
  info.create_output = [](const PluginContext& ctx) { return std::make_unique<MqttOutput>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::mqtt
