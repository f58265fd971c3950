// rate: the per-second rate of increase of counters, per series and window, from the increase
// between consecutive values (a counter that goes down was reset) over the time from the first
// to the last value.
#include <memory>
#include <string>
#include <vector>

#include "aggregators/series_index.hpp"
#include "plugin/registry.hpp"

namespace sluice::aggregators::rate {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"suffix", OptionType::kString, "_rate", "Appended to each field name for its rate"},
    {"unit", OptionType::kDuration, "1s", "The rate is per this much time"},
    {"max_roll_over", OptionType::kInt, "10",
     "How many windows in a row a field's last value may serve as the next window's first"},
};

struct Sample {
  int64_t time = 0;
  double value = 0;
};

// A counter's increase, one value at a time. Values in time order extend the span at either
// end; a value between the first and the last (a late arrival) cannot be placed without
// keeping every value, and is left out.
struct CounterIncrease {
  Sample first, last;
  double increase = 0;

  // What the counter gained from `from` to `to`: the difference, or, when it went down (a
  // restart from zero), the whole later value, as Prometheus' rate() counts it.
  static double gained(double from, double to) { return to >= from ? to - from : to; }

  void add(Sample s) {
    if (s.time > last.time) {
      increase += gained(last.value, s.value);
      last = s;
    } else if (s.time < first.time) {
      increase += gained(s.value, first.value);
      first = s;
    }
  }
};

struct SeriesState {
  FieldSlots<CounterIncrease> fields;
  int64_t roll_overs = 0;
};

class Rate final : public Aggregator {
 public:
  explicit Rate(const Options& o)
      : suffix_(o.get_string("suffix")),
        unit_(o.get_duration("unit").count()),
        max_roll_over_(o.get_int("max_roll_over")) {
    if (unit_ <= 0) throw OptionError("unit", "must be longer than 0s");
    if (max_roll_over_ < 0) throw OptionError("max_roll_over", "must not be negative");
  }

  void add(const Metric& metric) override {
    const size_t s = series_.find_or_add(metric);
    if (s == state_.size()) state_.emplace_back();
    SeriesState& series = state_[s];
    series.roll_overs = 0;
    const Sample base{metric.time(), 0};
    const Metric::FieldList fields = metric.fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      Sample sample = base;
      if (!numeric_value(fields[i].value, sample.value)) continue;
      if (auto* slot = series.fields.find(fields[i].key, i)) {
        slot->state.add(sample);
      } else {
        series.fields.add(fields[i].key, CounterIncrease{sample, sample, 0});
      }
    }
  }

  void push(Accumulator& acc) override {
    const double unit = static_cast<double>(unit_);
    for (size_t s = 0; s < series_.size(); ++s) {
      Metric m = series_.make_metric(s, ValueType::kGauge);
      for (const auto& slot : state_[s].fields) {
        const CounterIncrease& c = slot.state;
        if (c.last.time <= c.first.time) continue;  // one value: no span to divide by
        const double span = static_cast<double>(c.last.time - c.first.time) / unit;
        m.append_field(slot.key + suffix_, c.increase / span);
      }
      if (!m.fields().empty()) acc.add(std::move(m));
    }
  }

  void reset() override {
    // Each field's last value starts the next window, so no increase falls between windows;
    // a series without new values for more than max_roll_over windows is forgotten.
    for (SeriesState& series : state_) {
      if (series.roll_overs >= max_roll_over_) {
        series.roll_overs = -1;  // marks it for removal
        continue;
      }
      ++series.roll_overs;
      for (auto& slot : series.fields)
        slot.state = CounterIncrease{slot.state.last, slot.state.last, 0};
    }
    series_.retain(state_, [&](size_t s) { return state_[s].roll_overs >= 0; });
  }

 private:
  std::string suffix_;
  int64_t unit_;
  int64_t max_roll_over_;
  SeriesIndex series_;
  std::vector<SeriesState> state_;  // by series index
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kAggregator;
  info.name = "rate";
  info.description = "Per-second rate of increase of counters, with counter resets";
  info.options = kOptions;
  info.create_aggregator = [](const PluginContext& ctx) {
    return std::make_unique<Rate>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::rate
