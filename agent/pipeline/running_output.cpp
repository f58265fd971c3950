#include "pipeline/running_output.hpp"

#include <fmt/format.h>

#include <deque>

#include "pipeline/memory_buffer.hpp"
#include "pipeline/plugin_factory.hpp"
#include "pipeline/schedule.hpp"

namespace sluice::pipeline {

std::atomic<int> RunningOutput::abandoned_loops_{0};

RunningOutput::RunningOutput(const config::PluginConfig& config, const OutputDefaults& defaults,
                             const Clock& clock)
    : id_(config.id()),
      identity_(config.identity),
      log_(id_),
      output_(create_plugin(config, config.info->create_output, log_)),
      filter_(core::MetricFilter::from_options(config.options)),
      naming_(MetricNaming::from_options(config.options)),
      clock_(clock),
      stats_(StatsRegistry::global().create(config.kind, config.name, config.alias)) {
  const Options& o = config.options;
  flush_interval_ = o.is_set("flush_interval") ? o.get_duration("flush_interval").count()
                                               : defaults.flush_interval;
  flush_jitter_ = o.is_set("flush_jitter") ? o.get_duration("flush_jitter").count()
                                           : defaults.flush_jitter;
  int64_t batch = o.is_set("metric_batch_size") ? o.get_int("metric_batch_size")
                                                : static_cast<int64_t>(defaults.batch_size);
  int64_t limit = o.is_set("metric_buffer_limit") ? o.get_int("metric_buffer_limit")
                                                  : static_cast<int64_t>(defaults.buffer_limit);
  if (batch <= 0) throw OptionError("metric_batch_size", "must be positive");
  if (limit <= 0) throw OptionError("metric_buffer_limit", "must be positive");
  if (flush_interval_ <= 0) throw OptionError("flush_interval", "must be longer than 0s");
  batch_size_ = static_cast<size_t>(batch);
  const std::string& when_full = o.get_string("when_full");
  if (when_full != "drop_oldest" && when_full != "block") {
    throw OptionError("when_full", "expected drop_oldest or block, got \"" + when_full + "\"");
  }
  block_when_full_ = when_full == "block";
  const std::string& on_startup_error = o.get_string("startup_error_behavior");
  if (on_startup_error == "error") {
    startup_behavior_ = StartupErrorBehavior::kError;
  } else if (on_startup_error == "ignore") {
    startup_behavior_ = StartupErrorBehavior::kIgnore;
  } else if (on_startup_error != "retry") {
    throw OptionError("startup_error_behavior",
                      "expected retry, error or ignore, got \"" + on_startup_error + "\"");
  }
  initial_backoff_ = o.get_duration("retry_initial_backoff").count();
  max_backoff_ = o.get_duration("retry_max_backoff").count();
  if (initial_backoff_ <= 0) throw OptionError("retry_initial_backoff", "must be longer than 0s");
  buffer_ = std::make_unique<MemoryBuffer>(static_cast<size_t>(limit));
  stats_->buffer_limit = static_cast<uint64_t>(limit);
}

RunningOutput::~RunningOutput() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
}

std::string RunningOutput::connect_now() {
  std::lock_guard lock(mutex_);
  if (connected_) return "";
  WriteResult result;
  try {
    result = output_->connect();
  } catch (const std::exception& e) {
    result = WriteResult::retry(e.what());
  }
  connected_ = result.status == WriteResult::Status::kOk;
  return connected_ ? "" : (result.error.empty() ? "connect failed" : result.error);
}

void RunningOutput::start() {
  if (thread_.joinable()) return;  // taken over running from the previous configuration
  auto self = shared_from_this();
  // The loop holds a reference, so an abandoned loop never outlives this object.
  thread_ = std::thread([self] { self->run_loop(); });
}

void RunningOutput::add(const SharedBatch& batch) {
  SharedBatch admitted = batch;
  if (!filter_.selects_everything() || !filter_.modifies_nothing() || !naming_.empty()) {
    auto copy = std::make_shared<Batch>();
    for (const Metric& m : *batch) {
      if (!filter_.selects(m)) continue;
      Metric mine = m;
      if (!filter_.modify(mine)) continue;
      naming_.apply(mine);
      copy->push_back(std::move(mine));
    }
    stats_->metrics_filtered.fetch_add(batch->size() - copy->size(), std::memory_order_relaxed);
    if (copy->empty()) return;
    admitted = std::move(copy);
  }
  std::unique_lock lock(mutex_);
  if (block_when_full_) {
    auto has_room = [&] {
      size_t held = buffer_->size();
      return stopping_ || held == 0 || held + admitted->size() <= buffer_->limit();
    };
    room_.wait(lock, [&] { return has_room() || blocking_until_.has_value(); });
    if (blocking_until_) room_.wait_until(lock, *blocking_until_, has_room);
  }
  size_t dropped = buffer_->add(std::move(admitted));
  size_t held = buffer_->size();
  stats_->buffer_size = held;
  if (dropped > 0) {
    stats_->metrics_dropped.fetch_add(dropped, std::memory_order_relaxed);
    dropped_since_log_ += dropped;
  }
  if (held >= batch_size_) wake_.notify_all();
}

void RunningOutput::limit_blocking(std::chrono::steady_clock::time_point until) {
  {
    std::lock_guard lock(mutex_);
    blocking_until_ = until;
  }
  room_.notify_all();
}

void RunningOutput::keep_blocking() {
  std::lock_guard lock(mutex_);
  blocking_until_.reset();
}

void RunningOutput::flush_now() {
  {
    std::lock_guard lock(mutex_);
    flush_requested_ = true;
  }
  wake_.notify_all();
}

void RunningOutput::note_retry(const WriteResult& result, size_t metrics) {
  backoff_ = backoff_ == 0 ? initial_backoff_ : std::min(backoff_ * 2, max_backoff_);
  // Full jitter on half the back-off, so many agents do not retry in step.
  int64_t wait = backoff_ / 2 + random_jitter(backoff_ / 2 + 1);
  wait = std::max(wait, static_cast<int64_t>(result.retry_after.count()));
  retry_at_ = clock_.now() + wait;
  // Counted once the retry is scheduled, so whoever sees the count sees the schedule.
  stats_->write_errors.fetch_add(1, std::memory_order_relaxed);
  stats_->retries.fetch_add(1, std::memory_order_relaxed);
  log_.error(fmt::format("write of {} metrics failed, will retry in {:.1f}s ({} buffered): {}",
                         metrics, static_cast<double>(wait) / 1e9, buffer_->size(),
                         result.error));
}

RunningOutput::Delivery RunningOutput::deliver(const BufferLease& lease) {
  int64_t started = clock_.now();
  WriteResult result;
  try {
    if (!connected_) {
      result = output_->connect();
      connected_ = result.status == WriteResult::Status::kOk;
    }
    if (connected_) result = output_->write(lease.metrics);
  } catch (const std::exception& e) {
    result = WriteResult::retry(std::string("unexpected error: ") + e.what());
  }
  stats_->write_time_ns = static_cast<uint64_t>(std::max<int64_t>(0, clock_.now() - started));
  return settle(lease, result);
}

RunningOutput::Delivery RunningOutput::settle(const BufferLease& lease, const WriteResult& result) {
  switch (result.status) {
    case WriteResult::Status::kOk:
      buffer_->remove(lease);
      stats_->metrics_written.fetch_add(lease.size(), std::memory_order_relaxed);
      backoff_ = 0;
      return Delivery::kDone;
    case WriteResult::Status::kReject:
      backoff_ = 0;  // the server answered: it is up
      buffer_->remove(lease);
      stats_->metrics_rejected.fetch_add(lease.size(), std::memory_order_relaxed);
      stats_->write_errors.fetch_add(1, std::memory_order_relaxed);
      log_.error(fmt::format("{} metrics rejected and dropped: {}", lease.size(), result.error));
      return Delivery::kDone;
    case WriteResult::Status::kSplit: {
      if (lease.size() == 1) {
        buffer_->remove(lease);
        stats_->metrics_rejected.fetch_add(1, std::memory_order_relaxed);
        log_.error(fmt::format("a single metric is too large and was dropped: {}", result.error));
        return Delivery::kDone;
      }
      size_t half = lease.size() / 2;
      BufferLease first{lease.metrics.first(half), lease.first_seq, lease.keep_alive};
      BufferLease second{lease.metrics.subspan(half), lease.first_seq + half, lease.keep_alive};
      if (deliver(first) == Delivery::kRetry) return Delivery::kRetry;
      return deliver(second);
    }
    case WriteResult::Status::kRetry:
      note_retry(result, lease.size());
      return Delivery::kRetry;
  }
  return Delivery::kRetry;
}

RunningOutput::Delivery RunningOutput::write_batches(bool only_full) {
  while (true) {
    // Writing ahead needs a connection; the first write makes it.
    if (connected_ && output_->max_writes_in_flight() > 1) return write_batches_ahead(only_full);
    BufferLease lease = buffer_->take(batch_size_);
    if (lease.empty() || (only_full && lease.size() < batch_size_)) return Delivery::kDone;
    Delivery d = deliver(lease);
    stats_->buffer_size = buffer_->size();
    room_.notify_all();
    if (d == Delivery::kRetry) return d;
  }
}

RunningOutput::Delivery RunningOutput::write_batches_ahead(bool only_full) {
  // The leases out, oldest first: the one to finish next and those started after it.
  struct Started {
    BufferLease lease;
    std::string start_error;  // start_write threw: the output does not hold this batch
  };
  const size_t in_flight = output_->max_writes_in_flight();
  std::deque<Started> started;
  auto start_next = [&]() -> bool {
    if (!started.empty() && !started.back().start_error.empty()) return false;
    BufferLease lease = started.empty() ? buffer_->take(batch_size_)
                                        : buffer_->take_after(started.back().lease, batch_size_);
    if (lease.empty() || (only_full && lease.size() < batch_size_)) return false;
    std::string error;
    try {
      output_->start_write(lease.metrics);
    } catch (const std::exception& e) {
      error = std::string("unexpected error: ") + e.what();
    }
    started.push_back(Started{std::move(lease), std::move(error)});
    return true;
  };
  auto finish_oldest = [&]() -> WriteResult {
    Started& oldest = started.front();
    if (!oldest.start_error.empty()) return WriteResult::retry(oldest.start_error);
    try {
      return output_->finish_write();
    } catch (const std::exception& e) {
      return WriteResult::retry(std::string("unexpected error: ") + e.what());
    }
  };
  int64_t last_finish = clock_.now();
  while (true) {
    while (started.size() < in_flight && start_next()) {
    }
    if (started.empty()) return Delivery::kDone;
    WriteResult result = finish_oldest();
    BufferLease lease = std::move(started.front().lease);
    started.pop_front();
    int64_t now = clock_.now();
    stats_->write_time_ns = static_cast<uint64_t>(std::max<int64_t>(0, now - last_finish));
    last_finish = now;
    if (result.status != WriteResult::Status::kOk) {
      // The later batches were started on the assumption that this one would go through:
      // finish them, and write them again once this one is settled.
      while (!started.empty()) {
        finish_oldest();
        started.pop_front();
      }
    }
    // (A split writes the halves through deliver(), one write at a time.)
    Delivery d = settle(lease, result);
    stats_->buffer_size = buffer_->size();
    room_.notify_all();
    if (d == Delivery::kRetry) return d;
  }
}

void RunningOutput::write_all_once() {
  std::lock_guard lock(mutex_);
  write_batches(false);
}

void RunningOutput::run_loop() {
  std::unique_lock lock(mutex_);
  int64_t next_flush = clock_.now() + flush_interval_ + random_jitter(flush_jitter_);
  while (!stopping_) {
    // After a failed write (backoff_ set) the next try comes at retry_at_, even if that time
    // has already passed; nothing else wakes the loop meanwhile.
    bool retrying = backoff_ > 0;
    int64_t deadline = retrying ? retry_at_ : next_flush;
    clock_.wait_until(lock, wake_, deadline, [&] {
      return stopping_ || (!retrying && (flush_requested_ || buffer_->size() >= batch_size_));
    });
    if (stopping_) break;
    int64_t now = clock_.now();
    if (now < retry_at_) continue;
    bool timer = now >= next_flush;
    bool everything = timer || flush_requested_ || retrying;
    flush_requested_ = false;
    if (dropped_since_log_ > 0) {
      log_.warn(fmt::format("{} metrics dropped: the buffer of {} is full", dropped_since_log_,
                            buffer_->limit()));
      dropped_since_log_ = 0;
    }
    // Writing happens without the lock, so inputs can keep adding meanwhile.
    lock.unlock();
    write_batches(!everything);
    lock.lock();
    if (timer) next_flush = now + flush_interval_ + random_jitter(flush_jitter_);
  }
  drain_and_close(lock);
}

void RunningOutput::drain_and_close(std::unique_lock<std::mutex>& lock) {
  // Write what is left, retrying until the deadline; the first try does not wait for the
  // back-off, which may reach past the deadline.
  // Shutdown is bounded in real time as well as on the agent's clock, so a drain can never wait
  // on a clock that stopped advancing (a manual clock in tests, a frozen VM clock).
  retry_at_ = 0;
  while (buffer_->size() > 0 && clock_.now() < stop_deadline_ &&
         std::chrono::steady_clock::now() < stop_deadline_real_) {
    if (retry_at_ > clock_.now()) {
      auto back_off = std::chrono::nanoseconds(std::min(retry_at_, stop_deadline_) - clock_.now());
      wake_.wait_until(lock, std::min(stop_deadline_real_, std::chrono::steady_clock::now() + back_off));
      continue;
    }
    lock.unlock();
    write_batches(false);
    lock.lock();
  }
  try {
    output_->close();
  } catch (const std::exception& e) {
    log_.error(fmt::format("close failed: {}", e.what()));
  }
  finished_flag_ = true;
  finished_.notify_all();
}

size_t RunningOutput::stop(int64_t deadline) {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  stop_deadline_ = deadline;
  stop_deadline_real_ = std::chrono::steady_clock::now() +
                        std::chrono::nanoseconds(std::max<int64_t>(0, deadline - clock_.now()));
  wake_.notify_all();
  room_.notify_all();
  if (!thread_.joinable() && !finished_flag_) drain_and_close(lock);  // never started
  bool done = finished_.wait_until(lock, stop_deadline_real_, [&] { return finished_flag_; });
  if (!done) {
    // Past the deadline the loop gives up at its next check; only a write blocked in the
    // plugin keeps it longer.
    done = finished_.wait_for(lock, std::chrono::milliseconds(200), [&] { return finished_flag_; });
  }
  size_t left = buffer_->size();
  lock.unlock();
  if (done) {
    if (thread_.joinable()) thread_.join();
  } else if (thread_.joinable()) {
    log_.error(fmt::format("did not finish writing before the shutdown deadline; {} metrics lost",
                           left));
    thread_.detach();
    abandoned_loops_.fetch_add(1);
  }
  if (left > 0 && done) {
    log_.error(fmt::format("{} metrics could not be written before shutdown", left));
  }
  return left;
}

}  // namespace sluice::pipeline
