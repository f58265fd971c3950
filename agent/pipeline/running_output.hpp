// The host's wrapper around an output: its filter, buffer, flush loop, retries and statistics.
// The plugin only writes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "config/config.hpp"
#include "core/filter.hpp"
#include "core/log.hpp"
#include "pipeline/clock.hpp"
#include "pipeline/metric_buffer.hpp"
#include "pipeline/metric_naming.hpp"
#include "pipeline/stats.hpp"
#include "sluice/plugin.hpp"

namespace sluice::pipeline {

struct OutputDefaults {
  int64_t flush_interval = 10'000'000'000;
  int64_t flush_jitter = 0;
  size_t batch_size = 1000;
  size_t buffer_limit = 10000;
};

class RunningOutput : public std::enable_shared_from_this<RunningOutput> {
 public:
  // Creates the plugin; throws what the plugin throws (see plugin_factory.hpp).
  RunningOutput(const config::PluginConfig& config, const OutputDefaults& defaults,
                const Clock& clock);
  ~RunningOutput();

  const std::string& id() const { return id_; }
  // The config this instance was built from; an unchanged identity survives a reload.
  const std::string& identity() const { return identity_; }

  enum class StartupErrorBehavior { kRetry, kError, kIgnore };
  StartupErrorBehavior startup_error_behavior() const { return startup_behavior_; }
  // Connects now, before the loop starts (for startup_error_behavior error and ignore).
  // Returns the connect error, or "" when connected.
  std::string connect_now();

  // Starts the flush loop.
  void start();
  // Offers a batch: what the filter selects enters the buffer (shared when nothing changes).
  // With when_full: block this waits for room.
  void add(const SharedBatch& batch);
  // Writes everything buffered now (SIGUSR1).
  void flush_now();
  // Stops the loop after a last flush of everything buffered, waiting until `deadline` at the
  // latest. Returns the number of metrics left unwritten; past the deadline the loop is
  // abandoned (it keeps this object alive until it returns).
  size_t stop(int64_t deadline);

  // Shutdown has begun: with when_full: block, writers wait for room only until `until` (real
  // time) and then drop the oldest, so inputs blocked upstream can finish and the pipeline can
  // drain. A reload that keeps this output calls keep_blocking() for its new pipeline.
  void limit_blocking(std::chrono::steady_clock::time_point until);
  void keep_blocking();

  // Writes whatever is buffered now, once, on the calling thread (`sluice once`).
  void write_all_once();

  size_t buffered() const { return buffer_->size(); }
  // Flush loops left running past a shutdown deadline (stuck in a plugin's write). The process
  // must then end without running static destructors under them.
  static int abandoned_loops() { return abandoned_loops_.load(); }
  PluginStats& stats() { return *stats_; }

 private:
  enum class Delivery { kDone, kRetry };
  void run_loop();
  // Writes what is buffered until empty or the stop deadline, then closes the output.
  void drain_and_close(std::unique_lock<std::mutex>& lock);
  // Writes batches while there are any (`only_full`: only full batches). kRetry after a
  // retryable failure, with the back-off armed.
  Delivery write_batches(bool only_full);
  // write_batches for an output that writes ahead (Output::max_writes_in_flight).
  Delivery write_batches_ahead(bool only_full);
  Delivery deliver(const BufferLease& lease);
  // What the buffer and the stats do with a lease's write result.
  Delivery settle(const BufferLease& lease, const WriteResult& result);
  void note_retry(const WriteResult& result, size_t metrics);

  std::string id_;
  std::string identity_;
  core::PluginLogger log_;  // before the plugin, which may keep a reference
  std::unique_ptr<Output> output_;
  core::MetricFilter filter_;
  MetricNaming naming_;
  bool block_when_full_ = false;
  StartupErrorBehavior startup_behavior_ = StartupErrorBehavior::kRetry;
  int64_t flush_interval_, flush_jitter_;
  size_t batch_size_;
  int64_t initial_backoff_, max_backoff_;
  const Clock& clock_;
  std::unique_ptr<MetricBuffer> buffer_;
  std::shared_ptr<PluginStats> stats_;

  std::mutex mutex_;
  std::condition_variable wake_;       // the loop: stop, flush request, full batch
  std::condition_variable room_;       // blocked writers: the buffer shrank
  std::condition_variable finished_;   // stop(): the loop has ended
  bool stopping_ = false;
  std::optional<std::chrono::steady_clock::time_point> blocking_until_;
  bool finished_flag_ = false;
  bool flush_requested_ = false;
  bool connected_ = false;
  int64_t backoff_ = 0;        // current back-off; 0 unless the last write failed
  int64_t retry_at_ = 0;       // no write before this
  int64_t stop_deadline_ = 0;
  std::chrono::steady_clock::time_point stop_deadline_real_{};  // the same, in real time
  size_t dropped_since_log_ = 0;
  std::thread thread_;
  static std::atomic<int> abandoned_loops_;
};

}  // namespace sluice::pipeline
