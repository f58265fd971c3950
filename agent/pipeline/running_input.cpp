#include "pipeline/running_input.hpp"

#include <fmt/format.h>

#include "pipeline/plugin_factory.hpp"

namespace sluice::pipeline {

// Collects one gather's metrics into a batch.
class RunningInput::GatherAccumulator final : public Accumulator {
 public:
  GatherAccumulator(RunningInput& input, int64_t time) : input_(input), time_(time) {}
  void add(Metric metric) override {
    if (!input_.prepare(metric, time_)) return;
    std::lock_guard lock(mutex_);
    batch_.push_back(std::move(metric));
  }
  void add_error(std::string_view message) override { input_.report_error(message); }
  void add_rejected(std::string_view message) override { input_.report_rejected(message); }
  int64_t time() const override { return time_; }
  Batch take() {
    std::lock_guard lock(mutex_);
    return std::move(batch_);
  }

 private:
  RunningInput& input_;
  const int64_t time_;
  std::mutex mutex_;
  Batch batch_;
};

// A service input adds from its own threads whenever data arrives; each add goes straight
// into the channel, so a full channel holds the service back.
class RunningInput::ServiceAccumulator final : public Accumulator {
 public:
  explicit ServiceAccumulator(RunningInput& input) : input_(input) {}
  void add(Metric metric) override {
    if (!input_.prepare(metric, input_.clock_.now())) return;
    input_.stats_->metrics_gathered.fetch_add(1, std::memory_order_relaxed);
    Batch batch;
    batch.push_back(std::move(metric));
    input_.out_->push(std::move(batch));
  }
  void add_batch(Batch batch) override {
    int64_t now = input_.clock_.now();
    size_t kept = 0;
    for (Metric& metric : batch) {
      if (!input_.prepare(metric, now)) continue;
      if (&batch[kept] != &metric) batch[kept] = std::move(metric);
      ++kept;
    }
    batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(kept), batch.end());
    if (batch.empty()) return;
    input_.stats_->metrics_gathered.fetch_add(batch.size(), std::memory_order_relaxed);
    input_.out_->push(std::move(batch));
  }
  void add_error(std::string_view message) override { input_.report_error(message); }
  void add_rejected(std::string_view message) override { input_.report_rejected(message); }
  int64_t time() const override { return input_.clock_.now(); }

 private:
  RunningInput& input_;
};

RunningInput::RunningInput(const config::PluginConfig& config, const InputDefaults& defaults,
                           const Clock& clock)
    : id_(config.id()),
      log_(id_),
      input_(create_plugin(config, config.info->create_input, log_)),
      service_(dynamic_cast<ServiceInput*>(input_.get())),
      needs_previous_gather_(config.info->needs_previous_gather),
      filter_(core::MetricFilter::from_options(config.options)),
      naming_(MetricNaming::from_options(config.options)),
      global_tags_(defaults.global_tags),
      clock_(clock),
      stats_(StatsRegistry::global().create(config.kind, config.name, config.alias)) {
  const Options& o = config.options;
  auto pick = [&](const char* name, int64_t fallback) {
    return o.is_set(name) ? o.get_duration(name).count() : fallback;
  };
  schedule_.interval = pick("interval", defaults.interval);
  schedule_.round_interval = defaults.round_interval;
  schedule_.offset = pick("collection_offset", defaults.offset);
  jitter_ = pick("collection_jitter", defaults.jitter);
  precision_ = pick("precision", defaults.precision);
  if (schedule_.interval <= 0) {
    throw OptionError("interval", "must be longer than 0s");
  }
}

RunningInput::~RunningInput() { stop(); }

bool RunningInput::prepare(Metric& metric, int64_t default_time) const {
  if (!filter_.selects(metric) || !filter_.modify(metric)) {
    stats_->metrics_filtered.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  naming_.apply(metric);
  for (const auto& [key, value] : global_tags_) {
    if (!metric.has_tag(key)) metric.set_tag(key, value);
  }
  if (metric.time() == 0) metric.set_time(default_time);
  if (precision_ > 1) metric.set_time(metric.time() / precision_ * precision_);
  return true;
}

void RunningInput::report_error(std::string_view message) {
  stats_->gather_errors.fetch_add(1, std::memory_order_relaxed);
  log_.error(message);
}

void RunningInput::report_rejected(std::string_view message) {
  stats_->metrics_rejected.fetch_add(1, std::memory_order_relaxed);
  // A sender of bad data can send a lot of it: one line a second, with how many were not shown.
  int64_t now = clock_.now();
  std::lock_guard lock(rejected_log_mutex_);
  if (now - rejected_logged_at_ < 1'000'000'000) {
    ++rejected_unlogged_;
    return;
  }
  if (rejected_unlogged_ > 0) {
    log_.warn(fmt::format("{} (and {} more rejected since the last report)", message,
                          rejected_unlogged_));
  } else {
    log_.warn(message);
  }
  rejected_logged_at_ = now;
  rejected_unlogged_ = 0;
}

Batch RunningInput::gather_once(int64_t time) {
  GatherAccumulator acc(*this, time);
  int64_t started = clock_.now();
  try {
    input_->gather(acc);
  } catch (const std::exception& e) {
    report_error(fmt::format("gather failed: {}", e.what()));
  }
  stats_->gather_time_ns = static_cast<uint64_t>(std::max<int64_t>(0, clock_.now() - started));
  Batch batch = acc.take();
  stats_->metrics_gathered.fetch_add(batch.size(), std::memory_order_relaxed);
  return batch;
}

void RunningInput::start(BatchChannel& out) {
  out_ = &out;
  stopping_ = false;
  if (service_ != nullptr) {
    service_acc_ = std::make_unique<ServiceAccumulator>(*this);
    service_->start(*service_acc_);
  }
  thread_ = std::thread([this] { run_loop(); });
}

void RunningInput::run_loop() {
  std::unique_lock lock(mutex_);
  int64_t tick = first_tick(schedule_, clock_.now());
  while (true) {
    int64_t at = tick + random_jitter(jitter_);
    if (clock_.wait_until(lock, wake_, at, [&] { return stopping_; })) return;
    lock.unlock();
    out_->push(gather_once(tick));
    NextTick next = next_tick(schedule_, tick, clock_.now());
    if (next.skipped > 0) {
      stats_->gathers_skipped.fetch_add(next.skipped, std::memory_order_relaxed);
      log_.warn(fmt::format("gather took longer than the interval; skipped {} tick(s)",
                            next.skipped));
    }
    tick = next.tick;
    lock.lock();
  }
}

void RunningInput::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (service_ != nullptr && service_acc_) {
    service_->stop();
    service_acc_.reset();
  }
}

}  // namespace sluice::pipeline
