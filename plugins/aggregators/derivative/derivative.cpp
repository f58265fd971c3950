// derivative: (last - first) / (time difference in seconds) of every numeric field between the
// first and the last metric of a series in the window, or per unit of another field
// (`variable`). The last metric of a window can roll over as the first of the next one.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// The numeric fields of one metric (or of several with the same timestamp).
struct Event {
  int64_t time = 0;
  std::vector<std::pair<std::string, double>> fields;

  void upsert(const Metric& m) {
    for (const Field& f : m.fields()) {
      double x;
      if (!numeric_value(f.value, x)) continue;
      auto it = std::find_if(fields.begin(), fields.end(),
                             [&](const auto& p) { return p.first == f.key; });
      if (it != fields.end()) {
        it->second = x;
      } else {
        fields.emplace_back(f.key, x);
      }
    }
  }
  const double* find(std::string_view key) const {
    for (const auto& [k, v] : fields) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  // Becomes the metric's event, reusing this one's storage: a new last metric arrives with
  // nearly every add, and its field names are usually the same as before.
  void assign(const Metric& m) {
    time = m.time();
    size_t n = 0;
    for (const Field& f : m.fields()) {
      double x;
      if (!numeric_value(f.value, x)) continue;
      if (n < fields.size()) {
        fields[n].first.assign(f.key);
        fields[n].second = x;
      } else {
        fields.emplace_back(f.key, x);
      }
      ++n;
    }
    fields.resize(n);
  }
};

struct SeriesState {
  Event first, last;
  bool single = true;  // first and last are one and the same metric
  int64_t roll_overs = 0;
};

class Derivative final : public Aggregator {
 public:
  explicit Derivative(const Options& o, Logger& log)
      : variable_(trim(o.get_string("variable"))),
        suffix_(trim(o.get_string("suffix"))),
        max_roll_over_(o.get_int("max_roll_over")),
        log_(log) {
    if (max_roll_over_ < 0) throw OptionError("max_roll_over", "must not be negative");
  }

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
          log_.debug("same first and last metric for \"" + series_[s].name + "\", skipping");
        continue;
      }
      double denominator = static_cast<double>(series.last.time - series.first.time) / 1e9;
      if (!variable_.empty()) {
        const double* first = series.first.find(variable_);
        const double* last = series.last.find(variable_);
        if (first == nullptr || last == nullptr) {
          if (log_.enabled(LogLevel::kDebug))
            log_.debug("\"" + variable_ + "\" missing in the first or last metric of \"" +
                       series_[s].name + "\"");
          continue;
        }
        denominator = *last - *first;
      }
      if (denominator == 0) continue;
      Metric m = series_.make_metric(s, ValueType::kGauge);
      for (const auto& [key, start] : series.first.fields) {
        if (key == variable_) continue;
        if (const double* end = series.last.find(key)) {
          m.append_field(key + suffix_, (*end - start) / denominator);
        }
      }
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
  info.description = "Derivative of each numeric field between the first and last metric";
  info.options = kOptions;
  info.create_aggregator = [](const PluginContext& ctx) {
    return std::make_unique<Derivative>(ctx.options, ctx.log);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::derivative
