#pragma once

#include <deque>
#include <mutex>

#include "pipeline/metric_buffer.hpp"

namespace sluice::pipeline {

// A buffer in memory holding shared batches without copying them. A write takes a span of
// the front batch when it is large enough. When a write must gather several batches, their
// metrics move into one if this buffer alone holds them (one output, no write under way), and
// are copied otherwise.
class MemoryBuffer final : public MetricBuffer {
 public:
  explicit MemoryBuffer(size_t limit) : limit_(limit) {}
  // What is still held was never written: tracked metrics among it are lost.
  ~MemoryBuffer() override;

  size_t add(SharedBatch batch) override;
  BufferLease take(size_t max) override;
  BufferLease take_after(const BufferLease& previous, size_t max) override;
  void remove(const BufferLease& lease) override;
  size_t size() const override;
  size_t limit() const override { return limit_; }

 private:
  struct Segment {
    SharedBatch batch;
    size_t begin;  // metrics before it are gone
    size_t size() const { return batch->size() - begin; }
  };
  // Lends up to `max` metrics from sequence number `seq` on (or the oldest, if that is gone).
  BufferLease lend(uint64_t seq, size_t max);
  // Whether the first `count` metrics span segments that only this buffer holds.
  bool front_is_ours(size_t count) const;
  // Moves the first `count` metrics (which span several segments) into one new front segment.
  void merge_front(size_t count);
  // Removes n metrics from the front (written or rejected).
  void pop_front(size_t n);
  // Removes n metrics from the front that were never written.
  void drop_front(size_t n);

  const size_t limit_;
  mutable std::mutex mutex_;
  std::deque<Segment> segments_;
  size_t size_ = 0;
  uint64_t front_seq_ = 0;  // sequence number of the oldest metric held
};

}  // namespace sluice::pipeline
