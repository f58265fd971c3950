#include <doctest/doctest.h>

#include <cstdint>

#include "pipeline/aggregation_windows.hpp"

using namespace sluice;
using namespace sluice::pipeline;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

// Counts the metrics of its series and emits "<name>,<tags> count=N".
class SeriesCounter final : public Aggregator {
 public:
  void add(const Metric& m) override {
    if (count_ == 0) last_ = Metric(m.name(), 0);
    for (const TagRef t : m.tags()) last_.set_tag(t.key, t.value);
    ++count_;
  }
  void push(Accumulator& acc) override {
    if (count_ == 0) return;
    Metric out = last_;
    out.set_field("count", count_);
    acc.add(std::move(out));
  }
  void reset() override { count_ = 0; }

 private:
  Metric last_;
  int64_t count_ = 0;
};

class Collect final : public Accumulator {
 public:
  void add(Metric m) override { metrics.push_back(std::move(m)); }
  void add_error(std::string_view) override {}
  int64_t time() const override { return 0; }
  // "name@start_s=count" per pushed metric, in order.
  std::vector<std::string> summary() const {
    std::vector<std::string> out;
    for (const Metric& m : metrics) {
      std::string s = m.name();
      if (auto host = m.tag("host")) s += "/" + std::string(*host);
      out.push_back(s + "@" + std::to_string(m.time() / kSecond) + "=" +
                    std::to_string(std::get<int64_t>(*m.field("count"))));
    }
    return out;
  }
  std::vector<Metric> metrics;
};

Metric at(double seconds, const std::string& host = "a") {
  Metric m("m", static_cast<int64_t>(seconds * kSecond));
  m.set_tag("host", host);
  m.set_field("v", 1.0);
  return m;
}

AggregationWindows windows(WindowSettings s, int64_t now) {
  return AggregationWindows(s, [] { return std::make_unique<SeriesCounter>(); }, now);
}

WindowSettings tumbling(int64_t period_s, int64_t delay_s = 0) {
  WindowSettings s;
  s.size = s.every = period_s * kSecond;
  s.delay = delay_s * kSecond;
  return s;
}

using Summary = std::vector<std::string>;

}  // namespace

TEST_CASE("tumbling windows push after end + delay, one aggregate per series") {
  auto w = windows(tumbling(10, 1), 100 * kSecond);
  for (double t : {100.0, 104.0, 109.9}) CHECK(w.add(at(t), t * kSecond));
  CHECK(w.add(at(105, "b"), 105 * kSecond));
  CHECK(w.add(at(110), 110 * kSecond));  // the next window
  CHECK(w.next_due() == 111 * kSecond);
  Collect out;
  w.push_due(110 * kSecond, out);
  CHECK(out.metrics.empty());  // the delay is not over
  w.push_due(111 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=3", "m/b@100=1"});
  out.metrics.clear();
  w.push_due(121 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@110=1"});  // reset between windows
}

TEST_CASE("metrics for a window that is gone are dropped and counted, grace takes a little") {
  auto w = windows(tumbling(10), 100 * kSecond);
  CHECK_FALSE(w.add(at(95), 100 * kSecond));  // before the first window
  CHECK(w.counters().too_late == 1);
  WindowSettings s = tumbling(10);
  s.grace = 5 * kSecond;
  auto g = windows(s, 100 * kSecond);
  CHECK(g.add(at(101), 101 * kSecond));
  CHECK(g.add(at(97), 101 * kSecond));  // 3 s before the open window: within grace
  CHECK_FALSE(g.add(at(93), 101 * kSecond));
  Collect out;
  g.push_due(110 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=2"});
}

TEST_CASE("sliding windows: a metric counts in every window that covers it") {
  WindowSettings s;
  s.size = 10 * kSecond;
  s.every = 5 * kSecond;
  s.delay = 0;
  auto w = windows(s, 100 * kSecond);
  for (double t : {101.0, 106.0, 112.0}) w.add(at(t), t * kSecond);
  Collect out;
  w.push_due(130 * kSecond, out);
  // [95,105): 101   [100,110): 101 106   [105,115): 106 112   [110,120): 112
  CHECK(out.summary() == Summary{"m/a@95=1", "m/a@100=2", "m/a@105=2", "m/a@110=1"});
}

TEST_CASE("event time: the watermark closes windows before the clock does") {
  auto w = windows(tumbling(10), 100 * kSecond);
  w.add(at(101), 100 * kSecond);
  CHECK_FALSE(w.due_by_watermark());
  w.add(at(111), 100 * kSecond);  // replayed data, ahead of the clock
  CHECK(w.due_by_watermark());
  Collect out;
  w.push_due(100 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=1"});
}

TEST_CASE("a metric stamped hours ahead is dropped and counted, later windows still push") {
  auto w = windows(tumbling(10), 100 * kSecond);
  CHECK(w.add(at(101), 101 * kSecond));
  CHECK_FALSE(w.add(at(101 + 3 * 3600, "broken"), 102 * kSecond));  // a host with a wrong clock
  CHECK(w.counters().too_far_ahead == 1);
  CHECK_FALSE(w.due_by_watermark());  // the watermark stayed with the clock
  CHECK(w.add(at(105), 105 * kSecond));
  CHECK(w.add(at(112), 112 * kSecond));
  CHECK(w.add(at(125), 125 * kSecond));
  Collect out;
  w.push_due(112 * kSecond, out);
  w.push_due(130 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=2", "m/a@110=1", "m/a@120=1"});
  CHECK(w.counters().accepted == 4);
  CHECK(w.counters().too_late == 0);
  CHECK(w.counters().too_far_ahead == 1);
}

TEST_CASE("max_time_ahead: a few minutes of skew are taken, the bound is inclusive") {
  WindowSettings s = tumbling(10);
  s.max_time_ahead = 600 * kSecond;
  auto w = windows(s, 100 * kSecond);
  CHECK(w.add(at(100 + 300), 100 * kSecond));  // five minutes fast
  CHECK(w.counters().too_far_ahead == 0);
  auto edge = windows(s, 100 * kSecond);
  CHECK(edge.add(at(700), 100 * kSecond));  // exactly the bound
  Metric beyond = at(700 + 600);
  beyond.set_time(beyond.time() + 1);  // one nanosecond past the watermark's bound
  CHECK_FALSE(edge.add(beyond, 100 * kSecond));
  CHECK(edge.counters().too_far_ahead == 1);
  // No overflow for a timestamp at the very end of the range.
  Metric last = at(0);
  last.set_time(INT64_MAX);
  CHECK_FALSE(edge.add(last, 100 * kSecond));
  CHECK(edge.counters().too_far_ahead == 2);
}

TEST_CASE("max_time_ahead counts from the watermark, so a fast replay keeps being taken") {
  WindowSettings s = tumbling(60);
  s.max_time_ahead = 600 * kSecond;
  auto w = windows(s, 0);
  // An hour of data every 10 s, replayed while the clock stands still.
  for (int64_t t = 0; t < 3600; t += 10) CHECK(w.add(at(static_cast<double>(t)), 0));
  CHECK(w.counters().accepted == 360);
  CHECK(w.counters().too_far_ahead == 0);
  Collect out;
  w.push_due(0, out);  // the watermark closed all but the last window
  CHECK(out.metrics.size() == 59);
  // A gap longer than the bound is not: that replay needs a larger bound, or none.
  CHECK_FALSE(w.add(at(3600 + 601), 0));
  s.max_time_ahead = 0;
  auto unbounded = windows(s, 0);
  CHECK(unbounded.add(at(10 * 3600), 0));
  CHECK(unbounded.counters().too_far_ahead == 0);
}

TEST_CASE("allowed lateness: a late metric updates its window, which is pushed again") {
  WindowSettings s = tumbling(10);
  s.allowed_lateness = 5 * kSecond;
  auto w = windows(s, 100 * kSecond);
  w.add(at(101), 101 * kSecond);
  w.add(at(102), 102 * kSecond);
  Collect out;
  w.push_due(110 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=2"});
  CHECK(w.add(at(109), 112 * kSecond));  // late, within the lateness
  CHECK(w.next_due() <= 112 * kSecond);
  w.push_due(112 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=2", "m/a@100=3"});
  w.push_due(115 * kSecond, out);  // the lateness is over: the window goes
  CHECK_FALSE(w.add(at(108), 116 * kSecond));
  CHECK(w.counters().too_late == 1);
  CHECK(out.metrics.size() == 2);
}

TEST_CASE("late_metrics: drop refuses late metrics and counts them") {
  WindowSettings s = tumbling(10);
  s.allowed_lateness = 5 * kSecond;
  s.drop_late = true;
  auto w = windows(s, 100 * kSecond);
  w.add(at(101), 101 * kSecond);
  Collect out;
  w.push_due(110 * kSecond, out);
  CHECK_FALSE(w.add(at(109), 111 * kSecond));
  CHECK(w.counters().late_dropped == 1);
  w.push_due(116 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=1"});
}

TEST_CASE("arrival time ignores the metric's timestamp") {
  WindowSettings s = tumbling(10);
  s.arrival_time = true;
  auto w = windows(s, 100 * kSecond);
  CHECK(w.add(at(5), 103 * kSecond));  // stamped long ago, arrives now
  CHECK(w.add(at(5 * 3600), 104 * kSecond));  // or hours ahead: no matter
  Collect out;
  w.push_due(110 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=2"});
}

TEST_CASE("max_series evicts the least recently updated series and counts it") {
  WindowSettings s = tumbling(10);
  s.max_series = 2;
  auto w = windows(s, 100 * kSecond);
  w.add(at(101, "a"), 101 * kSecond);
  w.add(at(102, "b"), 102 * kSecond);
  w.add(at(103, "a"), 103 * kSecond);
  w.add(at(104, "c"), 104 * kSecond);  // evicts b, the quietest
  CHECK(w.counters().evicted == 1);
  CHECK(w.series() == 2);
  Collect out;
  w.push_all(out);
  CHECK(out.summary() == Summary{"m/a@100=2", "m/c@100=1"});
}

TEST_CASE("tumbling windows carry a series' state on, even when the next window starts early") {
  // Keeps a running total across windows (reset does not clear it), as histogram does
  // without reset.
  class RunningTotal final : public Aggregator {
   public:
    void add(const Metric&) override { ++total_; }
    void push(Accumulator& acc) override {
      Metric m("m", 0);
      m.set_tag("host", "a");
      m.set_field("count", total_);
      acc.add(std::move(m));
    }
    void reset() override {}

   private:
    int64_t total_ = 0;
  };
  auto w = AggregationWindows(tumbling(10, 2), [] { return std::make_unique<RunningTotal>(); },
                              100 * kSecond);
  w.add(at(101), 101 * kSecond);
  w.add(at(102), 102 * kSecond);
  w.add(at(110.5), 111 * kSecond);  // the next window's metric, during the first one's delay
  Collect out;
  w.push_due(112 * kSecond, out);
  w.add(at(115), 115 * kSecond);
  w.push_due(122 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=2", "m/a@110=4"});
  CHECK(w.series() == 1);
}

TEST_CASE("tumbling windows are aligned to multiples of the period, whenever the agent starts") {
  // Started at 1003.7 s with 30 s windows: the open window is [990 s, 1020 s), not one
  // starting at the clock.
  auto w = windows(tumbling(30), static_cast<int64_t>(1003.7 * kSecond));
  CHECK(w.add(at(1004), 1004 * kSecond));
  CHECK(w.add(at(1019.9), 1019 * kSecond));
  CHECK(w.add(at(1020), 1020 * kSecond));  // the next window
  CHECK(w.next_due() == 1020 * kSecond);
  Collect out;
  w.push_due(1020 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@990=2"});
  w.push_due(1050 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@990=2", "m/a@1020=1"});
}

TEST_CASE("delay: a window is pushed exactly at end + delay, not a nanosecond before") {
  WindowSettings s = tumbling(10);
  s.delay = 250'000'000;
  auto w = windows(s, 100 * kSecond);
  w.add(at(105), 105 * kSecond);
  Collect out;
  w.push_due(110 * kSecond + 250'000'000 - 1, out);
  CHECK(out.metrics.empty());
  w.push_due(110 * kSecond + 250'000'000, out);
  CHECK(out.summary() == Summary{"m/a@100=1"});
}

TEST_CASE(
    "out-of-order arrival: a metric for the previous window counts there until it is pushed") {
  auto w = windows(tumbling(10, 2), 100 * kSecond);
  CHECK(w.add(at(108), 108 * kSecond));
  CHECK(w.add(at(103), 109 * kSecond));    // earlier, arriving later: same window
  CHECK(w.add(at(111), 111 * kSecond));    // the next window opens
  CHECK(w.add(at(109.5), 111 * kSecond));  // during the delay: still the first window
  CHECK(w.add(at(101, "b"), 111.9 * kSecond));
  Collect out;
  w.push_due(112 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=3", "m/b@100=1"});
  CHECK_FALSE(w.add(at(109.9), 112 * kSecond));  // pushed: too late, counted
  CHECK(w.counters().too_late == 1);
  w.push_due(122 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@100=3", "m/b@100=1", "m/a@110=1"});
}

TEST_CASE("grace: metrics from start - grace on join the open window, older ones are counted") {
  WindowSettings s = tumbling(10);
  s.grace = 2 * kSecond;
  auto w = windows(s, 110 * kSecond);  // the open window is [110 s, 120 s)
  CHECK(w.add(at(111), 111 * kSecond));
  CHECK(w.add(at(108), 111 * kSecond));  // exactly start - grace
  CHECK(w.add(at(109.5), 111 * kSecond));
  Metric just_older = at(108);
  just_older.set_time(108 * kSecond - 1);
  CHECK_FALSE(w.add(just_older, 111 * kSecond));  // a nanosecond older than start - grace
  CHECK(w.counters().too_late == 1);
  CHECK(w.counters().accepted == 3);
  Collect out;
  w.push_due(120 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@110=3"});
  // Once the window is pushed, a late metric within grace rolls into the next window, as in
  // Telegraf; an older one is counted.
  CHECK(w.add(at(119), 121 * kSecond));
  CHECK_FALSE(w.add(at(117.5), 121 * kSecond));
  CHECK(w.counters().too_late == 2);
  w.push_due(130 * kSecond, out);
  CHECK(out.summary() == Summary{"m/a@110=3", "m/a@120=1"});
}

TEST_CASE("shutdown: push_all pushes every open window, pushed or not, and forgets them") {
  WindowSettings s;
  s.size = 10 * kSecond;
  s.every = 5 * kSecond;
  s.delay = 0;
  auto w = windows(s, 100 * kSecond);
  w.add(at(101), 101 * kSecond);
  w.add(at(107), 107 * kSecond);
  Collect out;
  w.push_due(105 * kSecond, out);  // [95 s, 105 s) is due
  CHECK(out.summary() == Summary{"m/a@95=1"});
  w.push_all(out);  // [100 s, 110 s) and [105 s, 115 s) are still open
  CHECK(out.summary() == Summary{"m/a@95=1", "m/a@100=2", "m/a@105=1"});
  CHECK(w.series() == 0);
  CHECK(w.next_due() == INT64_MAX);
}
