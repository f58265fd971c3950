// kafka_consumer: reads metrics in any data format from Kafka topics as a member of a consumer
// group, as Telegraf's plugin of the same name. Delivery is at-least-once: the offset of a
// message is committed only after the outputs have written every metric of it and of every
// earlier message of its partition; a message dropped unwritten is read again after a restart.
// While max_undelivered_messages are in flight the assigned partitions are paused. Listed
// message headers become tags or the metric name, and timestamp_source picks the metrics' time.
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "consumer_config.hpp"
#include "core/delivery.hpp"
#include "core/kafka_client_options.hpp"
#include "message_accumulator.hpp"
#include "message_metadata.hpp"
#include "offset_tracker.hpp"
#include "outage_log.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::kafka_consumer {
namespace {

const std::vector<OptionSpec> kOptions = core::with_kafka_client_options({
    {"topics", OptionType::kStringList, "", "Topics to consume"},
    {"topic_regexps", OptionType::kStringList, "",
     "Regular expressions of topics to consume as well (matched anywhere in the name unless "
     "anchored with ^)"},
    {"topic_tag", OptionType::kString, "", "Tag to put the message's topic in (empty: no tag)"},
    {"consumer_group", OptionType::kString, "sluice_metrics_consumers",
     "Consumer group whose members share the partitions"},
    {"offset", OptionType::kString, "oldest",
     "Where a group without a committed offset starts: oldest or newest"},
    {"balance_strategy", OptionType::kString, "range",
     "How the group shares partitions: range, roundrobin or sticky"},
    {"max_message_len", OptionType::kInt, "0",
     "Longest message in bytes; longer ones are rejected. 0: no limit"},
    {"max_undelivered_messages", OptionType::kInt, "1000",
     "Messages read but not yet written by the outputs; at this many reading pauses"},
    {"session_timeout", OptionType::kDuration, "10s",
     "A member silent for this long leaves the group and its partitions go to others"},
    {"heartbeat_interval", OptionType::kDuration, "3s",
     "How often the consumer tells the group it is alive"},
    {"msg_headers_as_tags", OptionType::kStringList, "",
     "Message headers whose values become tags (named after the header) of the message's "
     "metrics"},
    {"msg_header_as_metric_name", OptionType::kString, "",
     "Message header whose value becomes the metric name (empty: the parser's name)"},
    {"timestamp_source", OptionType::kString, "metric",
     "Time of the metrics: metric (the parser's), inner (the Kafka message's timestamp) or outer "
     "(when the agent received the message)"},
    {"max_processing_time", OptionType::kDuration, "100ms",
     "Longest one poll of the consumer blocks: how late a stop, a resume or storing a written "
     "message's offset can be noticed"},
});

// A header's value as HeaderLookup gives it; the last one when the header repeats, as Telegraf
// (which tags every occurrence in turn) ends up with.
std::optional<std::string_view> header_value(const rd_kafka_message_t& m, const std::string& name) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&m, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name.c_str(), &value, &size) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  // A header with a null value is there, but has nothing to give.
  if (value == nullptr) return std::string_view();
  return std::string_view(static_cast<const char*>(value), size);
}

// The message's Kafka timestamp in ms, whichever type the topic keeps (CreateTime or
// LogAppendTime); nullopt when the broker gave none (message format older than 0.10).
std::optional<int64_t> kafka_timestamp_ms(const rd_kafka_message_t& m) {
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  int64_t ms = rd_kafka_message_timestamp(&m, &type);
  if (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ms < 0) return std::nullopt;
  return ms;
}

class KafkaConsumer final : public ServiceInput {
 public:
  explicit KafkaConsumer(const PluginContext& ctx)
      : log_(ctx.log),
        parser_(plugin::make_parser(ctx)),
        format_(ctx.options.get_string("data_format")),
        properties_(consumer_properties(ctx.options)),
        subscription_(subscription(ctx.options)),
        topic_tag_(ctx.options.get_string("topic_tag")),
        metadata_options_(metadata_options(ctx.options)),
        poll_timeout_ms_(poll_timeout_ms(ctx.options)),
        max_message_len_(static_cast<size_t>(ctx.options.get_int("max_message_len"))),
        max_undelivered_(static_cast<size_t>(ctx.options.get_int("max_undelivered_messages"))) {
    brokers_ = core::kafka_property(properties_, "bootstrap.servers");
    // A property librdkafka refuses is a configuration error, found while the config loads.
    rd_kafka_conf_destroy(make_conf());
  }

  ~KafkaConsumer() override { stop(); }

  void start(Accumulator& acc) override {
    if (thread_.joinable()) return;
    acc_ = &acc;
    stopping_ = false;
    // A fresh queue: outcomes of an earlier run that end late must not meet this run's state.
    outcomes_ = std::make_shared<OutcomeQueue>();
    tracker_ = OffsetTracker();
    paused_ = false;
    char error[512];
    rd_kafka_conf_t* conf = make_conf();
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
    if (rk_ == nullptr) {
      rd_kafka_conf_destroy(conf);
      acc.add_error(fmt::format("cannot create a Kafka consumer for {}: {}", brokers_, error));
      return;
    }
    // Errors, logs and rebalances are served by the consumer's own poll, on its thread.
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics =
        rd_kafka_topic_partition_list_new(static_cast<int>(subscription_.size()));
    for (const std::string& t : subscription_) {
      rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      acc.add_error(fmt::format("cannot subscribe to {}: {}", fmt::join(subscription_, ", "),
                                rd_kafka_err2str(err)));
      rd_kafka_destroy(rk_);
      rk_ = nullptr;
      return;
    }
    log_.info(fmt::format("consuming {} from {} as group member of \"{}\"",
                          fmt::join(subscription_, ", "), brokers_, group()));
    thread_ = std::thread([this] { run(); });
  }

  void stop() override {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    while (!stopping_) {
      // Bounded by max_processing_time, so that a stop, a resume or an offset to store waits
      // at most that long while no message comes.
      rd_kafka_message_t* message = rd_kafka_consumer_poll(rk_, poll_timeout_ms_);
      if (message != nullptr) {
        handle(*message);
        rd_kafka_message_destroy(message);
      }
      settle();
    }
    settle();
    // Commit what is stored now: librdkafka's own commit is up to a second behind.
    commit("at stop");
    // Leaving the group revokes the partitions (the rebalance callback commits once more).
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
    // Messages still in the pipeline end later: their outcomes go nowhere, and they are read
    // again by the next consumer of the group (at-least-once).
  }

  void handle(const rd_kafka_message_t& m) {
    if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
      std::string topic = m.rkt != nullptr ? rd_kafka_topic_name(m.rkt) : "";
      outages_.error(fmt::format("{} {}", rd_kafka_err2name(m.err), topic),
                     topic.empty()
                         ? std::string(rd_kafka_message_errstr(&m))
                         : fmt::format("topic {}: {}", topic, rd_kafka_message_errstr(&m)));
      return;
    }
    outages_.recovered();
    // Taken before parsing: the time the message was received (timestamp_source outer).
    int64_t received_ns = acc_->time();
    MessageSource source{rd_kafka_topic_name(m.rkt), m.partition, m.offset};
    PartitionKey key{std::string(source.topic), m.partition};
    uint64_t assignment = tracker_.consumed(key, m.offset);
    std::string_view payload(static_cast<const char*>(m.payload), m.payload ? m.len : 0);
    if (max_message_len_ > 0 && payload.size() > max_message_len_) {
      acc_->add_rejected(fmt::format("{}: message of {} bytes is longer than max_message_len ({})",
                                     describe(source), payload.size(), max_message_len_));
      // Nothing of it can ever be written: as good as delivered, its offset may be committed.
      tracker_.finish({assignment, m.offset, true});
      update_pause();
      return;
    }
    std::shared_ptr<OutcomeQueue> outcomes = outcomes_;
    int64_t offset = m.offset;
    DeliveryHandle group = make_delivery_group([outcomes, assignment, offset](bool delivered) {
      outcomes->push({assignment, offset, delivered});
    });
    MessageMetadata metadata = message_metadata(
        metadata_options_, [&](const std::string& name) { return header_value(m, name); },
        kafka_timestamp_ms(m), received_ns);
    if (!metadata.unusable_headers.empty()) {
      log_.debug(fmt::format("{}: headers {} are empty or not UTF-8: not used", describe(source),
                             fmt::join(metadata.unusable_headers, ", ")));
    }
    MessageAccumulator acc(*acc_, group, topic_tag_, metadata, source);
    plugin::parse_into(*parser_, format_, payload, acc);
    // A message with no metric (all rejected, or empty) ends here, delivered.
    group.reset();
    update_pause();
  }

  // Applies the outcomes that arrived, stores the offsets they release, and pauses or resumes.
  void settle() {
    for (const Outcome& o : outcomes_->take()) {
      if (auto lost = tracker_.finish(o)) {
        log_.warn(fmt::format(
            "topic {} partition {}: the message at offset {} was dropped before it was written; "
            "offsets from it on are not committed, so it is read again after a restart",
            lost->topic, lost->partition, o.offset));
      }
    }
    store(tracker_.take_storable());
    update_pause();
  }

  void store(const std::vector<StorableOffset>& offsets) {
    if (offsets.empty()) return;
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
    for (const StorableOffset& s : offsets) {
      rd_kafka_topic_partition_list_add(list, s.partition.topic.c_str(), s.partition.partition)
          ->offset = s.next_offset;
    }
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(rk_, list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // A partition revoked in the meantime refuses: the next owner reads it again.
      for (int i = 0; i < list->cnt; ++i) {
        if (list->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
        log_.debug(fmt::format("cannot store offset {} of topic {} partition {}: {}",
                               list->elems[i].offset, list->elems[i].topic,
                               list->elems[i].partition, rd_kafka_err2str(list->elems[i].err)));
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
  }

  // Pauses every assigned partition while max_undelivered_messages are in flight; librdkafka
  // drops what it fetched ahead and reads on from the next message after the resume. Polling
  // goes on meanwhile, so the consumer stays in its group.
  void update_pause() {
    bool full = tracker_.in_flight() >= max_undelivered_;
    if (full == paused_) return;
    rd_kafka_topic_partition_list_t* assigned = nullptr;
    if (rd_kafka_assignment(rk_, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (full) {
      rd_kafka_pause_partitions(rk_, assigned);
      log_.debug(fmt::format("paused: {} messages not yet written (max_undelivered_messages)",
                             tracker_.in_flight()));
    } else {
      rd_kafka_resume_partitions(rk_, assigned);
      log_.debug(fmt::format("resumed: {} messages not yet written", tracker_.in_flight()));
    }
    rd_kafka_topic_partition_list_destroy(assigned);
    paused_ = full;
  }

  // Commits the stored offsets now and waits for the answer. A failure reaches the commit
  // callback too, which logs it.
  void commit(const char* when) {
    rd_kafka_resp_err_t err = rd_kafka_commit(rk_, nullptr, 0);
    // _NO_OFFSET: nothing new stored since the last commit.
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      log_.debug(fmt::format("cannot commit offsets {} to group \"{}\": {}", when, group(),
                             rd_kafka_err2str(err)));
    }
  }

  void on_rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
    bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk_), "COOPERATIVE") == 0;
    std::vector<std::string> names;
    for (int i = 0; i < partitions->cnt; ++i) {
      names.push_back(
          fmt::format("{}[{}]", partitions->elems[i].topic, partitions->elems[i].partition));
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      for (int i = 0; i < partitions->cnt; ++i) {
        tracker_.assign({partitions->elems[i].topic, partitions->elems[i].partition});
      }
      rd_kafka_error_t* error = nullptr;
      if (cooperative) {
        error = rd_kafka_incremental_assign(rk_, partitions);
      } else {
        rd_kafka_assign(rk_, partitions);
      }
      if (error != nullptr) {
        log_.warn(fmt::format("cannot take partitions {}: {}", fmt::join(names, ", "),
                              rd_kafka_error_string(error)));
        rd_kafka_error_destroy(error);
      }
      // New partitions wait like the others while the pipeline is full.
      if (paused_) rd_kafka_pause_partitions(rk_, partitions);
      if (!names.empty()) log_.info(fmt::format("assigned {}", fmt::join(names, ", ")));
      outages_.recovered();
      return;
    }
    // Revoked (or an error that leaves us without partitions): store what was delivered and
    // commit it while the partitions are still ours, unless they are already lost to others.
    settle();
    if (!rd_kafka_assignment_lost(rk_)) commit("at rebalance");
    for (int i = 0; i < partitions->cnt; ++i) {
      tracker_.revoke({partitions->elems[i].topic, partitions->elems[i].partition});
    }
    if (cooperative) {
      if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(rk_, partitions)) {
        rd_kafka_error_destroy(error);
      }
    } else {
      rd_kafka_assign(rk_, nullptr);
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      log_.info(fmt::format("revoked {}", fmt::join(names, ", ")));
    } else {
      log_.warn(fmt::format("rebalance failed: {}", rd_kafka_err2str(err)));
    }
  }

  rd_kafka_conf_t* make_conf() {
    rd_kafka_conf_t* conf = core::make_kafka_conf(properties_, option_of);
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_rebalance_cb(
        conf, [](rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
                 void* self) { static_cast<KafkaConsumer*>(self)->on_rebalance(err, partitions); });
    rd_kafka_conf_set_offset_commit_cb(conf, [](rd_kafka_t*, rd_kafka_resp_err_t err,
                                                rd_kafka_topic_partition_list_t*, void* self) {
      auto* consumer = static_cast<KafkaConsumer*>(self);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        consumer->outages_.recovered();
      } else if (err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        consumer->outages_.error(std::string("commit ") + rd_kafka_err2name(err),
                                 std::string("cannot commit offsets: ") + rd_kafka_err2str(err));
      }
    });
    rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t*, int err, const char* reason, void* self) {
      const char* name = rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err));
      static_cast<KafkaConsumer*>(self)->outages_.error(name, fmt::format("{}: {}", name, reason));
    });
    rd_kafka_conf_set_log_cb(
        conf, [](const rd_kafka_t* rk, int level, const char* facility, const char* message) {
          auto* self = static_cast<KafkaConsumer*>(rd_kafka_opaque(rk));
          if (self != nullptr) core::log_kafka_line(self->log_, level, facility, message);
        });
    return conf;
  }

  std::string group() const { return core::kafka_property(properties_, "group.id"); }

  Logger& log_;
  std::unique_ptr<Parser> parser_;
  std::string format_;
  Properties properties_;
  std::vector<std::string> subscription_;
  std::string topic_tag_;
  MetadataOptions metadata_options_;
  int poll_timeout_ms_;
  size_t max_message_len_;
  size_t max_undelivered_;
  std::string brokers_;

  Accumulator* acc_ = nullptr;
  rd_kafka_t* rk_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  // Owned by the consumer thread:
  OffsetTracker tracker_;
  bool paused_ = false;
  // Shared with the delivery groups, which may end after the consumer is gone.
  std::shared_ptr<OutcomeQueue> outcomes_ = std::make_shared<OutcomeQueue>();

  OutageLog outages_{log_};
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "kafka_consumer";
  info.description = "Read metrics from Kafka topics as a consumer group member";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) { return std::make_unique<KafkaConsumer>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::kafka_consumer
