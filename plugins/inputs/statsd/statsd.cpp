// statsd: a statsd (and DogStatsD) server, as Telegraf's statsd input. Packets are read from a
// UDP socket or TCP connections, queued (allowed_pending_messages), parsed by one thread and
// aggregated per series; each gather emits the aggregates and forgets those configured to be
// deleted.
#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aggregates.hpp"
#include "line_parser.hpp"
#include "listener.hpp"
#include "plugin/registry.hpp"
#include "templates.hpp"

namespace sluice::inputs::statsd {
namespace {

using namespace std::chrono_literals;

const std::vector<OptionSpec> kOptions = {
    {"protocol", OptionType::kString, "udp", "udp, udp4, udp6, tcp, tcp4 or tcp6"},
    {"service_address", OptionType::kString, ":8125",
     "Address to listen on: host:port, or :port for every address"},
    {"max_tcp_connections", OptionType::kInt, "250",
     "Most TCP connections open at once; more are refused"},
    {"read_buffer_size", OptionType::kSize, "0",
     "Socket receive buffer (SO_RCVBUF); 0 keeps the system's default"},
    {"allowed_pending_messages", OptionType::kInt, "10000",
     "Packets (or TCP reads) queued for parsing; when full, more are dropped and counted"},
    {"delete_gauges", OptionType::kBool, "true", "Forget gauges after each gather"},
    {"delete_counters", OptionType::kBool, "true", "Forget counters after each gather"},
    {"delete_sets", OptionType::kBool, "true", "Forget sets after each gather"},
    {"delete_timings", OptionType::kBool, "true",
     "Forget timings and histograms after each gather"},
    {"percentiles", OptionType::kStringList, "[50, 90, 99, 99.9, 99.95, 100]",
     "Percentiles of timings and histograms, each a field <p>_percentile"},
    {"percentile_limit", OptionType::kInt, "1000",
     "Values kept per timing for the median and percentiles (a random sample beyond)"},
    {"metric_separator", OptionType::kString, "_",
     "Joins the parts of a bucket name that make the measurement"},
    {"templates", OptionType::kStringList, "",
     "Graphite-style templates \"[filter] template [tag=value,...]\" for bucket names"},
    {"parse_data_dog_tags", OptionType::kBool, "false",
     "Same as datadog_extensions (the older name)"},
    {"datadog_extensions", OptionType::kBool, "false",
     "Read DogStatsD extensions: #tag:value tags, the c: container id, T timestamps"},
    {"datadog_distributions", OptionType::kBool, "false",
     "Emit each DataDog distribution value (type d) as a metric; needs datadog_extensions"},
    {"datadog_keep_container_tag", OptionType::kBool, "false",
     "Keep the DogStatsD container id as the tag container"},
    {"float_counters", OptionType::kBool, "false",
     "Counters as floats (sampled values are not truncated) instead of integers"},
    {"max_ttl", OptionType::kDuration, "0s",
     "Forget a series not updated for this long when it is not deleted at each gather; 0 "
     "keeps it"},
};

struct Packet {
  std::string data;
  std::string peer;
};

std::vector<std::pair<double, std::string>> read_percentiles(const std::vector<std::string>& in) {
  std::vector<std::pair<double, std::string>> out;
  for (const std::string& text : in) {
    double p = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
    if (ec != std::errc() || end != text.data() + text.size() || !(p > 0 && p <= 100)) {
      throw OptionError("percentiles", "\"" + text + "\" is not a percentile in (0, 100]");
    }
    // The field name is the number as written shortest, as Telegraf names it: 99.9_percentile.
    out.emplace_back(p, fmt::format("{}_percentile", p));
  }
  return out;
}

EmitOptions emit_options(const Options& o) {
  EmitOptions e;
  e.percentiles = read_percentiles(o.get_strings("percentiles"));
  e.delete_counters = o.get_bool("delete_counters");
  e.delete_gauges = o.get_bool("delete_gauges");
  e.delete_sets = o.get_bool("delete_sets");
  e.delete_timings = o.get_bool("delete_timings");
  e.float_counters = o.get_bool("float_counters");
  e.distributions = o.get_bool("datadog_distributions") &&
                    (o.get_bool("datadog_extensions") || o.get_bool("parse_data_dog_tags"));
  int64_t limit = o.get_int("percentile_limit");
  if (limit < 1) throw OptionError("percentile_limit", "must be at least 1");
  e.percentile_limit = static_cast<size_t>(limit);
  e.max_ttl = o.get_duration("max_ttl");
  if (e.max_ttl.count() < 0) throw OptionError("max_ttl", "must not be negative");
  return e;
}

class Statsd final : public ServiceInput {
 public:
  Statsd(const Options& o, Logger& log)
      : log_(log),
        address_(parse_listen_address(o.get_string("protocol"), o.get_string("service_address"))),
        templates_(o.get_strings("templates"), o.get_string("metric_separator")),
        parser_(LineOptions{o.get_bool("datadog_extensions") || o.get_bool("parse_data_dog_tags"),
                            o.get_bool("datadog_keep_container_tag")},
                templates_),
        aggregates_(emit_options(o)),
        max_connections_(o.get_int("max_tcp_connections")),
        read_buffer_(o.get_size("read_buffer_size")),
        max_pending_(o.get_int("allowed_pending_messages")) {
    if (max_connections_ < 1) throw OptionError("max_tcp_connections", "must be at least 1");
    if (max_pending_ < 1) throw OptionError("allowed_pending_messages", "must be at least 1");
  }

  ~Statsd() override { stop(); }

  void start(Accumulator& acc) override {
    acc_ = &acc;
    stopping_ = false;
    listener_ = std::make_unique<Listener>(
        address_, static_cast<int>(max_connections_), read_buffer_, log_,
        [this](std::string_view data, const std::string& peer) { enqueue(data, peer); });
    parse_thread_ = std::thread([this] { parse_loop(); });
    // Bound now, so that what is sent once start returns is read; if the address is taken
    // (the previous configuration still holds it during a reload) it is tried again.
    std::string error = listener_->start();
    if (error.empty()) {
      log_.info(
          fmt::format("listening on {} port {}", address_.udp ? "udp" : "tcp", listener_->port()));
    } else {
      acc.add_error(error + "; trying again every second");
      retry_thread_ = std::thread([this] { retry_bind(); });
    }
  }

  void stop() override {
    {
      std::lock_guard lock(queue_mutex_);
      if (stopping_ || !parse_thread_.joinable()) return;
      stopping_ = true;
    }
    queue_ready_.notify_all();
    if (retry_thread_.joinable()) retry_thread_.join();
    if (listener_) listener_->stop();
    if (parse_thread_.joinable()) parse_thread_.join();
    listener_.reset();
  }

  void gather(Accumulator& acc) override {
    Batch batch;
    {
      std::lock_guard lock(aggregates_mutex_);
      aggregates_.emit(batch, std::chrono::steady_clock::now());
    }
    if (!batch.empty()) acc.add_batch(std::move(batch));
  }

 private:
  void retry_bind() {
    std::unique_lock lock(queue_mutex_);
    while (!queue_ready_.wait_for(lock, 1s, [&] { return stopping_; })) {
      lock.unlock();
      std::string error = listener_->start();
      lock.lock();
      if (error.empty()) {
        log_.info(fmt::format("listening on port {} now", listener_->port()));
        return;
      }
    }
  }

  void enqueue(std::string_view data, const std::string& peer) {
    {
      std::lock_guard lock(queue_mutex_);
      if (static_cast<int64_t>(queue_.size()) >= max_pending_) {
        ++dropped_;
        // Logged on the first drop and then every allowed_pending_messages drops.
        if (dropped_ == 1 || dropped_ % static_cast<uint64_t>(max_pending_) == 0) {
          log_.error(
              fmt::format("the statsd message queue is full: {} message(s) dropped so far; raise "
                          "allowed_pending_messages, or gather more often",
                          dropped_));
        }
        return;
      }
      queue_.push_back(Packet{std::string(data), peer});
    }
    queue_ready_.notify_one();
  }

  void parse_loop() {
    std::vector<Sample> samples;
    while (true) {
      Packet packet;
      {
        std::unique_lock lock(queue_mutex_);
        queue_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything read is parsed
        packet = std::move(queue_.front());
        queue_.pop_front();
      }
      samples.clear();
      std::string_view data = packet.data;
      size_t line_number = 0;
      while (!data.empty()) {
        ++line_number;
        size_t nl = data.find('\n');
        std::string_view line = data.substr(0, nl);
        data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        std::string reason = parser_.parse(line, samples);
        if (!reason.empty()) {
          acc_->add_rejected(fmt::format("{}: statsd line {} \"{}\": {}", packet.peer, line_number,
                                         line.substr(0, 200), reason));
        }
      }
      auto now = std::chrono::steady_clock::now();
      std::lock_guard lock(aggregates_mutex_);
      for (Sample& s : samples) aggregates_.add(std::move(s), now);
    }
  }

  Logger& log_;
  ListenAddress address_;
  Templates templates_;
  LineParser parser_;  // used by the parsing thread only

  std::mutex aggregates_mutex_;
  Aggregates aggregates_;

  int64_t max_connections_;
  uint64_t read_buffer_;
  int64_t max_pending_;

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<Packet> queue_;
  uint64_t dropped_ = 0;
  bool stopping_ = false;

  Accumulator* acc_ = nullptr;
  std::thread parse_thread_;
  std::thread retry_thread_;
  std::unique_ptr<Listener> listener_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "statsd";
  info.description = "Statsd and DogStatsD server: aggregates what it receives between gathers";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<Statsd>(ctx.options, ctx.log);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::statsd
