#include "pipeline/memory_buffer.hpp"

#include <algorithm>
#include <atomic>
#include <iterator>

#include "core/delivery.hpp"

namespace sluice::pipeline {

size_t MemoryBuffer::add(SharedBatch batch) {
  if (!batch || batch->empty()) return 0;
  std::lock_guard lock(mutex_);
  size_t incoming = batch->size();
  size_t dropped = 0;
  if (size_ + incoming > limit_) {
    size_t excess = size_ + incoming - limit_;
    size_t from_held = std::min(excess, size_);
    drop_front(from_held);
    dropped += from_held;
    excess -= from_held;
    // A batch larger than the whole buffer keeps only its newest metrics.
    if (excess > 0) {
      mark_lost(std::span<const Metric>(batch->data(), excess));
      front_seq_ += excess;
      dropped += excess;
    }
    segments_.push_back(Segment{std::move(batch), excess});
    size_ += incoming - excess;
    return dropped;
  }
  segments_.push_back(Segment{std::move(batch), 0});
  size_ += incoming;
  return 0;
}

MemoryBuffer::~MemoryBuffer() { drop_front(size_); }

void MemoryBuffer::drop_front(size_t n) {
  size_t left = n;
  for (const Segment& segment : segments_) {
    if (left == 0) break;
    size_t take = std::min(left, segment.size());
    mark_lost(std::span<const Metric>(segment.batch->data() + segment.begin, take));
    left -= take;
  }
  pop_front(n);
}

void MemoryBuffer::pop_front(size_t n) {
  size_ -= n;
  front_seq_ += n;
  while (n > 0) {
    Segment& front = segments_.front();
    size_t take = std::min(n, front.size());
    front.begin += take;
    n -= take;
    if (front.size() == 0) segments_.pop_front();
  }
}

BufferLease MemoryBuffer::take(size_t max) {
  std::lock_guard lock(mutex_);
  return lend(front_seq_, max);
}

BufferLease MemoryBuffer::take_after(const BufferLease& previous, size_t max) {
  std::lock_guard lock(mutex_);
  return lend(previous.first_seq + previous.size(), max);
}

BufferLease MemoryBuffer::lend(uint64_t seq, size_t max) {
  BufferLease lease;
  // Metrics dropped since the previous lease was taken are skipped.
  lease.first_seq = std::max(seq, front_seq_);
  size_t skip = static_cast<size_t>(lease.first_seq - front_seq_);
  if (skip >= size_ || max == 0) return lease;
  size_t wanted = std::min(max, size_ - skip);
  if (skip == 0 && segments_.front().size() < wanted && front_is_ours(wanted)) {
    merge_front(wanted);  // the front segment now holds all that is wanted
  }
  auto segment = segments_.begin();
  while (skip >= segment->size()) {
    skip -= segment->size();
    ++segment;
  }
  if (segment->size() - skip >= wanted) {
    lease.keep_alive = segment->batch;
    lease.metrics =
        std::span<const Metric>(segment->batch->data() + segment->begin + skip, wanted);
    return lease;
  }
  auto gathered = std::make_shared<Batch>();
  gathered->reserve(wanted);
  for (; gathered->size() < wanted; ++segment, skip = 0) {
    auto first = segment->batch->begin() + static_cast<ptrdiff_t>(segment->begin + skip);
    size_t n = std::min(wanted - gathered->size(), segment->size() - skip);
    gathered->insert(gathered->end(), first, first + static_cast<ptrdiff_t>(n));
  }
  lease.metrics = std::span<const Metric>(gathered->data(), gathered->size());
  lease.keep_alive = std::move(gathered);
  return lease;
}

bool MemoryBuffer::front_is_ours(size_t count) const {
  for (auto segment = segments_.begin(); count > 0; ++segment) {
    if (segment->batch.use_count() != 1) return false;
    count -= std::min(count, segment->size());
  }
  // Whoever held these batches before let go of them after reading: see their reads before
  // the moves below.
  std::atomic_thread_fence(std::memory_order_acquire);
  return true;
}

void MemoryBuffer::merge_front(size_t count) {
  auto merged = std::make_shared<Batch>();
  merged->reserve(count);
  while (merged->size() < count) {
    Segment& front = segments_.front();
    size_t n = std::min(count - merged->size(), front.size());
    auto first = front.batch->begin() + static_cast<ptrdiff_t>(front.begin);
    std::move(first, first + static_cast<ptrdiff_t>(n), std::back_inserter(*merged));
    front.begin += n;  // what was moved out is no longer this segment's
    if (front.size() == 0) segments_.pop_front();
  }
  segments_.push_front(Segment{std::move(merged), 0});
}

void MemoryBuffer::remove(const BufferLease& lease) {
  std::lock_guard lock(mutex_);
  uint64_t end_seq = lease.first_seq + lease.size();
  if (end_seq <= front_seq_) return;  // all dropped meanwhile
  pop_front(std::min<uint64_t>(end_seq - front_seq_, size_));
}

size_t MemoryBuffer::size() const {
  std::lock_guard lock(mutex_);
  return size_;
}

}  // namespace sluice::pipeline
