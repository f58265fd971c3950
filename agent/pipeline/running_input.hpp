// The host's wrapper around an input: its schedule, filters, renaming, tags, timestamps and
// statistics. The plugin only gathers.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "config/config.hpp"
#include "core/filter.hpp"
#include "core/log.hpp"
#include "pipeline/channel.hpp"
#include "pipeline/clock.hpp"
#include "pipeline/metric_naming.hpp"
#include "pipeline/schedule.hpp"
#include "pipeline/stats.hpp"
#include "sluice/plugin.hpp"

namespace sluice::pipeline {

// What every input shares from the agent's settings.
struct InputDefaults {
  int64_t interval = 10'000'000'000;
  bool round_interval = true;
  int64_t jitter = 0;
  int64_t offset = 0;
  int64_t precision = 0;
  StringMap global_tags;  // includes host unless omit_hostname; never overrides a metric's tag
};

class RunningInput {
 public:
  // Creates the plugin; throws what the plugin throws (see plugin_factory.hpp).
  RunningInput(const config::PluginConfig& config, const InputDefaults& defaults,
               const Clock& clock);
  ~RunningInput();

  const std::string& id() const { return id_; }
  bool is_service() const { return service_ != nullptr; }
  bool needs_previous_gather() const { return needs_previous_gather_; }
  const Schedule& schedule() const { return schedule_; }

  // Starts a service input and the gather loop; metrics go to `out`.
  void start(BatchChannel& out);
  // Stops the gather loop (waiting for a running gather) and the service.
  void stop();

  // One gather stamped with `time`, outside the loop (`sluice test`, `sluice once`).
  Batch gather_once(int64_t time);

  // Applies filters, renaming, tags, default time and precision. False: the metric is dropped.
  bool prepare(Metric& metric, int64_t default_time) const;

  PluginStats& stats() { return *stats_; }

 private:
  class GatherAccumulator;
  class ServiceAccumulator;
  void run_loop();
  void report_error(std::string_view message);
  void report_rejected(std::string_view message);

  std::string id_;
  core::PluginLogger log_;  // before the plugin, which may keep a reference
  std::unique_ptr<Input> input_;
  ServiceInput* service_ = nullptr;
  bool needs_previous_gather_ = false;
  core::MetricFilter filter_;
  MetricNaming naming_;
  StringMap global_tags_;
  Schedule schedule_;
  int64_t jitter_ = 0;
  int64_t precision_ = 0;
  const Clock& clock_;
  std::shared_ptr<PluginStats> stats_;
  std::mutex rejected_log_mutex_;
  int64_t rejected_logged_at_ = INT64_MIN / 2;
  uint64_t rejected_unlogged_ = 0;

  BatchChannel* out_ = nullptr;
  std::unique_ptr<ServiceAccumulator> service_acc_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::pipeline
