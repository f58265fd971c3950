// An output's buffer: metrics wait here until the output has written them. Behind an
// interface so a disk-backed buffer can take the memory buffer's place.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "sluice/metric.hpp"

namespace sluice::pipeline {

// Batches fan out to several outputs as one shared batch, which they only read. The one
// exception: a buffer that finds itself the batch's only holder may move metrics out of it
// (MemoryBuffer), which is why the pointer is not to const.
using SharedBatch = std::shared_ptr<Batch>;

// The oldest metrics of a buffer, lent out for one write. They stay in the buffer until the
// write succeeds (remove), so a failed write loses nothing and keeps the order.
struct BufferLease {
  std::span<const Metric> metrics;
  uint64_t first_seq = 0;  // the buffer's sequence number of metrics[0]
  SharedBatch keep_alive;  // owns what `metrics` points into

  bool empty() const { return metrics.empty(); }
  size_t size() const { return metrics.size(); }
};

class MetricBuffer {
 public:
  virtual ~MetricBuffer() = default;
  // Appends a batch. When the buffer would exceed its limit the oldest metrics are dropped;
  // returns how many.
  virtual size_t add(SharedBatch batch) = 0;
  // Lends up to `max` of the oldest metrics.
  virtual BufferLease take(size_t max) = 0;
  // Lends up to `max` of the metrics that follow `previous`, a lease still being written (an
  // output writing ahead has two out at once). Leases are removed in the order taken.
  virtual BufferLease take_after(const BufferLease& previous, size_t max) = 0;
  // The lease's metrics were delivered or rejected for good: they leave the buffer. Those
  // already dropped while the write was under way are not removed twice.
  virtual void remove(const BufferLease& lease) = 0;
  virtual size_t size() const = 0;
  virtual size_t limit() const = 0;
};

}  // namespace sluice::pipeline
