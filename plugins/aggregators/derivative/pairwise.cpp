// derivative, mode: pairs. Each two consecutive metrics of a series (by timestamp) give one
// derivative, emitted at the later metric's time. The window's last metric rolls over, so the
// pair that spans two windows is emitted too, by the window of its later metric.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aggregators/derivative/derivative.hpp"
#include "aggregators/derivative/event.hpp"
#include "aggregators/series_index.hpp"

namespace sluice::aggregators::derivative {
namespace {

struct SeriesState {
  std::vector<Event> points;  // this window's, merged per timestamp, in arrival order
  Event carried;              // the last metric of an earlier window
  bool has_carried = false;
  int64_t roll_overs = 0;
};

class PairwiseDerivative final : public Aggregator {
 public:
  PairwiseDerivative(const Settings& settings, Logger& log) : settings_(settings), log_(log) {}

  void add(const Metric& metric) override {
    const size_t s = series_.find_or_add(metric);
    if (s == state_.size()) state_.emplace_back();
    SeriesState& series = state_[s];
    series.roll_overs = 0;
    const int64_t t = metric.time();
    // The same instant as the carried metric: it completes that one, whose pairs are done.
    if (series.has_carried && t == series.carried.time) {
      series.carried.upsert(metric);
      return;
    }
    // Metrics mostly come in order: the point at the same time, if any, is usually the last.
    for (auto it = series.points.rbegin(); it != series.points.rend(); ++it) {
      if (it->time == t) {
        it->upsert(metric);
        return;
      }
    }
    series.points.emplace_back().assign(metric);
  }

  void push(Accumulator& acc) override {
    std::vector<const Event*> ordered;
    for (size_t s = 0; s < series_.size(); ++s) {
      SeriesState& series = state_[s];
      ordered.clear();
      for (const Event& e : series.points) ordered.push_back(&e);
      if (series.has_carried) ordered.push_back(&series.carried);
      std::stable_sort(ordered.begin(), ordered.end(),
                       [](const Event* a, const Event* b) { return a->time < b->time; });
      for (size_t i = 1; i < ordered.size(); ++i) {
        // A pair ending at the carried metric belonged to the window that pushed it.
        if (ordered[i] == &series.carried) continue;
        emit_pair(s, *ordered[i - 1], *ordered[i], acc);
      }
    }
  }

  void reset() override {
    // The newest metric becomes the next window's starting point, up to max_roll_over windows
    // without a new metric; after that the series is forgotten.
    for (SeriesState& series : state_) {
      if (series.roll_overs >= settings_.max_roll_over) {
        series.roll_overs = -1;  // marks it for removal
        continue;
      }
      auto newest =
          std::max_element(series.points.begin(), series.points.end(),
                           [](const Event& a, const Event& b) { return a.time < b.time; });
      if (newest != series.points.end() &&
          (!series.has_carried || newest->time > series.carried.time)) {
        series.carried = std::move(*newest);
        series.has_carried = true;
      }
      series.points.clear();
      ++series.roll_overs;
    }
    series_.retain(state_, [&](size_t s) { return state_[s].roll_overs >= 0; });
  }

 private:
  void emit_pair(size_t s, const Event& from, const Event& to, Accumulator& acc) const {
    double denominator = static_cast<double>(to.time - from.time) / 1e9;
    if (!settings_.variable.empty()) {
      const double* first = from.find(settings_.variable);
      const double* last = to.find(settings_.variable);
      if (first == nullptr || last == nullptr) {
        if (log_.enabled(LogLevel::kDebug))
          log_.debug("\"" + settings_.variable + "\" missing in a metric of \"" +
                     std::string(series_.name(s)) + "\", skipping a pair");
        return;
      }
      denominator = *last - *first;
    }
    if (denominator == 0) return;  // the variable did not move: no finite derivative
    Metric m = series_.make_metric(s, ValueType::kGauge);
    append_derivatives(from, to, denominator, settings_.variable, settings_.suffix, m);
    if (m.fields().empty()) return;
    m.set_time(to.time);
    acc.add(std::move(m));
  }

  Settings settings_;
  Logger& log_;
  SeriesIndex series_;
  std::vector<SeriesState> state_;  // by series index
};

}  // namespace

std::unique_ptr<Aggregator> make_pairwise(const Settings& settings, Logger& log) {
  return std::make_unique<PairwiseDerivative>(settings, log);
}

}  // namespace sluice::aggregators::derivative
