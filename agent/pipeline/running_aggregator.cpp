#include "pipeline/running_aggregator.hpp"

#include <fmt/format.h>

#include "core/units.hpp"
#include "pipeline/plugin_factory.hpp"

namespace sluice::pipeline {
namespace {

// Collects what the windows push.
class BatchAccumulator final : public Accumulator {
 public:
  BatchAccumulator(Batch& out, core::PluginLogger& log) : out_(out), log_(log) {}
  void add(Metric metric) override { out_.push_back(std::move(metric)); }
  void add_error(std::string_view message) override { log_.error(message); }
  int64_t time() const override { return 0; }

 private:
  Batch& out_;
  core::PluginLogger& log_;
};

WindowSettings window_settings(const Options& o) {
  WindowSettings w;
  int64_t period = o.get_duration("period").count();
  if (period <= 0) throw OptionError("period", "must be longer than 0s");
  const std::string& window = o.get_string("window");
  if (window == "tumbling") {
    w.size = w.every = period;
    if (o.is_set("size") || o.is_set("every")) {
      throw OptionError(o.is_set("size") ? "size" : "every",
                        "only for window: sliding (tumbling windows are `period` long)");
    }
  } else if (window == "sliding") {
    w.size = o.is_set("size") ? o.get_duration("size").count() : period;
    w.every = o.is_set("every") ? o.get_duration("every").count() : period;
    if (w.size <= 0) throw OptionError("size", "must be longer than 0s");
    if (w.every <= 0 || w.every > w.size) {
      throw OptionError("every", "must be longer than 0s and at most `size`");
    }
  } else {
    throw OptionError("window", "expected tumbling or sliding, got \"" + window + "\"");
  }
  w.delay = o.get_duration("delay").count();
  w.grace = o.get_duration("grace").count();
  w.allowed_lateness = o.get_duration("allowed_lateness").count();
  const std::string& source = o.get_string("time_source");
  if (source != "event" && source != "arrival") {
    throw OptionError("time_source", "expected event or arrival, got \"" + source + "\"");
  }
  w.arrival_time = source == "arrival";
  const std::string& late = o.get_string("late_metrics");
  if (late != "update" && late != "drop") {
    throw OptionError("late_metrics", "expected update or drop, got \"" + late + "\"");
  }
  w.drop_late = late == "drop";
  w.max_time_ahead = o.get_duration("max_time_ahead").count();
  if (o.get_int("max_series") < 0) throw OptionError("max_series", "must not be negative");
  w.max_series = static_cast<size_t>(o.get_int("max_series"));
  return w;
}

}  // namespace

RunningAggregator::RunningAggregator(const config::PluginConfig& config, const Clock& clock)
    : id_(config.id()),
      identity_(config.identity),
      log_(id_),
      clock_(clock),
      filter_(core::MetricFilter::from_options(config.options)),
      naming_(MetricNaming::from_options(config.options)),
      drop_original_(config.options.get_bool("drop_original")),
      stats_(StatsRegistry::global().create(config.kind, config.name, config.alias)) {
  create_plugin(config, config.info->create_aggregator, log_);  // reports bad options now
  auto factory = [options = config.options, info = config.info, this] {
    return info->create_aggregator(PluginContext{options, log_});
  };
  WindowSettings settings = window_settings(config.options);
  max_time_ahead_ = settings.max_time_ahead;
  windows_ = std::make_unique<AggregationWindows>(settings, std::move(factory), clock_.now());
}

bool RunningAggregator::add(const Metric& metric) {
  if (!filter_.selects(metric)) return false;
  // From here on the original is dropped (drop_original) whatever becomes of it, as in
  // Telegraf. Whether a window still takes a metric depends on when it reaches the aggregator:
  // the last metrics of a window may arrive just after the window was pushed. Tying the drop to
  // that would let originals through now and then, and only when the machine is busy.
  const Metric* seen = &metric;
  Metric trimmed;
  if (!filter_.modifies_nothing()) {
    trimmed = metric;
    if (!filter_.modify(trimmed)) {
      stats_->metrics_filtered.fetch_add(1, std::memory_order_relaxed);
      return drop_original_;
    }
    seen = &trimmed;
  }
  std::lock_guard lock(mutex_);
  int64_t now = clock_.now();
  if (!windows_->add(*seen, now) && windows_->counters().too_far_ahead > ahead_reported_) {
    report_ahead(*seen, now);
  }
  update_stats();
  return drop_original_;
}

void RunningAggregator::report_ahead(const Metric& metric, int64_t now) {
  // A host with a broken clock sends every metric ahead: one line a minute, with how many.
  constexpr int64_t kEvery = 60'000'000'000;
  if (ahead_reported_ > 0 && now - ahead_logged_at_ < kEvery) return;
  uint64_t total = windows_->counters().too_far_ahead;
  log_.warn(fmt::format(
      "dropped {} metric(s) stamped more than max_time_ahead ({}) ahead of the clock; the last, "
      "\"{}\", {} ahead",
      total - ahead_reported_, core::format_duration(std::chrono::nanoseconds(max_time_ahead_)),
      metric.name(), core::format_duration(std::chrono::nanoseconds(metric.time() - now))));
  ahead_reported_ = total;
  ahead_logged_at_ = now;
}

void RunningAggregator::push_due(Batch& out) {
  std::lock_guard lock(mutex_);
  size_t before = out.size();
  BatchAccumulator acc(out, log_);
  windows_->push_due(clock_.now(), acc);
  for (size_t i = before; i < out.size(); ++i) naming_.apply(out[i]);
  stats_->metrics_out.fetch_add(out.size() - before, std::memory_order_relaxed);
  update_stats();
}

void RunningAggregator::push_all(Batch& out) {
  std::lock_guard lock(mutex_);
  size_t before = out.size();
  BatchAccumulator acc(out, log_);
  windows_->push_all(acc);
  for (size_t i = before; i < out.size(); ++i) naming_.apply(out[i]);
  stats_->metrics_out.fetch_add(out.size() - before, std::memory_order_relaxed);
}

int64_t RunningAggregator::due() const {
  std::lock_guard lock(mutex_);
  return windows_->due_by_watermark() ? 0 : windows_->next_due();
}

void RunningAggregator::update_stats() {
  const WindowCounters& c = windows_->counters();
  stats_->metrics_in = c.accepted;
  stats_->metrics_dropped = c.too_late + c.late_dropped + c.too_far_ahead;
  stats_->series_evicted = c.evicted;
  stats_->metrics_too_far_ahead = c.too_far_ahead;
}

}  // namespace sluice::pipeline
