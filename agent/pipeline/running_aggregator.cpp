#include "pipeline/running_aggregator.hpp"

#include <fmt/format.h>

#include "pipeline/plugin_factory.hpp"

namespace sluice::pipeline {
namespace {

// Collects what an aggregator pushes, stamping the window's start on metrics without time.
class PushAccumulator final : public Accumulator {
 public:
  PushAccumulator(int64_t time, core::PluginLogger& log) : time_(time), log_(log) {}
  void add(Metric metric) override {
    if (metric.time() == 0) metric.set_time(time_);
    batch.push_back(std::move(metric));
  }
  void add_error(std::string_view message) override { log_.error(message); }
  int64_t time() const override { return time_; }
  Batch batch;

 private:
  int64_t time_;
  core::PluginLogger& log_;
};

}  // namespace

RunningAggregator::RunningAggregator(const config::PluginConfig& config, int64_t now)
    : id_(config.id()),
      log_(id_),
      aggregator_(create_plugin(config, config.info->create_aggregator, log_)),
      filter_(core::MetricFilter::from_options(config.options)),
      naming_(MetricNaming::from_options(config.options)),
      period_(config.options.get_duration("period").count()),
      delay_(config.options.get_duration("delay").count()),
      grace_(config.options.get_duration("grace").count()),
      drop_original_(config.options.get_bool("drop_original")),
      stats_(StatsRegistry::global().create(config.kind, config.name, config.alias)) {
  if (period_ <= 0) throw OptionError("period", "must be longer than 0s");
  start_ = now - now % period_;
  end_ = start_ + period_;
}

bool RunningAggregator::add(const Metric& metric) {
  if (!filter_.selects(metric)) return false;
  Metric copy = metric;
  if (!filter_.modify(copy)) {
    stats_->metrics_filtered.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  std::lock_guard lock(mutex_);
  if (copy.time() < start_ - grace_ || copy.time() > end_ + delay_) {
    stats_->metrics_dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  stats_->metrics_in.fetch_add(1, std::memory_order_relaxed);
  aggregator_->add(copy);
  return drop_original_;
}

int64_t RunningAggregator::due() const {
  std::lock_guard lock(mutex_);
  return end_ + delay_;
}

void RunningAggregator::push_if_due(int64_t now, Batch& out) {
  std::lock_guard lock(mutex_);
  if (now < end_ + delay_) return;
  push_locked(out);
  // After a long stall (a suspended host), realign instead of pushing empty windows.
  if (now >= end_ + delay_) {
    start_ = now - now % period_;
    end_ = start_ + period_;
  }
}

void RunningAggregator::push_now(Batch& out) {
  std::lock_guard lock(mutex_);
  push_locked(out);
}

void RunningAggregator::push_locked(Batch& out) {
  PushAccumulator acc(start_, log_);
  try {
    aggregator_->push(acc);
    aggregator_->reset();
  } catch (const std::exception& e) {
    log_.error(fmt::format("push failed: {}", e.what()));
  }
  for (Metric& m : acc.batch) {
    naming_.apply(m);
    out.push_back(std::move(m));
  }
  stats_->metrics_out.fetch_add(acc.batch.size(), std::memory_order_relaxed);
  start_ = end_;
  end_ = start_ + period_;
}

}  // namespace sluice::pipeline
