// The host's wrapper around an aggregator: its filter, its windows (aggregation_windows.hpp),
// renaming and tags of what it pushes, and statistics.
#pragma once

#include <memory>
#include <mutex>

#include "config/config.hpp"
#include "core/filter.hpp"
#include "core/log.hpp"
#include "pipeline/aggregation_windows.hpp"
#include "pipeline/clock.hpp"
#include "pipeline/metric_naming.hpp"
#include "pipeline/stats.hpp"
#include "sluice/plugin.hpp"

namespace sluice::pipeline {

class RunningAggregator {
 public:
  // Creates one plugin instance at once, so bad options are reported while loading; the
  // windows create one per series. Throws what the plugin throws (see plugin_factory.hpp).
  RunningAggregator(const config::PluginConfig& config, const Clock& clock);

  const std::string& id() const { return id_; }
  // The config this instance was built from; an unchanged identity keeps its open windows
  // over a reload.
  const std::string& identity() const { return identity_; }

  // Offers a metric. Returns true when the original is to be dropped: drop_original is set and
  // the filters select the metric, whether or not a window took it (too late, say).
  bool add(const Metric& metric);
  // Pushes the windows due now into `out`.
  void push_due(Batch& out);
  // Pushes every open window whatever the time (shutdown).
  void push_all(Batch& out);
  // When the next window is due by the clock; a window due by event time is due now.
  int64_t due() const;

  PluginStats& stats() { return *stats_; }

 private:
  void update_stats();
  // Logs metrics dropped for max_time_ahead, at most once a minute.
  void report_ahead(const Metric& metric, int64_t now);

  std::string id_;
  std::string identity_;
  core::PluginLogger log_;  // before the plugin, which may keep a reference
  const Clock& clock_;
  core::MetricFilter filter_;
  MetricNaming naming_;
  bool drop_original_;
  std::shared_ptr<PluginStats> stats_;

  mutable std::mutex mutex_;  // the host serialises add, push and reset
  std::unique_ptr<AggregationWindows> windows_;
  int64_t max_time_ahead_ = 0;
  uint64_t ahead_reported_ = 0;  // too_far_ahead counted when last logged
  int64_t ahead_logged_at_ = 0;
};

}  // namespace sluice::pipeline
