// final: the last value of each field of a series, emitted once the series has gone quiet for
// `series_timeout` (output_strategy: timeout) or at the end of every window (periodic).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "aggregators/series_index.hpp"
#include "plugin/registry.hpp"

namespace sluice::aggregators::final {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"series_timeout", OptionType::kDuration, "5m",
     "A series without new metrics for this long is final (output_strategy: timeout)"},
    {"output_strategy", OptionType::kString, "timeout",
     "timeout: emit a series once it has gone quiet; periodic: emit every series every window"},
    {"keep_original_field_names", OptionType::kBool, "false",
     "Keep field names as they are instead of appending _final"},
};

struct LastValue {
  FieldValue value;
  int64_t time = 0;
};

struct SeriesState {
  FieldSlots<LastValue> fields;
  int64_t newest = 0;  // the newest timestamp of the series
  ValueType type = ValueType::kUntyped;
};

class Final final : public Aggregator {
 public:
  explicit Final(const Options& o)
      : timeout_(o.get_duration("series_timeout").count()),
        keep_names_(o.get_bool("keep_original_field_names")) {
    const std::string& strategy = o.get_string("output_strategy");
    if (strategy == "periodic") {
      periodic_ = true;
    } else if (strategy != "timeout") {
      throw OptionError("output_strategy",
                        "expected timeout or periodic, got \"" + strategy + "\"");
    }
    if (timeout_ < 0) throw OptionError("series_timeout", "must not be negative");
  }

  void add(const Metric& metric) override {
    const size_t s = series_.find_or_add(metric);
    const int64_t t = metric.time();
    if (s == state_.size()) {
      state_.emplace_back();
      state_[s].newest = t;
      state_[s].type = metric.type();
    }
    SeriesState& series = state_[s];
    // "Last" is by timestamp: a metric arriving late does not overwrite newer values.
    const Metric::FieldList fields = metric.fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      if (auto* slot = series.fields.find(fields[i].key, i)) {
        if (t >= slot->state.time) slot->state = LastValue{fields[i].value, t};
      } else {
        series.fields.add(fields[i].key, LastValue{fields[i].value, t});
      }
    }
    if (t >= series.newest) {
      series.newest = t;
      series.type = metric.type();
    }
    newest_time_ = std::max(newest_time_, t);
  }

  void push(Accumulator& acc) override {
    // Now: the window's time, or the newest metric if the stream runs ahead of it.
    const int64_t now = std::max(acc.time(), newest_time_);
    for (size_t s = 0; s < series_.size(); ++s) {
      if (periodic_ || quiet(state_[s], now)) emit(s, acc);
    }
    if (!periodic_) series_.retain(state_, [&](size_t s) { return !quiet(state_[s], now); });
  }

  void reset() override {
    // A timed-out series is forgotten when emitted; the others carry on into the next window.
    if (!periodic_) return;
    series_.clear();
    state_.clear();
  }

 private:
  bool quiet(const SeriesState& series, int64_t now) const {
    return now - series.newest > timeout_;
  }

  void emit(size_t s, Accumulator& acc) const {
    const SeriesState& series = state_[s];
    Metric m = series_.make_metric(s, series.type);
    m.set_time(series.newest);  // the original time, not the window's
    m.reserve(0, series.fields.size(), series.fields.size() * 24);
    for (const auto& slot : series.fields) {
      m.append_field(keep_names_ ? slot.key : slot.key + "_final", slot.state.value);
    }
    acc.add(std::move(m));
  }

  int64_t timeout_;
  bool keep_names_;
  bool periodic_ = false;
  SeriesIndex series_;
  std::vector<SeriesState> state_;  // by series index
  int64_t newest_time_ = 0;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kAggregator;
  info.name = "final";
  info.description = "The last value of each field of a series when it goes quiet, or per window";
  info.options = kOptions;
  info.create_aggregator = [](const PluginContext& ctx) {
    return std::make_unique<Final>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::final
