#include "aggregates.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace sluice::inputs::statsd {

void RunningStats::add(double value, int64_t weight, std::minstd_rand& random) {
  if (count_ == 0) {
    lower_ = upper_ = value;
  } else {
    lower_ = std::min(lower_, value);
    upper_ = std::max(upper_, value);
  }
  // Welford's update with a weight: stable for long runs of close values.
  const double w = static_cast<double>(weight);
  count_ += weight;
  const double delta = value - mean_;
  mean_ += delta * w / static_cast<double>(count_);
  m2_ += delta * (value - mean_) * w;
  sum_ += value * w;
  for (int64_t i = 0; i < weight && i < static_cast<int64_t>(limit_); ++i) {
    if (sample_.size() < limit_) {
      sample_.push_back(value);
    } else {
      sample_[std::uniform_int_distribution<size_t>(0, sample_.size() - 1)(random)] = value;
    }
  }
  sorted_ = false;
}

double RunningStats::stddev() const {
  if (count_ == 0) return 0;
  return std::sqrt(std::max(0.0, m2_ / static_cast<double>(count_)));
}

void RunningStats::sort() {
  if (!sorted_) std::sort(sample_.begin(), sample_.end());
  sorted_ = true;
}

double RunningStats::percentile(double p) {
  if (sample_.empty()) return 0;
  sort();
  p = std::clamp(p, 0.0, 100.0);
  auto i = static_cast<size_t>(static_cast<double>(sample_.size()) * p / 100.0);
  return sample_[std::min(i, sample_.size() - 1)];
}

double RunningStats::median() {
  if (sample_.empty()) return 0;
  sort();
  size_t n = sample_.size();
  return n % 2 == 1 ? sample_[n / 2] : (sample_[n / 2 - 1] + sample_[n / 2]) / 2;
}

template <typename V>
Aggregates::Series<V>& Aggregates::series(std::map<std::string, Series<V>>& map, Sample& sample,
                                          std::chrono::steady_clock::time_point now) {
  auto [it, fresh] = map.try_emplace(series_key(sample));
  if (fresh) {
    it->second.measurement = std::move(sample.measurement);
    it->second.tags = std::move(sample.tags);
  }
  it->second.touched = now;
  return it->second;
}

void Aggregates::add(Sample&& s, std::chrono::steady_clock::time_point now) {
  switch (s.kind) {
    case Kind::kCounter: {
      CounterValue& v = series(counters_, s, now).field(s.field, {});
      if (__builtin_add_overflow(v.count, s.count, &v.count)) {
        v.count = s.count > 0 ? INT64_MAX : INT64_MIN;  // saturates rather than wraps
      }
      v.value += s.value;
      break;
    }
    case Kind::kGauge: {
      double& v = series(gauges_, s, now).field(s.field, 0.0);
      v = s.additive ? v + s.value : s.value;
      break;
    }
    case Kind::kSet:
      series(sets_, s, now).field(s.field, {}).insert(std::move(s.member));
      break;
    case Kind::kTiming:
    case Kind::kHistogram: {
      // As Telegraf, a value sampled at @r counts int(1/r) times; at most a million times, so
      // a tiny rate cannot overflow the count.
      auto weight = static_cast<int64_t>(std::min(1.0 / s.rate, 1e6));
      RunningStats& stats =
          series(timings_, s, now).field(s.field, RunningStats(options_.percentile_limit));
      stats.add(s.value, std::max<int64_t>(1, weight), random_);
      break;
    }
    case Kind::kDistribution:
      if (options_.distributions) distributions_.push_back(std::move(s));
      break;
  }
}

namespace {

Metric start_metric(const std::string& name, const std::vector<Tag>& tags, ValueType type) {
  Metric m(name, 0, type);
  size_t chars = 0;
  for (const Tag& t : tags) chars += t.key.size() + t.value.size();
  m.reserve(tags.size(), 8, chars + 64);  // room for a timing's usual statistics
  for (const Tag& t : tags) m.append_sorted_tag(t.key, t.value);
  return m;
}

// Fields of a series' default field are bare ("mean"); others are prefixed ("load_mean").
std::string prefixed(const std::string& field, const char* stat) {
  return field == "value" ? std::string(stat) : field + "_" + stat;
}

template <typename Map>
void expire(Map& map, bool delete_all, std::chrono::nanoseconds ttl,
            std::chrono::steady_clock::time_point now) {
  if (delete_all) {
    map.clear();
  } else if (ttl.count() > 0) {
    std::erase_if(map, [&](const auto& kv) { return now - kv.second.touched > ttl; });
  }
}

}  // namespace

void Aggregates::emit(Batch& out, std::chrono::steady_clock::time_point now) {
  for (Sample& d : distributions_) {
    Metric m = start_metric(d.measurement, d.tags, ValueType::kUntyped);
    m.append_field(d.field, d.value);
    out.push_back(std::move(m));
  }
  distributions_.clear();

  for (auto& [key, s] : timings_) {
    Metric m = start_metric(s.measurement, s.tags, ValueType::kUntyped);
    for (auto& [field, stats] : s.fields) {
      m.set_field(prefixed(field, "mean"), stats.mean());
      m.set_field(prefixed(field, "median"), stats.median());
      m.set_field(prefixed(field, "stddev"), stats.stddev());
      m.set_field(prefixed(field, "sum"), stats.sum());
      m.set_field(prefixed(field, "upper"), stats.upper());
      m.set_field(prefixed(field, "lower"), stats.lower());
      m.set_field(prefixed(field, "count"), stats.count());
      for (const auto& [p, name] : options_.percentiles) {
        m.set_field(prefixed(field, name.c_str()), stats.percentile(p));
      }
    }
    out.push_back(std::move(m));
  }
  expire(timings_, options_.delete_timings, options_.max_ttl, now);

  for (auto& [key, s] : gauges_) {
    Metric m = start_metric(s.measurement, s.tags, ValueType::kGauge);
    for (auto& [field, v] : s.fields) m.set_field(field, v);
    out.push_back(std::move(m));
  }
  expire(gauges_, options_.delete_gauges, options_.max_ttl, now);

  for (auto& [key, s] : counters_) {
    Metric m = start_metric(s.measurement, s.tags, ValueType::kCounter);
    for (auto& [field, v] : s.fields) {
      if (options_.float_counters) {
        m.set_field(field, v.value);
      } else {
        m.set_field(field, v.count);
      }
    }
    out.push_back(std::move(m));
  }
  expire(counters_, options_.delete_counters, options_.max_ttl, now);

  for (auto& [key, s] : sets_) {
    Metric m = start_metric(s.measurement, s.tags, ValueType::kUntyped);
    for (auto& [field, members] : s.fields) {
      m.set_field(field, static_cast<int64_t>(members.size()));
    }
    out.push_back(std::move(m));
  }
  expire(sets_, options_.delete_sets, options_.max_ttl, now);
}

}  // namespace sluice::inputs::statsd
