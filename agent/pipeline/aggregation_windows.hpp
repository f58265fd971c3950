// The windows of one aggregator. Each window keeps one plugin instance per series (name and
// tags), so series can be bounded and evicted one by one, and sliding windows keep separate
// state.
//
//   tumbling (default): windows [start, start + period) aligned to multiples of the period.
//   sliding: windows of `size` starting every `every`; a metric belongs to each that covers it.
//
// A metric goes to the windows covering its time: the event time (its timestamp, the
// default) or the arrival time (`time_source: arrival`). The watermark is the latest time
// seen (event time) or the clock (arrival); a window is pushed once the watermark or the clock
// passes end + delay. With `allowed_lateness` a pushed window is kept that much longer: a late
// metric updates it and it is pushed again (or the metric is dropped: `late_metrics: drop`).
// A metric for a window already gone is dropped and counted. So is a metric stamped more than
// `max_time_ahead` past both the clock and the watermark (a host with a broken clock, a typo):
// it does not move the watermark, which would otherwise close every window up to its time and
// make all the normal metrics after it too late. Bounding the step from the watermark rather
// than from the clock alone keeps data replayed faster than real time working: it moves the
// watermark a little at a time. Without lateness, tumbling
// windows hand each series' instance to the next window after push and reset, so plugins that
// carry state across windows (histogram without reset) behave as in Telegraf.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/series_table.hpp"
#include "sluice/plugin.hpp"

namespace sluice::pipeline {

struct WindowSettings {
  int64_t size = 30'000'000'000;   // window length (period for tumbling windows)
  int64_t every = 30'000'000'000;  // distance between window starts (== size when tumbling)
  int64_t delay = 100'000'000;
  int64_t grace = 0;  // tumbling only: older metrics join the oldest open window
  int64_t allowed_lateness = 0;
  bool arrival_time = false;
  bool drop_late = false;  // late_metrics: drop
  size_t max_series = 0;   // 0: unbounded
  // Event time: metrics stamped further ahead of the clock and the watermark are dropped.
  // Ten minutes lets hosts with a few minutes of skew through. 0: no bound.
  int64_t max_time_ahead = 600'000'000'000;
};

struct WindowCounters {
  uint64_t accepted = 0;
  uint64_t too_late = 0;      // the window was gone
  uint64_t late_dropped = 0;  // late_metrics: drop
  uint64_t evicted = 0;       // series evicted by max_series
  uint64_t too_far_ahead = 0;  // stamped beyond max_time_ahead
};

class AggregationWindows {
 public:
  using Factory = std::function<std::unique_ptr<Aggregator>()>;

  // `now` is the clock at creation: windows that ended before it are not opened.
  AggregationWindows(WindowSettings settings, Factory factory, int64_t now);

  // Adds a metric arriving at `now`. Returns false when no window took it.
  bool add(const Metric& metric, int64_t now);
  // Pushes the windows due at `now` into `out` (stamped with their start) and forgets those
  // past their lateness.
  void push_due(int64_t now, Accumulator& out);
  // Pushes every open window (shutdown).
  void push_all(Accumulator& out);
  // When the next window is due by the clock (INT64_MAX when none is open).
  int64_t next_due() const;
  // True when the watermark (event time) has made a window due before the clock does.
  bool due_by_watermark() const { return next_due() <= watermark_; }

  const WindowCounters& counters() const { return counters_; }
  size_t series() const { return series_count_; }

 private:
  struct Window {
    int64_t start = 0;
    int64_t end = 0;
    // Hashed for the per-metric lookup; push_window sorts the keys so pushes come in a stable
    // order.
    SeriesTable series;
    // Tumbling windows without lateness: metrics of a series that arrive while the previous
    // window, which holds its state, is not pushed yet. They go into that state once it is
    // carried over.
    std::map<std::string, std::vector<Metric>> waiting;
    bool pushed = false;
    bool updated_after_push = false;
    // Tracked metrics the window consumed: their sources hear of them once it is pushed.
    std::vector<DeliveryHandle> deliveries;
  };

  // Adds to the window's instance of the metric's series (`hash`: SeriesTable::hash_of), or
  // to `found` when the series is already looked up.
  void add_to(Window& window, const Metric& metric, uint64_t hash, int64_t now);
  void add_to(Window& window, SeriesTable::Entry* found, const Metric& metric, uint64_t hash,
              int64_t now);
  void push_window(Window& window, Accumulator& out);
  void evict_oldest_series();
  // True when event time t is more than max_time_ahead past the clock and the watermark.
  bool too_far_ahead(int64_t t, int64_t now) const;
  // The start of the oldest window a metric at time t belongs to.
  int64_t first_start(int64_t t) const;
  bool carries_state() const {
    return settings_.size == settings_.every && settings_.allowed_lateness == 0;
  }

  WindowSettings settings_;
  Factory factory_;
  std::map<int64_t, Window> windows_;  // by start
  int64_t watermark_;
  int64_t opened_from_;  // windows ending before this are never opened
  size_t series_count_ = 0;
  WindowCounters counters_;
};

}  // namespace sluice::pipeline
