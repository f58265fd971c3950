#include "pipeline/series_table.hpp"

#include <algorithm>

#include "core/series_key.hpp"

namespace sluice::pipeline {
uint64_t SeriesTable::hash_of(const Metric& metric) { return core::series_hash(metric); }

SeriesTable::Entry* SeriesTable::find(const Metric& metric, uint64_t hash) {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask; slots_[i].entry != kEmpty; i = (i + 1) & mask) {
    if (slots_[i].hash != hash) continue;
    Entry& e = entries_[slots_[i].entry];
    if (core::series_key_matches(e.key, metric)) return &e;
  }
  return nullptr;
}

SeriesTable::Entry* SeriesTable::find_key(std::string_view key, uint64_t hash) {
  if (slots_.empty()) return nullptr;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask; slots_[i].entry != kEmpty; i = (i + 1) & mask) {
    if (slots_[i].hash != hash) continue;
    Entry& e = entries_[slots_[i].entry];
    if (e.key == key) return &e;
  }
  return nullptr;
}

SeriesTable::Entry& SeriesTable::insert(Entry entry) {
  entries_.push_back(std::move(entry));
  if (entries_.size() * 2 > slots_.size()) {
    grow();
  } else {
    place(entries_.size() - 1);
  }
  return entries_.back();
}

void SeriesTable::erase(size_t index) {
  const size_t mask = slots_.size() - 1;
  // Take the entry's slot out, then shift later slots of the same probe run back into the
  // gap, so that every probe still reaches its entry without passing an empty slot.
  size_t gap = slot_of(entries_[index].hash, index);
  slots_[gap] = Slot{};
  for (size_t i = (gap + 1) & mask; slots_[i].entry != kEmpty; i = (i + 1) & mask) {
    const size_t home = slots_[i].hash & mask;
    // The slot may move to the gap when its home is not within (gap, i] (cyclically).
    const bool home_after_gap = gap <= i ? (home > gap && home <= i) : (home > gap || home <= i);
    if (home_after_gap) continue;
    slots_[gap] = slots_[i];
    slots_[i] = Slot{};
    gap = i;
  }
  // The last entry moves into the freed place.
  const size_t last = entries_.size() - 1;
  if (index != last) {
    slots_[slot_of(entries_[last].hash, last)].entry = static_cast<uint32_t>(index);
    entries_[index] = std::move(entries_[last]);
  }
  entries_.pop_back();
}

size_t SeriesTable::slot_of(uint64_t hash, size_t entry) const {
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i].entry != entry) i = (i + 1) & mask;
  return i;
}

void SeriesTable::place(size_t entry) {
  const size_t mask = slots_.size() - 1;
  size_t i = entries_[entry].hash & mask;
  while (slots_[i].entry != kEmpty) i = (i + 1) & mask;
  slots_[i] = Slot{entries_[entry].hash, static_cast<uint32_t>(entry)};
}

void SeriesTable::grow() {
  slots_.assign(std::max<size_t>(16, slots_.size() * 2), Slot{});
  for (size_t i = 0; i < entries_.size(); ++i) place(i);
}

}  // namespace sluice::pipeline
