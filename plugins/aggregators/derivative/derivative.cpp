// derivative, mode: window (the default, as Telegraf): (last - first) / (time difference in
// seconds) of every numeric field between the first and the last metric of a series in the
// window, or per unit of another field (`variable`). The last metric of a window can roll over
// as the first of the next one. mode: pairs is in pairwise.cpp.
#include "aggregators/derivative/derivative.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aggregators/derivative/event.hpp"
#include "aggregators/series_index.hpp"
#include "plugin/registry.hpp"

namespace sluice::aggregators::derivative {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"variable", OptionType::kString, "",
     "A field to divide by instead of the time in seconds (its last minus its first value)"},
    {"suffix", OptionType::kString, "_rate", "Appended to each field name for its derivative"},
    {"max_roll_over", OptionType::kInt, "10",
     "How many windows in a row the last metric may serve as the next window's first"},
    {"mode", OptionType::kString, "window",
     "window: one derivative per series between the window's first and last metric; pairs: one "
     "per two consecutive metrics, at the later one's time"},
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

struct SeriesState {
  Event first, last;
  bool single = true;  // first and last are one and the same metric
  int64_t roll_overs = 0;
};

Settings read_settings(const Options& o) {
  Settings s{trim(o.get_string("variable")), trim(o.get_string("suffix")),
             o.get_int("max_roll_over")};
  if (s.max_roll_over < 0) throw OptionError("max_roll_over", "must not be negative");
  return s;
}

class Derivative final : public Aggregator {
 public:
  Derivative(const Settings& s, Logger& log)
      : variable_(s.variable), suffix_(s.suffix), max_roll_over_(s.max_roll_over), log_(log) {}

  void add(const Metric& metric) override {
    const size_t s = series_.find_or_add(metric);
    const int64_t t = metric.time();
    if (s == state_.size()) {
      state_.emplace_back();
      state_[s].first.assign(metric);
      state_[s].last = state_[s].first;
      return;
    }
    SeriesState& series = state_[s];
    // An earlier metric becomes the first, a later one the last; one at the same time as
    // either adds its fields to it.
    if (t < series.first.time) {
      series.first.assign(metric);
      series.single = false;
      series.roll_overs = 0;
    } else if (t == series.first.time) {
      series.first.upsert(metric);
      series.roll_overs = 0;
    }
    if (t > series.last.time) {
      series.last.assign(metric);
      series.single = false;
      series.roll_overs = 0;
    } else if (t == series.last.time) {
      series.last.upsert(metric);
      series.roll_overs = 0;
    }
  }

  void push(Accumulator& acc) override {
    for (size_t s = 0; s < series_.size(); ++s) {
      const SeriesState& series = state_[s];
      if (series.single) {
        if (log_.enabled(LogLevel::kDebug))
          log_.debug("same first and last metric for \"" + std::string(series_.name(s)) +
                     "\", skipping");
        continue;
      }
      double denominator = static_cast<double>(series.last.time - series.first.time) / 1e9;
      if (!variable_.empty()) {
        const double* first = series.first.find(variable_);
        const double* last = series.last.find(variable_);
        if (first == nullptr || last == nullptr) {
          if (log_.enabled(LogLevel::kDebug))
            log_.debug("\"" + variable_ + "\" missing in the first or last metric of \"" +
                       std::string(series_.name(s)) + "\"");
          continue;
        }
        denominator = *last - *first;
      }
      if (denominator == 0) continue;
      Metric m = series_.make_metric(s, ValueType::kGauge);
      append_derivatives(series.first, series.last, denominator, variable_, suffix_, m);
      if (!m.fields().empty()) acc.add(std::move(m));
    }
  }

  void reset() override {
    // The last metric becomes the next window's first, up to max_roll_over windows without a
    // new metric; after that the series is forgotten.
    for (SeriesState& series : state_) {
      if (series.roll_overs < max_roll_over_) {
        series.first = series.last;
        series.single = true;
        ++series.roll_overs;
      } else {
        series.roll_overs = -1;  // marks it for removal
      }
    }
    series_.retain(state_, [&](size_t s) { return state_[s].roll_overs >= 0; });
  }

 private:
  std::string variable_;
  std::string suffix_;
  int64_t max_roll_over_;
  Logger& log_;
  SeriesIndex series_;
  std::vector<SeriesState> state_;  // by series index
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kAggregator;
  info.name = "derivative";
  info.description =
      "Derivative of each numeric field between the window's first and last metric, or per pair";
  info.options = kOptions;
  info.create_aggregator = [](const PluginContext& ctx) -> std::unique_ptr<Aggregator> {
    Settings settings = read_settings(ctx.options);
    const std::string& mode = ctx.options.get_string("mode");
    if (mode == "window") return std::make_unique<Derivative>(settings, ctx.log);
    if (mode == "pairs") return make_pairwise(settings, ctx.log);
    throw OptionError("mode", "expected window or pairs, got \"" + mode + "\"");
  };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::derivative
