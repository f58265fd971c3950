// Produces metrics to Kafka through librdkafka, one message per metric. A batch is
// acknowledged only when the delivery report of every one of its messages arrived without
// error; a transient failure (broker down, timeout, leader lost beyond librdkafka's retries)
// makes the host write the whole batch again, so delivery is at-least-once.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/kafka_client_options.hpp"
#include "delivery_errors.hpp"
#include "plugin/registry.hpp"
#include "plugin/format_factory.hpp"
#include "producer_config.hpp"
#include "routing.hpp"

namespace sluice::outputs::kafka {
namespace {

const std::vector<OptionSpec> kOptions = core::with_kafka_client_options({
    {"topic", OptionType::kString, "", "Topic to write to", true},
    {"topic_tag", OptionType::kString, "",
     "Tag whose value, when a metric has it, is the topic instead"},
    {"exclude_topic_tag", OptionType::kBool, "false", "Leave topic_tag out of the written metric"},
    {"routing_tag", OptionType::kString, "",
     "Tag whose value, when a metric has it, is the message key"},
    {"routing_key", OptionType::kString, "",
     "Message key otherwise (\"random\": a new UUID per message; empty: no key)"},
    {"compression_codec", OptionType::kString, "0",
     "0 or none, 1 or gzip, 2 or snappy, 3 or lz4, 4 or zstd"},
    {"required_acks", OptionType::kInt, "-1",
     "Acknowledgements the leader waits for: -1 all replicas, 1 the leader, 0 none"},
    {"idempotent_writes", OptionType::kBool, "false",
     "Idempotent producer: broker-side retries write each message once"},
    {"max_message_bytes", OptionType::kInt, "1000000",
     "Largest message; a larger metric is rejected"},
    {"max_retry", OptionType::kInt, "3", "Times librdkafka resends a message before it fails"},
    {"timeout", OptionType::kDuration, "10s",
     "How long a write waits for its delivery reports before it is retried"},
    {"producer_timestamp", OptionType::kString, "metric",
     "Message timestamp: metric (the metric's time) or now"},
});

// The most librdkafka adds to key and value when it checks a message against
// message.max.bytes (the largest header of a v2 record).
constexpr size_t kRecordOverhead = 36;

// The delivery reports of one write. librdkafka hands each message's report to the callback
// with this as its opaque, on the thread that polls (the write's own).
struct PendingWrite {
  std::optional<WriteResult> early;  // known without reports (see KafkaOutput::send)
  // The messages' values, which librdkafka reads without copying until their reports are in.
  std::string text;
  size_t messages = 0;
  size_t outstanding = 0;
  size_t failed = 0;
  rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string first_topic;
  bool message_failure = false;  // a message that can never be written
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* write = static_cast<PendingWrite*>(message->_private);
  if (write == nullptr) return;
  --write->outstanding;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  if (write->failed++ == 0) {
    write->first_error = message->err;
    write->first_topic = rd_kafka_topic_name(message->rkt);
  }
  if (classify_delivery_error(message->err) == FailureKind::kMessage) {
    write->message_failure = true;
  }
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class KafkaOutput final : public Output {
 public:
  explicit KafkaOutput(const PluginContext& ctx)
      : log_(ctx.log),
        serializer_(plugin::make_serializer(ctx)),
        properties_(producer_properties(ctx.options)),
        router_(RoutingOptions{ctx.options.get_string("topic"), ctx.options.get_string("topic_tag"),
                               ctx.options.get_bool("exclude_topic_tag"),
                               ctx.options.get_string("routing_tag"),
                               ctx.options.get_string("routing_key")}),
        max_message_bytes_(static_cast<size_t>(ctx.options.get_int("max_message_bytes"))),
        timeout_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                        ctx.options.get_duration("timeout"))
                        .count()) {
    if (ctx.options.get_string("topic").empty()) {
      throw OptionError("topic", "needs the name of the topic to write to");
    }
    const std::string& stamp = ctx.options.get_string("producer_timestamp");
    if (stamp != "metric" && stamp != "now") {
      throw OptionError("producer_timestamp", "expected metric or now, got \"" + stamp + "\"");
    }
    metric_timestamp_ = stamp == "metric";
    brokers_ = core::kafka_property(properties_, "bootstrap.servers");
    // Fail on a property librdkafka refuses now, while the config is loaded, not at the first
    // write.
    rd_kafka_conf_t* conf = make_conf();
    rd_kafka_conf_destroy(conf);
  }

  ~KafkaOutput() override { destroy_producer(false); }

  WriteResult connect() override {
    if (WriteResult r = ensure_producer(); r.status != WriteResult::Status::kOk) return r;
    // Ask for the cluster's brokers: the cheapest proof that one of them answers.
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err =
        rd_kafka_metadata(rk_, 0, nullptr, &metadata, static_cast<int>(timeout_ms_));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return WriteResult::retry("cannot reach Kafka brokers " + brokers_ + ": " +
                                rd_kafka_err2str(err));
    }
    int brokers = metadata->broker_cnt;
    rd_kafka_metadata_destroy(metadata);
    log_.info("connected to Kafka at " + brokers_ + " (" + std::to_string(brokers) + " brokers)");
    return WriteResult::ok();
  }

  // Writing ahead: the next batches are produced while the oldest one's delivery reports are
  // awaited, so the brokers get messages without a gap between batches. Four batches in flight
  // keep a local broker busy where two left it waiting (bench/kafka_bench).
  size_t max_writes_in_flight() const override { return 4; }

  void start_write(std::span<const Metric> batch) override {
    auto write = std::make_unique<PendingWrite>();
    write->early = send(batch, *write);
    started_.push_back(std::move(write));
  }

  WriteResult finish_write() override {
    if (started_.empty()) return WriteResult::retry("no write was started");
    std::unique_ptr<PendingWrite> write = std::move(started_.front());
    started_.pop_front();
    WriteResult result = await(*write);
    // Reports still to come need their PendingWrite (and librdkafka its text).
    if (write->outstanding > 0) {
      pending_.push_back(std::move(write));
    } else if (spare_texts_.size() < 2) {
      spare_texts_.push_back(std::move(write->text));
    }
    return result;
  }

  WriteResult write(std::span<const Metric> batch) override {
    start_write(batch);
    return finish_write();
  }

  void close() override { destroy_producer(true); }

 private:
  struct Prepared {
    size_t metric;        // index in the batch
    size_t value_offset;  // in the write's text
    size_t value_size;
    std::string key;
    std::string_view topic;  // into the metric's tag or the options: lives as long as the write
  };

  // Queues the batch's messages. Returns the write's outcome when it is known without waiting
  // for reports (nothing to send, a metric too large, a queue that stays full).
  std::optional<WriteResult> send(std::span<const Metric> batch, PendingWrite& write) {
    if (batch.empty()) return WriteResult::ok();
    if (WriteResult r = ensure_producer(); r.status != WriteResult::Status::kOk) return r;
    forget_finished_writes();

    // Serialize everything first: a metric too large for any broker is found before anything
    // is sent, so splitting the batch sends nothing twice.
    if (!spare_texts_.empty()) {
      write.text = std::move(spare_texts_.back());
      spare_texts_.pop_back();
    }
    prepare(batch, write.text);
    for (const Prepared& m : messages_) {
      if (m.value_size + m.key.size() + kRecordOverhead > max_message_bytes_) {
        std::string why = "metric \"" + batch[m.metric].name() + "\" makes a message of " +
                          std::to_string(m.value_size + m.key.size()) +
                          " bytes, more than max_message_bytes (" +
                          std::to_string(max_message_bytes_) + ")";
        return batch.size() > 1 ? WriteResult::split(why) : WriteResult::reject(why);
      }
    }
    if (messages_.empty()) return WriteResult::ok();

    write.messages = messages_.size();
    int64_t deadline = now_ms() + timeout_ms_;
    for (const Prepared& m : messages_) {
      if (WriteResult r = produce(m, batch, write, deadline);
          r.status != WriteResult::Status::kOk) {
        return r;
      }
    }
    return std::nullopt;
  }

  // Waits for the write's delivery reports and tells what they amount to.
  WriteResult await(PendingWrite& write) {
    if (write.early) return *write.early;
    // Every message fails by itself after message.timeout.ms; the grace covers the last
    // report's way back.
    int64_t deadline = now_ms() + timeout_ms_ + 2000;
    while (write.outstanding > 0 && rk_ != nullptr) {
      int64_t left = deadline - now_ms();
      if (left <= 0) break;
      int slice = static_cast<int>(std::min<int64_t>(left, 10));
      if (started_.empty()) {
        // Nothing comes after this batch: flushing sends what is queued at once instead of
        // lingering for more (linger.ms), and serves the reports as polling does. Short slices:
        // a message of an earlier, timed-out write may still be queued.
        rd_kafka_flush(rk_, slice);
      } else {
        // Later batches keep the queue flowing; serve the reports as they come.
        rd_kafka_poll(rk_, slice);
      }
    }
    if (rk_ != nullptr) {
      if (WriteResult r = check_fatal(); r.status != WriteResult::Status::kOk) return r;
    }
    if (write.outstanding > 0) {
      return WriteResult::retry("no delivery report for " + std::to_string(write.outstanding) +
                                " of " + std::to_string(write.messages) + " messages to " +
                                brokers_ + " within " + std::to_string(timeout_ms_) + "ms");
    }
    if (write.failed == 0) {
      std::lock_guard lock(log_mutex_);
      last_error_.clear();  // the next outage is worth a line again
      return WriteResult::ok();
    }
    std::string why = std::to_string(write.failed) + " of " + std::to_string(write.messages) +
                      " messages not delivered (first to topic \"" + write.first_topic +
                      "\"): " + rd_kafka_err2str(write.first_error);
    if (write.message_failure) {
      return write.messages > 1 ? WriteResult::split(why) : WriteResult::reject(why);
    }
    return WriteResult::retry(why);
  }

  void prepare(std::span<const Metric> batch, std::string& text) {
    messages_.clear();
    text.clear();
    for (size_t i = 0; i < batch.size(); ++i) {
      const Metric& m = batch[i];
      size_t start = text.size();
      if (router_.strips_topic_tag(m)) {
        Metric copy = m;
        copy.remove_tag(router_.topic_tag());
        serializer_->serialize(copy, text);
      } else {
        serializer_->serialize(m, text);
      }
      if (text.size() == start) continue;  // nothing to write for this metric
      messages_.push_back(
          Prepared{i, start, text.size() - start, router_.key(m), router_.topic(m)});
    }
  }

  WriteResult produce(const Prepared& m, std::span<const Metric> batch, PendingWrite& write,
                      int64_t deadline) {
    rd_kafka_topic_t* topic = topic_handle(m.topic);
    int64_t timestamp = metric_timestamp_ ? batch[m.metric].time() / 1'000'000 : 0;  // 0: now
    // librdkafka's argument macros cast without parentheses: hand them plain variables.
    void* value = write.text.data() + m.value_offset;
    const void* key = m.key.empty() ? nullptr : m.key.data();
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          rk_, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_MSGFLAGS(0),
          RD_KAFKA_V_VALUE(value, m.value_size), RD_KAFKA_V_KEY(key, m.key.size()),
          RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_OPAQUE(&write), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++write.outstanding;
        return WriteResult::ok();
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && now_ms() < deadline) {
        // librdkafka's queue is full: serve delivery reports until there is room.
        rd_kafka_poll(rk_, 10);
        continue;
      }
      std::string why = "cannot queue a message for topic \"" + std::string(m.topic) +
                        "\": " + rd_kafka_err2str(err);
      if (classify_delivery_error(err) == FailureKind::kMessage) {
        return batch.size() > 1 ? WriteResult::split(why) : WriteResult::reject(why);
      }
      return WriteResult::retry(why);
    }
  }

  rd_kafka_topic_t* topic_handle(std::string_view name) {
    // Consecutive messages mostly share a topic: skip the lookup then.
    if (last_topic_ != nullptr && name == last_topic_name_) return last_topic_;
    last_topic_name_.assign(name);
    auto it = topics_.find(last_topic_name_);
    if (it == topics_.end()) {
      it =
          topics_
              .emplace(last_topic_name_, rd_kafka_topic_new(rk_, last_topic_name_.c_str(), nullptr))
              .first;
    }
    last_topic_ = it->second;
    return last_topic_;
  }

  rd_kafka_conf_t* make_conf() {
    rd_kafka_conf_t* conf = core::make_kafka_conf(properties_, option_of);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t*, int err, const char* reason, void* self) {
      static_cast<KafkaOutput*>(self)->on_error(static_cast<rd_kafka_resp_err_t>(err), reason);
    });
    rd_kafka_conf_set_log_cb(
        conf, [](const rd_kafka_t* rk, int level, const char* facility, const char* message) {
          auto* self = static_cast<KafkaOutput*>(rd_kafka_opaque(rk));
          if (self != nullptr) self->on_log(level, facility, message);
        });
    return conf;
  }

  static std::string option_of(const std::string& property) {
    if (property == "compression.codec") return "compression_codec";
    if (property == "message.max.bytes") return "max_message_bytes";
    if (property == "message.timeout.ms") return "timeout";
    if (property == "acks") return "required_acks";
    if (property == "enable.idempotence") return "idempotent_writes";
    if (property == "message.send.max.retries") return "max_retry";
    std::string option = core::kafka_option_of(property);
    return option.empty() ? "brokers" : option;
  }

  // librdkafka calls these from its own threads.
  void on_error(rd_kafka_resp_err_t err, const char* reason) {
    std::lock_guard lock(log_mutex_);
    // A broker that is down repeats itself on every reconnect attempt.
    if (reason == last_error_) return;
    last_error_ = reason;
    log_.warn(std::string("Kafka: ") + rd_kafka_err2name(err) + ": " + reason);
  }
  void on_log(int level, const char* facility, const char* message) {
    core::log_kafka_line(log_, level, facility, message);
  }

  WriteResult ensure_producer() {
    if (rk_ != nullptr) return WriteResult::ok();
    char error[512];
    rd_kafka_conf_t* conf = make_conf();
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      return WriteResult::retry(std::string("cannot create a Kafka producer for ") + brokers_ +
                                ": " + error);
    }
    return WriteResult::ok();
  }

  // An idempotent producer that lost its sequence cannot go on: start a new one, and send the
  // batch again.
  WriteResult check_fatal() {
    char reason[512];
    rd_kafka_resp_err_t err = rd_kafka_fatal_error(rk_, reason, sizeof reason);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return WriteResult::ok();
    destroy_producer(false);
    return WriteResult::retry(std::string("the Kafka producer failed and is restarted: ") + reason);
  }

  void forget_finished_writes() {
    rd_kafka_poll(rk_, 0);
    pending_.remove_if([](const auto& w) { return w->outstanding == 0; });
  }

  void destroy_producer(bool flush) {
    if (rk_ == nullptr) return;
    if (flush) rd_kafka_flush(rk_, static_cast<int>(timeout_ms_));
    // Reports of messages still queued arrive now, while their PendingWrite exists.
    rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk_, 1000);
    for (auto& [name, topic] : topics_) rd_kafka_topic_destroy(topic);
    topics_.clear();
    last_topic_ = nullptr;
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
    pending_.clear();
  }

  Logger& log_;
  std::unique_ptr<Serializer> serializer_;
  Properties properties_;
  Router router_;
  size_t max_message_bytes_;
  int64_t timeout_ms_;
  bool metric_timestamp_ = true;
  std::string brokers_;

  rd_kafka_t* rk_ = nullptr;
  std::unordered_map<std::string, rd_kafka_topic_t*> topics_;
  rd_kafka_topic_t* last_topic_ = nullptr;
  std::string last_topic_name_;
  // Writes started and not finished yet, oldest first.
  std::deque<std::unique_ptr<PendingWrite>> started_;
  // Finished writes with messages whose report has not arrived (after a timed-out write).
  std::list<std::unique_ptr<PendingWrite>> pending_;
  std::vector<Prepared> messages_;        // of the write being sent
  std::vector<std::string> spare_texts_;  // of finished writes, for reuse

  std::mutex log_mutex_;
  std::string last_error_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "kafka";
  info.description = "Write metrics to Kafka topics";
  info.options = kOptions;
  info.uses_serializer = true;
  info.create_output = [](const PluginContext& ctx) { return std::make_unique<KafkaOutput>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::kafka
