// The series an aggregator has seen: a series is a measurement name with its tags. Each series
// gets a dense index in order of first appearance, so an aggregator keeps its state in a plain
// vector beside this index and pushes in a deterministic order.
//
// Finding a known series allocates nothing and reads one key (core/series_key.hpp). The series
// found last is tried first: the host gives each series its own aggregator instance, so most
// instances only ever see one.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/series_key.hpp"
#include "sluice/metric.hpp"

namespace sluice::aggregators {

class SeriesIndex {
 public:
  struct Series {
    std::string key;  // core::series_key
    uint64_t hash = 0;
  };

  // The index of the metric's series; a series not seen before is appended.
  size_t find_or_add(const Metric& metric) {
    if (last_ < series_.size() && same(series_[last_], metric)) return last_;
    const uint64_t hash = core::series_hash(metric);
    if (table_.empty()) {
      if (!series_.empty() && same(series_[0], metric)) return last_ = 0;
    } else {
      const size_t mask = table_.size() - 1;
      for (size_t slot = hash & mask; table_[slot] != 0; slot = (slot + 1) & mask) {
        const Series& s = series_[table_[slot] - 1];
        if (s.hash == hash && same(s, metric)) return last_ = table_[slot] - 1;
      }
    }
    series_.push_back(Series{core::series_key(metric), hash});
    last_ = series_.size() - 1;
    // A single series needs no table (the check above finds it); the table comes with the
    // second, and doubles to stay at most half full.
    if (series_.size() >= 2) {
      if (series_.size() * 2 > table_.size()) {
        rebuild_table(table_.size() * 2);
      } else {
        insert(last_);
      }
    }
    return last_;
  }

  size_t size() const { return series_.size(); }
  bool empty() const { return series_.empty(); }
  // The measurement name of a series.
  std::string_view name(size_t i) const {
    const std::string& key = series_[i].key;
    return std::string_view(key).substr(0, key.find('\0'));
  }

  // A metric with the series' name and tags, time 0 (the host stamps the window's time) and
  // `type`, for push() to fill with fields.
  Metric make_metric(size_t i, ValueType type) const {
    return core::metric_of_series(series_[i].key, 0, type);
  }

  void clear() {
    series_.clear();
    table_.clear();
    last_ = kNone;
  }

  // Keeps the series for which keep(i) is true, in their order, and compacts `state` (one entry
  // per series, by index) alongside.
  template <typename State, typename Keep>
  void retain(std::vector<State>& state, Keep keep) {
    size_t kept = 0;
    for (size_t i = 0; i < series_.size(); ++i) {
      if (!keep(i)) continue;
      if (kept != i) {
        series_[kept] = std::move(series_[i]);
        state[kept] = std::move(state[i]);
      }
      ++kept;
    }
    if (kept == series_.size()) return;
    series_.resize(kept);
    state.resize(kept);
    last_ = kNone;
    if (series_.size() < 2) {
      table_.clear();
    } else {
      rebuild_table(table_.size());
    }
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  static bool same(const Series& s, const Metric& m) { return core::series_key_matches(s.key, m); }

  void insert(size_t index) {
    size_t mask = table_.size() - 1;
    size_t slot = series_[index].hash & mask;
    while (table_[slot] != 0) slot = (slot + 1) & mask;
    table_[slot] = static_cast<uint32_t>(index + 1);
  }
  void rebuild_table(size_t slots) {
    if (slots < 8) slots = 8;
    table_.assign(slots, 0);
    for (size_t i = 0; i < series_.size(); ++i) insert(i);
  }

  std::vector<Series> series_;
  std::vector<uint32_t> table_;  // open addressing: series index + 1, 0 when empty
  size_t last_ = kNone;
};

// The per-field state of one series, found by field key. A source usually writes its fields in
// the same order every time, so the slot at the field's position in the metric is tried first.
template <typename State>
class FieldSlots {
 public:
  struct Slot {
    std::string key;
    State state;
  };

  // The slot of `key`, or nullptr; `position` is the field's index in the metric.
  Slot* find(std::string_view key, size_t position) {
    if (position < slots_.size() && slots_[position].key == key) return &slots_[position];
    for (Slot& s : slots_) {
      if (s.key == key) return &s;
    }
    return nullptr;
  }
  const Slot* find(std::string_view key) const {
    for (const Slot& s : slots_) {
      if (s.key == key) return &s;
    }
    return nullptr;
  }
  Slot& add(std::string_view key, State state) {
    slots_.push_back(Slot{std::string(key), std::move(state)});
    return slots_.back();
  }

  bool empty() const { return slots_.empty(); }
  size_t size() const { return slots_.size(); }
  void clear() { slots_.clear(); }
  auto begin() { return slots_.begin(); }
  auto end() { return slots_.end(); }
  auto begin() const { return slots_.begin(); }
  auto end() const { return slots_.end(); }

 private:
  std::vector<Slot> slots_;
};

// A numeric field's value as a double, as Telegraf's aggregators read fields: floats and
// integers count; booleans and strings do not. NaN and infinities are left out too: one would
// poison every sum and mean of its window, and line protocol cannot carry them.
inline bool numeric_value(const FieldValue& value, double& out) {
  switch (value.index()) {
    case 0:
      out = *std::get_if<double>(&value);
      return out - out == 0;  // false for NaN and for both infinities
    case 1:
      out = static_cast<double>(*std::get_if<int64_t>(&value));
      return true;
    case 2:
      out = static_cast<double>(*std::get_if<uint64_t>(&value));
      return true;
    default:
      return false;
  }
}

}  // namespace sluice::aggregators
