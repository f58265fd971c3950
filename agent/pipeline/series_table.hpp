// The series of one aggregation window, each with its own aggregator instance. A series is a
// measurement name with its tags; its key is core::series_key.
//
// This lookup runs for every metric an aggregator takes, so it is flat: an open-addressing
// table of (hash, entry) pairs beside a vector of entries. The hash is computed straight from
// the metric's name and tags and a candidate is compared with the metric segment by segment,
// so finding a known series builds no key string, allocates nothing and touches two small
// arrays and one key.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/plugin.hpp"

namespace sluice::pipeline {

class SeriesTable {
 public:
  struct Entry {
    std::string key;
    uint64_t hash = 0;
    int64_t last_update = 0;
    std::unique_ptr<Aggregator> aggregator;
  };

  // The hash of a metric's series; the same for every metric of the series.
  static uint64_t hash_of(const Metric& metric);

  // The entry of the metric's series (`hash` from hash_of), or nullptr.
  Entry* find(const Metric& metric, uint64_t hash);
  // The entry with this key, or nullptr.
  Entry* find_key(std::string_view key, uint64_t hash);
  // Adds an entry whose key is not in the table yet. The reference is valid until the next
  // insert or erase.
  Entry& insert(Entry entry);
  // Removes the entry at `index` (of entries()); the last entry takes its place.
  void erase(size_t index);

  std::vector<Entry>& entries() { return entries_; }
  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  struct Slot {
    uint64_t hash = 0;
    uint32_t entry = kEmpty;
  };

  size_t slot_of(uint64_t hash, size_t entry) const;
  void place(size_t entry);
  void grow();

  std::vector<Slot> slots_;  // a power of two in size, at most half full
  std::vector<Entry> entries_;
};

}  // namespace sluice::pipeline
