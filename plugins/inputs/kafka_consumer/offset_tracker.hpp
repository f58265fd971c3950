// Which offsets of a consumer's partitions may be committed: the messages handed to the
// pipeline are tracked per partition until the outputs have written them, and only the
// contiguous prefix of delivered messages is released for storing. A message that was lost
// (dropped unwritten) holds its partition's offset where it is, so it comes again after a
// restart. Used by the consumer thread only; outcomes reach it through OutcomeQueue.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sluice::inputs::kafka_consumer {

struct PartitionKey {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const PartitionKey&) const = default;
};

// How one message ended. `assignment` tells apart the assignments of one partition, so that
// the outcome of a message read before a rebalance does not touch the state after it.
struct Outcome {
  uint64_t assignment = 0;
  int64_t offset = 0;
  bool delivered = true;
};

// Outcomes reported from any thread (the delivery groups end where the pipeline releases the
// last metric), taken by the consumer thread.
class OutcomeQueue {
 public:
  void push(const Outcome& outcome) {
    std::lock_guard lock(mutex_);
    outcomes_.push_back(outcome);
  }
  std::vector<Outcome> take() {
    std::lock_guard lock(mutex_);
    std::vector<Outcome> out;
    out.swap(outcomes_);
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<Outcome> outcomes_;
};

// An offset to store: the next message to read after a restart.
struct StorableOffset {
  PartitionKey partition;
  int64_t next_offset = 0;
};

class OffsetTracker {
 public:
  // The partition is (again) ours: whatever was known of an earlier assignment is forgotten.
  void assign(const PartitionKey& partition);
  // The partition is no longer ours: its messages still in flight are forgotten, and their
  // outcomes will be ignored.
  void revoke(const PartitionKey& partition);
  // A message of `partition` at `offset` goes to the pipeline. Returns the assignment its
  // outcome must name. A partition never assigned is assigned now.
  uint64_t consumed(const PartitionKey& partition, int64_t offset);
  // Applies an outcome. Returns the partition when this is its first lost message (from then
  // on its offset stays before that message until the partition is assigned again).
  std::optional<PartitionKey> finish(const Outcome& outcome);
  // The partitions whose delivered prefix grew since the last call, with the offset to store.
  std::vector<StorableOffset> take_storable();

  // Messages handed to the pipeline whose outcome has not arrived.
  size_t in_flight() const { return in_flight_; }
  // The same for one partition (0 when it is not ours).
  size_t in_flight(const PartitionKey& partition) const;

 private:
  struct Partition {
    PartitionKey key;
    // Messages not yet released, by offset: false while in flight, true once finished.
    std::map<int64_t, bool> messages;
    size_t in_flight = 0;
    std::optional<int64_t> lost_at;   // the lowest offset not delivered
    std::optional<int64_t> storable;  // next offset to store, not yet taken
  };

  std::map<PartitionKey, uint64_t> current_;  // the assignment of each partition we hold
  std::map<uint64_t, Partition> assignments_;
  uint64_t next_assignment_ = 1;
  size_t in_flight_ = 0;
};

}  // namespace sluice::inputs::kafka_consumer
