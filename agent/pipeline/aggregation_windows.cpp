#include "pipeline/aggregation_windows.hpp"

#include <algorithm>
#include <climits>

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

void series_key_into(const Metric& metric, std::string& key) {
  key.assign(metric.name());
  for (const Tag& t : metric.tags()) {
    key += '\0';
    key += t.key;
    key += '\0';
    key += t.value;
  }
}

std::string series_key(const Metric& metric) {
  std::string key;
  series_key_into(metric, key);
  return key;
}

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

bool AggregationWindows::add(const Metric& metric, int64_t now) {
  int64_t t = settings_.arrival_time ? now : metric.time();
  watermark_ = std::max(watermark_, settings_.arrival_time ? now : t);
  int64_t horizon = std::max(watermark_, now);
  series_key_into(metric, key_);
  const std::string& key = key_;
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
    auto found = window.series.find(key);
    if (carries_state() && found == window.series.end()) {
      auto previous = windows_.find(start - settings_.every);
      if (previous != windows_.end() && !previous->second.pushed &&
          previous->second.series.count(key)) {
        window.waiting[key].push_back(metric);
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
    taken |= add_to(window, found, key, metric, now);
  }
  // Telegraf's grace: a metric a little older than the open window joins it.
  if (!taken && !refused_late && settings_.grace > 0 && settings_.size == settings_.every) {
    for (auto& [start, window] : windows_) {
      if (window.pushed) continue;
      if (t < start && t >= start - settings_.grace) taken = add_to(window, key, metric, now);
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

bool AggregationWindows::add_to(Window& window, const std::string& key, const Metric& metric,
                                int64_t now) {
  return add_to(window, window.series.find(key), key, metric, now);
}

bool AggregationWindows::add_to(Window& window, SeriesMap::iterator it, const std::string& key,
                                const Metric& metric, int64_t now) {
  if (it == window.series.end()) {
    if (settings_.max_series > 0 && series_count_ >= settings_.max_series) evict_oldest_series();
    it = window.series.emplace(key, SeriesState{factory_(), now}).first;
    ++series_count_;
  }
  it->second.last_update = now;
  it->second.aggregator->add(metric);
  if (const DeliveryHandle& d = metric.delivery();
      d && (window.deliveries.empty() || window.deliveries.back() != d)) {
    window.deliveries.push_back(d);
  }
  return true;
}

void AggregationWindows::evict_oldest_series() {
  // The least recently updated; among equals, the earliest window, then the smallest key.
  Window* oldest_window = nullptr;
  std::unordered_map<std::string, SeriesState>::iterator oldest;
  for (auto& [start, window] : windows_) {
    for (auto it = window.series.begin(); it != window.series.end(); ++it) {
      bool older = oldest_window == nullptr ||
                   it->second.last_update < oldest->second.last_update ||
                   (it->second.last_update == oldest->second.last_update &&
                    oldest_window == &window && it->first < oldest->first);
      if (older) {
        oldest_window = &window;
        oldest = it;
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
  std::vector<std::pair<const std::string*, SeriesState*>> in_order;
  in_order.reserve(window.series.size());
  for (auto& [key, state] : window.series) in_order.emplace_back(&key, &state);
  std::sort(in_order.begin(), in_order.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (auto& [key, state] : in_order) {
    state->aggregator->push(stamped);
    if (carries_state()) state->aggregator->reset();
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
      for (auto& [key, state] : window.series) {
        if (next_window.series.emplace(key, std::move(state)).second) continue;
        --series_count_;  // the next window has its own instance already
      }
      for (auto& [key, metrics] : next_window.waiting) {
        for (const Metric& m : metrics) add_to(next_window, key, m, now);
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
