// histogram: counts of field values per bucket, for the measurements and fields configured,
// emitted as one metric per bucket with its upper bound in the `le` tag, and, when cumulative,
// one more with each field's `_sum` and `_count`: Prometheus' histogram layout, which the
// prometheus_client output exposes as a histogram.
#include <algorithm>
#include <charconv>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "aggregators/histogram/histogram_config.hpp"
#include "aggregators/series_index.hpp"
#include "plugin/registry.hpp"

namespace sluice::aggregators::histogram {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"config", OptionType::kStringMapList, "",
     "Histograms: [{measurement_name: cpu, fields: \"usage_idle,usage_user\", buckets: "
     "\"0,10,50,100\"}]; no fields means every field"},
    {"reset", OptionType::kBool, "false",
     "Start the counts afresh every window instead of accumulating them"},
    {"cumulative", OptionType::kBool, "true",
     "Count each value in its bucket and every larger one; when false, buckets get a `gt` tag"},
    {"expiration_interval", OptionType::kDuration, "0s",
     "Forget a series' histogram after this long without a new value; 0s keeps it"},
    {"push_only_on_update", OptionType::kBool, "false",
     "Emit a series' histogram only when it got values since the last push"},
};

// Go's strconv.FormatFloat(x, 'f', -1, 64): the shortest text that reads back, never with an
// exponent ("0", "0.5", "100").
std::string bound_text(double x) {
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

struct FieldCounts {
  const std::vector<double>* buckets = nullptr;  // nullptr: the field has no histogram
  std::vector<int64_t> counts;                   // one per bucket, then +Inf
  double sum = 0;                                // of the values counted
};

struct SeriesState {
  FieldSlots<FieldCounts> fields;
  int64_t last_value_time = 0;  // the newest timestamp of a counted value
  bool updated = false;         // counted a value since the last push
};

class Histogram final : public Aggregator {
 public:
  explicit Histogram(const Options& o)
      : config_(parse_config(o.get_string_map_list("config"))),
        reset_(o.get_bool("reset")),
        cumulative_(o.get_bool("cumulative")),
        expiration_(o.get_duration("expiration_interval").count()),
        push_only_on_update_(o.get_bool("push_only_on_update")) {
    if (expiration_ < 0) throw OptionError("expiration_interval", "must not be negative");
  }

  void add(const Metric& metric) override {
    // Measurements without a histogram leave no state behind.
    if (!config_.has_measurement(metric.name())) return;
    const Metric::FieldList fields = metric.fields();
    const size_t s = series_.find_or_add(metric);
    if (s == state_.size()) state_.emplace_back();
    SeriesState& series = state_[s];
    bool counted = false;
    for (size_t i = 0; i < fields.size(); ++i) {
      double x;
      if (!numeric_value(fields[i].value, x)) continue;
      auto* slot = series.fields.find(fields[i].key, i);
      if (slot == nullptr) {
        FieldCounts fc;
        fc.buckets = config_.buckets_for(metric.name(), fields[i].key);
        if (fc.buckets != nullptr) fc.counts.assign(fc.buckets->size() + 1, 0);
        slot = &series.fields.add(fields[i].key, std::move(fc));
      }
      FieldCounts& fc = slot->state;
      if (fc.buckets == nullptr) continue;
      // A bound is inclusive: the value goes to the first bucket whose bound is >= it.
      size_t bucket = static_cast<size_t>(
          std::lower_bound(fc.buckets->begin(), fc.buckets->end(), x) - fc.buckets->begin());
      ++fc.counts[bucket];
      fc.sum += x;
      counted = true;
    }
    if (!counted) return;
    series.updated = true;
    series.last_value_time = std::max(series.last_value_time, metric.time());
    newest_time_ = std::max(newest_time_, metric.time());
  }

  void push(Accumulator& acc) override {
    // Now, for expiry: the window's time, or the newest value if the stream runs ahead of it.
    const int64_t now = std::max(acc.time(), newest_time_);
    for (size_t s = 0; s < series_.size(); ++s) {
      SeriesState& series = state_[s];
      if (expired(series, now)) continue;
      if (push_only_on_update_ && !series.updated) continue;
      series.updated = false;
      emit(s, acc);
    }
    if (expiration_ > 0) {
      series_.retain(state_, [&](size_t s) { return !expired(state_[s], now); });
    }
  }

  void reset() override {
    if (!reset_) return;  // counts accumulate across windows, as in Telegraf
    series_.clear();
    state_.clear();
  }

 private:
  bool expired(const SeriesState& series, int64_t now) const {
    return expiration_ > 0 && now - series.last_value_time > expiration_;
  }

  void emit(size_t s, Accumulator& acc) const {
    // One metric per distinct bucket (le, and gt when not cumulative), holding the count of
    // every field that has that bucket; in the order of the bounds.
    struct Bucket {
      double le, gt;
      Metric metric;
    };
    std::vector<Bucket> out;
    const ValueType type = cumulative_ ? ValueType::kHistogram : ValueType::kUntyped;
    constexpr double kInf = std::numeric_limits<double>::infinity();
    for (const auto& slot : state_[s].fields) {
      const FieldCounts& fc = slot.state;
      if (fc.buckets == nullptr) continue;
      const std::vector<double>& bounds = *fc.buckets;
      const std::string field = slot.key + "_bucket";
      int64_t running = 0;
      for (size_t i = 0; i < fc.counts.size(); ++i) {
        const double le = i < bounds.size() ? bounds[i] : kInf;
        const double gt = cumulative_ || i == 0 ? -kInf : bounds[i - 1];
        running = cumulative_ ? running + fc.counts[i] : fc.counts[i];
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const Bucket& b) { return b.le == le && b.gt == gt; });
        if (it == out.end()) {
          Metric m = series_.make_metric(s, type);
          m.set_tag("le", i < bounds.size() ? bound_text(le) : "+Inf");
          if (!cumulative_) m.set_tag("gt", i == 0 ? "-Inf" : bound_text(gt));
          out.push_back(Bucket{le, gt, std::move(m)});
          it = out.end() - 1;
        }
        it->metric.set_field(field, running);
      }
    }
    std::stable_sort(out.begin(), out.end(), [](const Bucket& a, const Bucket& b) {
      return a.le != b.le ? a.le < b.le : a.gt < b.gt;
    });
    for (Bucket& b : out) acc.add(std::move(b.metric));
    if (!cumulative_) return;
    // A Prometheus histogram also has the sum of the observations and their count (the +Inf
    // bucket's): without them its _sum and _count would read 0, and rate(_sum) / rate(_count),
    // the mean, could not be had.
    Metric totals = series_.make_metric(s, type);
    for (const auto& slot : state_[s].fields) {
      const FieldCounts& fc = slot.state;
      if (fc.buckets == nullptr) continue;
      int64_t count = 0;
      for (int64_t c : fc.counts) count += c;
      totals.set_field(slot.key + "_sum", fc.sum);
      totals.set_field(slot.key + "_count", count);
    }
    if (!totals.fields().empty()) acc.add(std::move(totals));
  }

  HistogramConfig config_;
  bool reset_;
  bool cumulative_;
  int64_t expiration_;
  bool push_only_on_update_;
  SeriesIndex series_;
  std::vector<SeriesState> state_;  // by series index
  int64_t newest_time_ = 0;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kAggregator;
  info.name = "histogram";
  info.description = "Bucket counts of field values, cumulative by default (Prometheus layout)";
  info.options = kOptions;
  info.create_aggregator = [](const PluginContext& ctx) {
    return std::make_unique<Histogram>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::histogram
