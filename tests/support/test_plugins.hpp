// Plugins for tests of the host: an input that generates metrics, an output that records what
// it is given and fails when told, a processor that tags, an aggregator that counts.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/delivery.hpp"
#include "pipeline/clock.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"

namespace sluice::testing {

// What a "recorder" output saw, shared by name between the test and the plugin instance.
struct Recording {
  std::mutex mutex;
  std::vector<Batch> writes;                // successful writes, in order
  std::deque<WriteResult> scripted;         // results to return before succeeding
  std::atomic<int> attempts{0};
  std::atomic<int> most_in_flight{0};  // writing ahead: most batches started and unfinished
  std::atomic<int> connects{0};
  std::atomic<int> closes{0};
  std::string connect_error;  // while set, connect() fails with it

  size_t metric_count() {
    std::lock_guard lock(mutex);
    size_t n = 0;
    for (const Batch& b : writes) n += b.size();
    return n;
  }
  std::vector<int64_t> values(const std::string& field = "value") {
    std::lock_guard lock(mutex);
    std::vector<int64_t> out;
    for (const Batch& b : writes) {
      for (const Metric& m : b) {
        if (const FieldValue* v = m.field(field)) out.push_back(std::get<int64_t>(*v));
      }
    }
    return out;
  }
  void script(WriteResult result) {
    std::lock_guard lock(mutex);
    scripted.push_back(std::move(result));
  }
};

inline std::shared_ptr<Recording> recording(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<Recording>> all;
  std::lock_guard lock(mutex);
  auto& r = all[name];
  if (!r) r = std::make_shared<Recording>();
  return r;
}

// Polls `done` for up to `seconds` of real time.
template <typename Pred>
bool eventually(Pred done, double seconds = 5.0) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

// Waits until `threads` threads wait on the clock, so that advancing it next is seen by all of
// them at the same point of their loops.
inline bool settle(const pipeline::ManualClock& clock, int threads) {
  return eventually([&] { return clock.waiters() >= threads; });
}

class GenInput final : public Input {
 public:
  explicit GenInput(const Options& o)
      : count_(o.get_int("count")), name_(o.get_string("metric")),
        gather_ms_(o.get_int("gather_ms")) {}
  void gather(Accumulator& acc) override {
    if (gather_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(gather_ms_));
    for (int64_t i = 0; i < count_; ++i) {
      Metric m(name_, 0);
      m.set_tag("n", std::to_string(i % 2));
      m.set_field("value", int64_t{next_++});
      acc.add(std::move(m));
    }
  }

 private:
  int64_t count_;
  std::string name_;
  int64_t gather_ms_;
  int64_t next_ = 0;
};

class RecorderOutput final : public Output {
 public:
  explicit RecorderOutput(const Options& o)
      : rec_(recording(o.get_string("name"))),
        in_flight_(static_cast<size_t>(o.get_int("in_flight"))) {}
  WriteResult connect() override {
    rec_->connects++;
    std::lock_guard lock(rec_->mutex);
    if (!rec_->connect_error.empty()) return WriteResult::retry(rec_->connect_error);
    return WriteResult::ok();
  }
  WriteResult write(std::span<const Metric> batch) override {
    rec_->attempts++;
    std::lock_guard lock(rec_->mutex);
    if (!rec_->scripted.empty()) {
      WriteResult r = rec_->scripted.front();
      rec_->scripted.pop_front();
      if (r.status != WriteResult::Status::kOk) return r;
    }
    // Copies without their delivery groups: a real output keeps nothing once it has written.
    auto& written = rec_->writes.emplace_back(batch.begin(), batch.end());
    for (Metric& m : written) m.set_delivery(nullptr);
    return WriteResult::ok();
  }
  void close() override { rec_->closes++; }

  // Writing ahead (option in_flight > 1): a started batch is written when it is finished.
  size_t max_writes_in_flight() const override { return in_flight_; }
  void start_write(std::span<const Metric> batch) override {
    started_.push_back(batch);
    int seen = rec_->most_in_flight.load();
    rec_->most_in_flight.store(std::max(seen, static_cast<int>(started_.size())));
  }
  WriteResult finish_write() override {
    std::span<const Metric> batch = started_.front();
    started_.pop_front();
    return write(batch);
  }

 private:
  std::shared_ptr<Recording> rec_;
  size_t in_flight_;
  std::deque<std::span<const Metric>> started_;
};

class TagProcessor final : public Processor {
 public:
  explicit TagProcessor(const Options& o) : key_(o.get_string("key")), value_(o.get_string("value")) {}
  Batch process(Batch batch) override {
    for (Metric& m : batch) m.set_tag(key_, value_);
    return batch;
  }

 private:
  std::string key_, value_;
};

// Counts the metrics of its series: "count,<series tags> value=N".
class CountAggregator final : public Aggregator {
 public:
  void add(const Metric& m) override {
    if (count_++ != 0) return;
    tags_.clear();
    for (const TagRef t : m.tags()) tags_.push_back(t.to_tag());
  }
  void push(Accumulator& acc) override {
    if (count_ == 0) return;
    Metric m("count", 0);
    for (const Tag& t : tags_) m.set_tag(t.key, t.value);
    m.set_field("value", count_);
    acc.add(std::move(m));
  }
  void reset() override { count_ = 0; }

 private:
  std::vector<Tag> tags_;
  int64_t count_ = 0;
};

// A service input that, once started, reads its `text` with its data_format, as a listener reads
// what a peer sent.
class LinesInput final : public ServiceInput {
 public:
  explicit LinesInput(const PluginContext& c)
      : parser_(plugin::make_parser(c)),
        format_(c.options.get_string("data_format")),
        text_(c.options.get_string("text")) {}
  void start(Accumulator& acc) override { plugin::parse_into(*parser_, format_, text_, acc, "test peer"); }
  void stop() override {}

 private:
  std::unique_ptr<Parser> parser_;
  std::string format_, text_;
};

// The outcomes of the delivery groups of the `tracked` input, in the order they ended.
struct DeliveryLog {
  std::mutex mutex;
  std::vector<bool> outcomes;  // true: delivered
  size_t count() {
    std::lock_guard lock(mutex);
    return outcomes.size();
  }
  std::vector<bool> snapshot() {
    std::lock_guard lock(mutex);
    return outcomes;
  }
};
inline DeliveryLog& delivery_log(const std::string& name) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<DeliveryLog>> logs;
  std::lock_guard lock(mutex);
  auto& log = logs[name];
  if (!log) log = std::make_unique<DeliveryLog>();
  return *log;
}

// Each gather adds `count` metrics that form one tracked message, as a consumer would.
class TrackedInput final : public Input {
 public:
  explicit TrackedInput(const Options& o)
      : count_(o.get_int("count")), log_(delivery_log(o.get_string("log"))) {}
  void gather(Accumulator& acc) override {
    DeliveryLog* log = &log_;
    DeliveryHandle group = make_delivery_group([log](bool delivered) {
      std::lock_guard lock(log->mutex);
      log->outcomes.push_back(delivered);
    });
    Batch batch;
    for (int64_t i = 0; i < count_; ++i) {
      Metric m("tracked", 0);
      m.set_field("value", next_++);
      m.set_delivery(group);
      batch.push_back(std::move(m));
    }
    acc.add_batch(std::move(batch));
  }

 private:
  int64_t count_;
  int64_t next_ = 0;
  DeliveryLog& log_;
};

// A registry with the test plugins and the built-in serializers and parsers.
inline const plugin::Registry& test_registry() {
  static const plugin::Registry registry = [] {
    plugin::Registry r;
    plugin::PluginInfo gen;
    gen.kind = plugin::Kind::kInput;
    gen.name = "gen";
    gen.description = "Generates metrics named `metric` with increasing integer values";
    gen.options = {{"count", OptionType::kInt, "1", "Metrics per gather"},
                   {"metric", OptionType::kString, "gen", "Measurement name"},
                   {"gather_ms", OptionType::kInt, "0", "Time each gather takes"}};
    gen.create_input = [](const PluginContext& c) { return std::make_unique<GenInput>(c.options); };
    r.add(gen);

    plugin::PluginInfo rec;
    rec.kind = plugin::Kind::kOutput;
    rec.name = "recorder";
    rec.description = "Records writes";
    rec.options = {{"name", OptionType::kString, "", "Recording name", true},
                   {"in_flight", OptionType::kInt, "1", "Batches written ahead at most"}};
    rec.create_output = [](const PluginContext& c) {
      return std::make_unique<RecorderOutput>(c.options);
    };
    r.add(rec);

    plugin::PluginInfo tag;
    tag.kind = plugin::Kind::kProcessor;
    tag.name = "tag";
    tag.description = "Sets a tag";
    tag.options = {{"key", OptionType::kString, "seen", "Tag key"},
                   {"value", OptionType::kString, "yes", "Tag value"}};
    tag.create_processor = [](const PluginContext& c) {
      return std::make_unique<TagProcessor>(c.options);
    };
    r.add(tag);

    plugin::PluginInfo count;
    count.kind = plugin::Kind::kAggregator;
    count.name = "count";
    count.description = "Counts metrics per series and window";
    count.create_aggregator = [](const PluginContext&) {
      return std::make_unique<CountAggregator>();
    };
    r.add(count);

    plugin::PluginInfo tracked;
    tracked.kind = plugin::Kind::kInput;
    tracked.name = "tracked";
    tracked.description = "Adds `count` metrics per gather as one tracked message";
    tracked.options = {{"count", OptionType::kInt, "1", "Metrics per message"},
                       {"log", OptionType::kString, "", "Where outcomes are recorded", true}};
    tracked.create_input = [](const PluginContext& c) {
      return std::make_unique<TrackedInput>(c.options);
    };
    r.add(tracked);

    plugin::PluginInfo lines;
    lines.kind = plugin::Kind::kInput;
    lines.name = "lines";
    lines.description = "Reads its text with its data_format when started";
    lines.options = {{"text", OptionType::kString, "", "What it reads"}};
    lines.uses_parser = true;
    lines.create_input = [](const PluginContext& c) { return std::make_unique<LinesInput>(c); };
    r.add(lines);

    for (auto kind : {plugin::Kind::kSerializer, plugin::Kind::kParser}) {
      for (const plugin::PluginInfo* s : plugin::Registry::builtins().list(kind)) r.add(*s);
    }
    return r;
  }();
  return registry;
}

}  // namespace sluice::testing
