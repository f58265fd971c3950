// The host's wrapper around an aggregator: Telegraf's windows. Windows are aligned to
// wall-clock multiples of `period`; a window [start, end) accepts metrics stamped within
// [start - grace, end + delay] and is pushed once the clock passes end + delay.
#pragma once

#include <memory>
#include <mutex>

#include "config/config.hpp"
#include "core/filter.hpp"
#include "core/log.hpp"
#include "pipeline/metric_naming.hpp"
#include "pipeline/stats.hpp"
#include "sluice/plugin.hpp"

namespace sluice::pipeline {

class RunningAggregator {
 public:
  // Creates the plugin; throws what the plugin throws (see plugin_factory.hpp). The first
  // window is the one containing `now`.
  RunningAggregator(const config::PluginConfig& config, int64_t now);

  const std::string& id() const { return id_; }
  // Offers a metric. Returns true when the metric was accepted and the original is to be
  // dropped (drop_original).
  bool add(const Metric& metric);
  // When the current window is due at `now`, pushes it into `out` and opens the next one.
  void push_if_due(int64_t now, Batch& out);
  // Pushes the open window whatever the time (shutdown).
  void push_now(Batch& out);
  // The time the current window is due.
  int64_t due() const;

 private:
  void push_locked(Batch& out);

  std::string id_;
  core::PluginLogger log_;  // before the plugin, which may keep a reference
  std::unique_ptr<Aggregator> aggregator_;
  core::MetricFilter filter_;
  MetricNaming naming_;
  int64_t period_, delay_, grace_;
  bool drop_original_;
  std::shared_ptr<PluginStats> stats_;

  mutable std::mutex mutex_;  // the host serialises add, push and reset
  int64_t start_, end_;
};

}  // namespace sluice::pipeline
