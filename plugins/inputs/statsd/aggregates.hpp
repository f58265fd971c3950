// What statsd keeps between gathers: counters, gauges, sets, timing statistics and DataDog
// distributions per series, emitted and (as configured) forgotten at each gather.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "line_parser.hpp"
#include "sluice/plugin.hpp"

namespace sluice::inputs::statsd {

// Count, mean, variance (population, as Telegraf), sum, bounds, and a bounded sample of the
// values for the median and percentiles (reservoir sampling once the limit is reached).
class RunningStats {
 public:
  explicit RunningStats(size_t limit) : limit_(limit == 0 ? 1 : limit) {}
  // Adds `value` `weight` times (a timing sampled at @0.1 counts ten times).
  void add(double value, int64_t weight, std::minstd_rand& random);
  int64_t count() const { return count_; }
  double mean() const { return mean_; }
  double stddev() const;
  double sum() const { return sum_; }
  double lower() const { return lower_; }
  double upper() const { return upper_; }
  // The value at rank floor(n * p / 100) of the sorted sample (Telegraf's definition).
  double percentile(double p);
  double median();

 private:
  void sort();
  size_t limit_;
  int64_t count_ = 0;
  double mean_ = 0, m2_ = 0, sum_ = 0, lower_ = 0, upper_ = 0;
  std::vector<double> sample_;
  bool sorted_ = true;
};

struct EmitOptions {
  std::vector<std::pair<double, std::string>> percentiles;  // value and field name
  bool delete_counters = true, delete_gauges = true, delete_sets = true, delete_timings = true;
  bool float_counters = false;
  bool distributions = false;  // keep DataDog distributions (datadog_distributions)
  size_t percentile_limit = 1000;
  std::chrono::nanoseconds max_ttl{0};  // 0: kept until deleted
};

class Aggregates {
 public:
  explicit Aggregates(EmitOptions options) : options_(std::move(options)) {}
  void add(Sample&& sample, std::chrono::steady_clock::time_point now);
  // Emits every series with time 0 (the gather's time), then forgets what is to be deleted and
  // what has not been updated for max_ttl.
  void emit(Batch& out, std::chrono::steady_clock::time_point now);

 private:
  template <typename V>
  struct Series {
    std::string measurement;
    std::vector<Tag> tags;
    std::vector<std::pair<std::string, V>> fields;
    std::chrono::steady_clock::time_point touched;
    V& field(const std::string& name, const V& initial) {
      for (auto& [k, v] : fields) {
        if (k == name) return v;
      }
      fields.emplace_back(name, initial);
      return fields.back().second;
    }
  };
  struct CounterValue {
    int64_t count = 0;
    double value = 0;
  };
  template <typename V>
  Series<V>& series(std::map<std::string, Series<V>>& map, Sample& sample,
                    std::chrono::steady_clock::time_point now);

  EmitOptions options_;
  std::minstd_rand random_{20240601};
  std::map<std::string, Series<CounterValue>> counters_;
  std::map<std::string, Series<double>> gauges_;
  std::map<std::string, Series<std::unordered_set<std::string>>> sets_;
  std::map<std::string, Series<RunningStats>> timings_;
  std::vector<Sample> distributions_;
};

}  // namespace sluice::inputs::statsd
