#include "offset_tracker.hpp"

namespace sluice::inputs::kafka_consumer {

void OffsetTracker::assign(const PartitionKey& partition) {
  revoke(partition);
  uint64_t id = next_assignment_++;
  current_[partition] = id;
  assignments_[id].key = partition;
}

void OffsetTracker::revoke(const PartitionKey& partition) {
  auto it = current_.find(partition);
  if (it == current_.end()) return;
  auto state = assignments_.find(it->second);
  in_flight_ -= state->second.in_flight;
  assignments_.erase(state);
  current_.erase(it);
}

uint64_t OffsetTracker::consumed(const PartitionKey& partition, int64_t offset) {
  auto it = current_.find(partition);
  if (it == current_.end()) {
    assign(partition);
    it = current_.find(partition);
  }
  Partition& p = assignments_[it->second];
  auto [message, added] = p.messages.emplace(offset, false);
  if (added) {
    ++p.in_flight;
    ++in_flight_;
  } else if (message->second) {
    // Read again (a seek back) after it finished: in flight once more.
    message->second = false;
    ++p.in_flight;
    ++in_flight_;
  }
  return it->second;
}

std::optional<PartitionKey> OffsetTracker::finish(const Outcome& outcome) {
  auto state = assignments_.find(outcome.assignment);
  if (state == assignments_.end()) return std::nullopt;  // revoked since
  Partition& p = state->second;
  auto message = p.messages.find(outcome.offset);
  if (message == p.messages.end() || message->second) return std::nullopt;
  message->second = true;
  --p.in_flight;
  --in_flight_;

  std::optional<PartitionKey> first_loss;
  if (!outcome.delivered && (!p.lost_at || outcome.offset < *p.lost_at)) {
    if (!p.lost_at) first_loss = p.key;
    p.lost_at = outcome.offset;
    // Nothing from the lost message on will be stored: forget what of it has finished.
    for (auto it = p.messages.lower_bound(outcome.offset); it != p.messages.end();) {
      it = it->second ? p.messages.erase(it) : std::next(it);
    }
  } else if (p.lost_at && outcome.offset >= *p.lost_at) {
    p.messages.erase(message);
  }
  // Release the finished prefix before the first lost message.
  while (!p.messages.empty() && p.messages.begin()->second &&
         (!p.lost_at || p.messages.begin()->first < *p.lost_at)) {
    p.storable = p.messages.begin()->first + 1;
    p.messages.erase(p.messages.begin());
  }
  return first_loss;
}

std::vector<StorableOffset> OffsetTracker::take_storable() {
  std::vector<StorableOffset> out;
  for (auto& [id, p] : assignments_) {
    if (!p.storable) continue;
    out.push_back({p.key, *p.storable});
    p.storable.reset();
  }
  return out;
}

size_t OffsetTracker::in_flight(const PartitionKey& partition) const {
  auto it = current_.find(partition);
  return it == current_.end() ? 0 : assignments_.at(it->second).in_flight;
}

}  // namespace sluice::inputs::kafka_consumer
