// merge: metrics of the same series (name and tags) and timestamp become one metric with all
// their fields, which outputs store and send more cheaply.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "aggregators/series_index.hpp"
#include "plugin/registry.hpp"

namespace sluice::aggregators::merge {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"round_timestamp_to", OptionType::kDuration, "1ns",
     "Round timestamps to this precision before grouping (and in the result), so fields that "
     "arrive a little apart merge"},
};

// Rounds to the nearest multiple of `step`; halfway rounds up (toward the future), as Go's
// time.Round does.
int64_t round_to(int64_t t, int64_t step) {
  if (step <= 1) return t;
  int64_t r = t % step;
  if (r < 0) r += step;
  int64_t down = t - r;
  return r + r < step ? down : down + step;
}

class Merge final : public Aggregator {
 public:
  explicit Merge(const Options& o) : step_(o.get_duration("round_timestamp_to").count()) {
    if (step_ < 0) throw OptionError("round_timestamp_to", "must not be negative");
  }

  void add(const Metric& metric) override {
    const size_t s = series_.find_or_add(metric);
    if (s == groups_by_series_.size()) groups_by_series_.emplace_back();
    const int64_t t = round_to(metric.time(), step_);
    // A series rarely has more than a few timestamps in a window, and the newest is the likely
    // one: search from the back.
    std::vector<std::pair<int64_t, size_t>>& groups = groups_by_series_[s];
    for (auto it = groups.rbegin(); it != groups.rend(); ++it) {
      if (it->first != t) continue;
      Metric& merged = merged_[it->second];
      for (const FieldRef f : metric.fields()) merged.set_field(f.key, f.value);
      return;
    }
    groups.emplace_back(t, merged_.size());
    Metric& merged = merged_.emplace_back(metric);
    merged.set_time(t);
  }

  void push(Accumulator& acc) override {
    for (const Metric& m : merged_) acc.add(m);
  }

  void reset() override {
    series_.clear();
    groups_by_series_.clear();
    merged_.clear();
  }

 private:
  int64_t step_;
  SeriesIndex series_;
  // For each series, its timestamps and the index of their metric in merged_.
  std::vector<std::vector<std::pair<int64_t, size_t>>> groups_by_series_;
  std::vector<Metric> merged_;  // in order of first arrival
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kAggregator;
  info.name = "merge";
  info.description = "Merge metrics of the same series and timestamp into one metric";
  info.options = kOptions;
  info.create_aggregator = [](const PluginContext& ctx) {
    return std::make_unique<Merge>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::merge
