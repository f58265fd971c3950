// The chunks of one file handed to the pipeline and not finished yet, in file order. The saved
// offset moves over the finished prefix only, so it never passes a line that was not delivered
// (at least once: after a restart, what follows it is read again).
#pragma once

#include <cstdint>
#include <deque>

namespace sluice::inputs::tail {

class OffsetTracker {
 public:
  explicit OffsetTracker(int64_t start) : saved_(start) {}

  // A chunk of lines ending (exclusive) at file offset `end`; returns its id.
  uint64_t add(int64_t end) {
    if (!frozen_) chunks_.push_back({next_, end, State::kPending});
    return next_++;
  }

  // The chunk's metrics were all released: delivered, or some dropped unwritten. A lost chunk
  // holds the offset at its start for the rest of the run, so a restart reads it again.
  void finish(uint64_t id, bool delivered) {
    if (chunks_.empty() || id < chunks_.front().id) return;  // from before a truncation
    size_t index = id - chunks_.front().id;
    if (index >= chunks_.size()) return;
    chunks_[index].state = delivered ? State::kDelivered : State::kLost;
    while (!chunks_.empty() && chunks_.front().state == State::kDelivered) {
      saved_ = chunks_.front().end;
      chunks_.pop_front();
    }
    if (!chunks_.empty() && chunks_.front().state == State::kLost) {
      frozen_ = true;
      chunks_.clear();  // nothing after a lost chunk can move the offset any more
    }
  }

  // The file was truncated: its old chunks no longer say anything about the new content.
  void restart_at(int64_t offset) {
    chunks_.clear();
    saved_ = offset;
    frozen_ = false;
  }

  int64_t saved() const { return saved_; }
  bool in_flight() const { return !chunks_.empty(); }
  bool frozen() const { return frozen_; }

 private:
  enum class State { kPending, kDelivered, kLost };
  struct Chunk {
    uint64_t id;
    int64_t end;
    State state;
  };
  // Ids are consecutive, so a chunk is found by its distance from the first.
  std::deque<Chunk> chunks_;
  uint64_t next_ = 0;
  int64_t saved_;
  bool frozen_ = false;
};

}  // namespace sluice::inputs::tail
