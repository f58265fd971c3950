// basicstats: count, min, max, mean, sum, variance, standard deviation, first-to-last
// difference and rate, interval and last value of every numeric field, per series and window.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "aggregators/series_index.hpp"
#include "plugin/registry.hpp"

namespace sluice::aggregators::basicstats {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"stats", OptionType::kStringList, "[count, min, max, mean, stdev, s2]",
     "Statistics to emit, in this order: count, min, max, mean, sum, s2, stdev, diff, "
     "non_negative_diff, rate, non_negative_rate, percent_change, interval, last"},
};

enum class Stat : uint8_t {
  kCount,
  kMin,
  kMax,
  kMean,
  kSum,
  kVariance,
  kStdev,
  kDiff,
  kNonNegativeDiff,
  kRate,
  kNonNegativeRate,
  kPercentChange,
  kInterval,
  kLast,
};

struct StatName {
  std::string_view name;
  Stat stat;
};

constexpr StatName kStatNames[] = {
    {"count", Stat::kCount},
    {"min", Stat::kMin},
    {"max", Stat::kMax},
    {"mean", Stat::kMean},
    {"sum", Stat::kSum},
    {"s2", Stat::kVariance},
    {"stdev", Stat::kStdev},
    {"diff", Stat::kDiff},
    {"non_negative_diff", Stat::kNonNegativeDiff},
    {"rate", Stat::kRate},
    {"non_negative_rate", Stat::kNonNegativeRate},
    {"percent_change", Stat::kPercentChange},
    {"interval", Stat::kInterval},
    {"last", Stat::kLast},
};

constexpr size_t kStatCount = std::size(kStatNames);

// The chosen statistics, in the order given; kept inline, as every series' instance has one.
struct StatList {
  std::array<Stat, kStatCount> stats;
  uint8_t size = 0;

  const Stat* begin() const { return stats.data(); }
  const Stat* end() const { return stats.data() + size; }
};

std::string_view stat_name(Stat stat) {
  for (const StatName& s : kStatNames) {
    if (s.stat == stat) return s.name;
  }
  return "";
}

StatList parse_stats(const std::vector<std::string>& names) {
  StatList list;
  for (const std::string& name : names) {
    const StatName* found = nullptr;
    for (const StatName& s : kStatNames) {
      if (s.name == name) found = &s;
    }
    if (found == nullptr) {
      throw OptionError("stats", "unknown statistic \"" + name +
                                     "\"; expected count, min, max, mean, sum, s2, stdev, diff, "
                                     "non_negative_diff, rate, non_negative_rate, "
                                     "percent_change, interval or last");
    }
    if (std::find(list.begin(), list.end(), found->stat) == list.end()) {
      list.stats[list.size++] = found->stat;
    }
  }
  return list;
}

// Running statistics of one field. Mean and variance use Welford's update, which stays exact
// where summing squares would cancel. "First" and "last" are by timestamp, so metrics that
// arrive out of order still give the difference over the window's time span.
struct FieldStats {
  uint64_t count = 0;
  double min = 0, max = 0, sum = 0, mean = 0, m2 = 0;
  double first = 0, last = 0;
  int64_t first_time = 0, last_time = 0;

  void start(double x, int64_t t) {
    count = 1;
    min = max = sum = mean = first = last = x;
    m2 = 0;
    first_time = last_time = t;
  }
  void add(double x, int64_t t) {
    ++count;
    const double delta = x - mean;
    mean += delta / static_cast<double>(count);
    m2 += delta * (x - mean);
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
    if (t < first_time) {
      first = x;
      first_time = t;
    }
    if (t >= last_time) {
      last = x;
      last_time = t;
    }
  }
};

class BasicStats final : public Aggregator {
 public:
  explicit BasicStats(const Options& o) : stats_(parse_stats(o.get_strings("stats"))) {}

  void add(const Metric& metric) override {
    const size_t s = series_.find_or_add(metric);
    if (s == fields_.size()) fields_.emplace_back();
    FieldSlots<FieldStats>& slots = fields_[s];
    const int64_t t = metric.time();
    const Metric::FieldList fields = metric.fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      double x;
      if (!numeric_value(fields[i].value, x)) continue;
      if (auto* slot = slots.find(fields[i].key, i)) {
        slot->state.add(x, t);
      } else {
        slots.add(fields[i].key, FieldStats{}).state.start(x, t);
      }
    }
  }

  void push(Accumulator& acc) override {
    for (size_t s = 0; s < series_.size(); ++s) {
      Metric m = series_.make_metric(s, ValueType::kGauge);
      for (const auto& slot : fields_[s]) append_stats(m, slot.key, slot.state);
      if (!m.fields().empty()) acc.add(std::move(m));
    }
  }

  void reset() override {
    series_.clear();
    fields_.clear();
  }

 private:
  void append_stats(Metric& m, const std::string& key, const FieldStats& f) const {
    const bool several = f.count > 1;
    const double variance = several ? f.m2 / static_cast<double>(f.count - 1) : 0;
    const double diff = f.last - f.first;
    const int64_t interval = f.last_time - f.first_time;
    const double seconds = static_cast<double>(interval) / 1e9;
    for (Stat stat : stats_) {
      std::string name = key + "_" + std::string(stat_name(stat));
      switch (stat) {
        case Stat::kCount:
          // A float, as Telegraf writes it.
          m.append_field(std::move(name), static_cast<double>(f.count));
          break;
        case Stat::kMin:
          m.append_field(std::move(name), f.min);
          break;
        case Stat::kMax:
          m.append_field(std::move(name), f.max);
          break;
        case Stat::kMean:
          m.append_field(std::move(name), f.mean);
          break;
        case Stat::kSum:
          m.append_field(std::move(name), f.sum);
          break;
        case Stat::kLast:
          m.append_field(std::move(name), f.last);
          break;
        // The rest need two values at least.
        case Stat::kVariance:
          if (several) m.append_field(std::move(name), variance);
          break;
        case Stat::kStdev:
          if (several) m.append_field(std::move(name), std::sqrt(variance));
          break;
        case Stat::kDiff:
          if (several) m.append_field(std::move(name), diff);
          break;
        case Stat::kNonNegativeDiff:
          if (several && diff >= 0) m.append_field(std::move(name), diff);
          break;
        case Stat::kRate:
          if (several && interval > 0) m.append_field(std::move(name), diff / seconds);
          break;
        case Stat::kNonNegativeRate:
          if (several && interval > 0 && diff >= 0) {
            m.append_field(std::move(name), diff / seconds);
          }
          break;
        case Stat::kPercentChange:
          if (several && f.first != 0) m.append_field(std::move(name), diff / f.first * 100);
          break;
        case Stat::kInterval:
          if (several) m.append_field(std::move(name), interval);
          break;
      }
    }
  }

  StatList stats_;
  SeriesIndex series_;
  std::vector<FieldSlots<FieldStats>> fields_;  // by series index
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kAggregator;
  info.name = "basicstats";
  info.description = "Count, min, max, mean, variance and more of each numeric field per window";
  info.options = kOptions;
  info.create_aggregator = [](const PluginContext& ctx) {
    return std::make_unique<BasicStats>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::basicstats
