#include "pipeline/aggregation_windows.hpp"

#include <algorithm>
#include <climits>

#include "core/series_key.hpp"

namespace sluice::pipeline {
namespace {

// Floor division for possibly negative times.
int64_t floor_to(int64_t t, int64_t step) {
  int64_t r = t % step;
  return r < 0 ? t - r - step : t - r;
}

// Stamps a window's start on what its series push.
class StampingAccumulator final : public Accumulator {
 public:
  StampingAccumulator(Accumulator& out, int64_t time) : out_(out), time_(time) {}
  void add(Metric metric) override {
    if (metric.time() == 0) metric.set_time(time_);
    out_.add(std::move(metric));
  }
  void add_error(std::string_view message) override { out_.add_error(message); }
  int64_t time() const override { return time_; }

 private:
  Accumulator& out_;
  int64_t time_;
};

}  // namespace

AggregationWindows::AggregationWindows(WindowSettings settings, Factory factory, int64_t now)
    : settings_(settings),
      factory_(std::move(factory)),
      watermark_(now),
      opened_from_(floor_to(now, settings.every)) {}

int64_t AggregationWindows::first_start(int64_t t) const {
  int64_t start = floor_to(t, settings_.every);
  while (start - settings_.every + settings_.size > t) start -= settings_.every;
  return start;
}

bool AggregationWindows::too_far_ahead(int64_t t, int64_t now) const {
  if (settings_.arrival_time || settings_.max_time_ahead <= 0) return false;
  int64_t reference = std::max(watermark_, now);
  // Unsigned: the distance between any two int64 times fits, even a timestamp near the limit.
  return t > reference && static_cast<uint64_t>(t) - static_cast<uint64_t>(reference) >
                              static_cast<uint64_t>(settings_.max_time_ahead);
}

bool AggregationWindows::add(const Metric& metric, int64_t now) {
  if (too_far_ahead(metric.time(), now)) {
    ++counters_.too_far_ahead;
    return false;
  }
  int64_t t = settings_.arrival_time ? now : metric.time();
  watermark_ = std::max(watermark_, settings_.arrival_time ? now : t);
  int64_t horizon = std::max(watermark_, now);
  const uint64_t hash = SeriesTable::hash_of(metric);
  bool taken = false;
  bool refused_late = false;
  for (int64_t start = first_start(t); start <= t; start += settings_.every) {
    int64_t end = start + settings_.size;
    auto it = windows_.find(start);
    if (it == windows_.end()) {
      bool gone = end + settings_.delay + settings_.allowed_lateness <= horizon;
      if (gone || end <= opened_from_) continue;
      it = windows_.emplace(start, Window{start, end, {}, {}, false, false, {}}).first;
    }
    Window& window = it->second;
    SeriesTable::Entry* found = window.series.find(metric, hash);
    if (carries_state() && found == nullptr) {
      auto previous = windows_.find(start - settings_.every);
      if (previous != windows_.end() && !previous->second.pushed &&
          previous->second.series.find(metric, hash) != nullptr) {
        window.waiting[core::series_key(metric)].push_back(metric);
        taken = true;
        continue;
      }
    }
    if (window.pushed) {
      if (settings_.drop_late) {
        refused_late = true;
        continue;
      }
      window.updated_after_push = true;
    }
    add_to(window, found, metric, hash, now);
    taken = true;
  }
  // Telegraf's grace: a metric a little older than the open window joins it.
  if (!taken && !refused_late && settings_.grace > 0 && settings_.size == settings_.every) {
    for (auto& [start, window] : windows_) {
      if (window.pushed) continue;
      if (t < start && t >= start - settings_.grace) {
        add_to(window, metric, hash, now);
        taken = true;
      }
      break;
    }
  }
  if (taken) {
    ++counters_.accepted;
  } else if (refused_late) {
    ++counters_.late_dropped;
  } else {
    ++counters_.too_late;
  }
  return taken;
}

void AggregationWindows::add_to(Window& window, const Metric& metric, uint64_t hash, int64_t now) {
  add_to(window, window.series.find(metric, hash), metric, hash, now);
}

void AggregationWindows::add_to(Window& window, SeriesTable::Entry* found, const Metric& metric,
                                uint64_t hash, int64_t now) {
  if (found == nullptr) {
    if (settings_.max_series > 0 && series_count_ >= settings_.max_series) evict_oldest_series();
    found =
        &window.series.insert(SeriesTable::Entry{core::series_key(metric), hash, now, factory_()});
    ++series_count_;
  }
  found->last_update = now;
  found->aggregator->add(metric);
  if (const DeliveryHandle& d = metric.delivery();
      d && (window.deliveries.empty() || window.deliveries.back() != d)) {
    window.deliveries.push_back(d);
  }
}

void AggregationWindows::evict_oldest_series() {
  // The least recently updated; among equals, the earliest window, then the smallest key.
  Window* oldest_window = nullptr;
  size_t oldest = 0;
  for (auto& [start, window] : windows_) {
    const std::vector<SeriesTable::Entry>& entries = window.series.entries();
    for (size_t i = 0; i < entries.size(); ++i) {
      const SeriesTable::Entry* best =
          oldest_window == nullptr ? nullptr : &oldest_window->series.entries()[oldest];
      bool older = best == nullptr || entries[i].last_update < best->last_update ||
                   (entries[i].last_update == best->last_update && oldest_window == &window &&
                    entries[i].key < best->key);
      if (older) {
        oldest_window = &window;
        oldest = i;
      }
    }
  }
  if (oldest_window == nullptr) return;
  oldest_window->series.erase(oldest);
  --series_count_;
  ++counters_.evicted;
}

void AggregationWindows::push_window(Window& window, Accumulator& out) {
  StampingAccumulator stamped(out, window.start);
  std::vector<SeriesTable::Entry*> in_order;
  in_order.reserve(window.series.size());
  for (SeriesTable::Entry& e : window.series.entries()) in_order.push_back(&e);
  std::sort(in_order.begin(), in_order.end(),
            [](const auto* a, const auto* b) { return a->key < b->key; });
  for (SeriesTable::Entry* e : in_order) {
    e->aggregator->push(stamped);
    if (carries_state()) e->aggregator->reset();
  }
  window.pushed = true;
  window.updated_after_push = false;
  window.deliveries.clear();
}

void AggregationWindows::push_due(int64_t now, Accumulator& out) {
  if (settings_.arrival_time) watermark_ = std::max(watermark_, now);
  int64_t horizon = std::max(watermark_, now);
  for (auto it = windows_.begin(); it != windows_.end();) {
    Window& window = it->second;
    if (horizon < window.end + settings_.delay) break;  // later windows end later
    if (!window.pushed || window.updated_after_push) push_window(window, out);
    if (horizon < window.end + settings_.delay + settings_.allowed_lateness) {
      ++it;
      continue;
    }
    if (carries_state()) {
      // The series' instances, reset, go on into the next window.
      int64_t next = window.start + settings_.every;
      auto [target, created] =
          windows_.emplace(next, Window{next, next + settings_.size, {}, {}, false, false, {}});
      Window& next_window = target->second;
      for (SeriesTable::Entry& e : window.series.entries()) {
        if (next_window.series.find_key(e.key, e.hash) == nullptr) {
          next_window.series.insert(std::move(e));
        } else {
          --series_count_;  // the next window has its own instance already
        }
      }
      for (auto& [key, metrics] : next_window.waiting) {
        for (const Metric& m : metrics) add_to(next_window, m, SeriesTable::hash_of(m), now);
      }
      next_window.waiting.clear();
    } else {
      series_count_ -= window.series.size();
    }
    it = windows_.erase(it);
  }
}

void AggregationWindows::push_all(Accumulator& out) {
  for (auto& [start, window] : windows_) {
    if (!window.pushed || window.updated_after_push) push_window(window, out);
  }
  windows_.clear();
  series_count_ = 0;
}

int64_t AggregationWindows::next_due() const {
  int64_t due = INT64_MAX;
  for (const auto& [start, window] : windows_) {
    int64_t at = window.end + settings_.delay;
    if (window.pushed && !window.updated_after_push) at += settings_.allowed_lateness;
    due = std::min(due, at);
  }
  return due;
}

}  // namespace sluice::pipeline
