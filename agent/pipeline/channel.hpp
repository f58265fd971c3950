// A bounded channel of batches between pipeline stages. Its capacity counts metrics, not
// batches, so memory stays bounded however inputs size their batches. A full channel blocks the
// writer: that is how back-pressure reaches the inputs.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "sluice/metric.hpp"

namespace sluice::pipeline {

class BatchChannel {
 public:
  explicit BatchChannel(size_t capacity_metrics) : capacity_(capacity_metrics) {}

  // Blocks while the channel is full. A batch larger than the capacity enters an empty
  // channel, so no batch waits forever. Returns false (and drops nothing) once closed.
  bool push(Batch&& batch) {
    if (batch.empty()) return true;
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] {
      return closed_ || queued_ == 0 || queued_ + batch.size() <= capacity_;
    });
    if (closed_) return false;
    queued_ += batch.size();
    batches_.push_back(std::move(batch));
    not_empty_.notify_one();
    return true;
  }

  // Blocks until a batch arrives; nullopt once closed and drained.
  std::optional<Batch> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !batches_.empty(); });
    if (batches_.empty()) return std::nullopt;
    Batch batch = std::move(batches_.front());
    batches_.pop_front();
    queued_ -= batch.size();
    not_full_.notify_all();
    return batch;
  }

  // Writers are refused from now on; the reader drains what is queued.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  size_t queued_metrics() const {
    std::lock_guard lock(mutex_);
    return queued_;
  }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Batch> batches_;
  size_t queued_ = 0;
  bool closed_ = false;
};

}  // namespace sluice::pipeline
