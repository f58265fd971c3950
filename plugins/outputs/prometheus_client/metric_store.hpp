// The latest value of every Prometheus series, built from metrics as Telegraf's
// prometheus_client (metric_version 2) maps them, and written in the text exposition format.
// Not thread-safe: the output guards it with a mutex.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "sluice/metric.hpp"

namespace sluice::outputs::prometheus_client {

struct StoreOptions {
  // String fields become labels (otherwise they are left out).
  bool string_as_label = true;
  // Each sample line carries the metric's time in milliseconds.
  bool export_timestamp = false;
  // A series not updated for longer than this is forgotten; 0 keeps series forever.
  int64_t expiration_ns = 60'000'000'000;
};

class MetricStore {
 public:
  explicit MetricStore(StoreOptions options) : options_(options) {}

  // Takes in a batch received at `now_ns` (what expiration counts from).
  void add(std::span<const Metric> batch, int64_t now_ns);
  // Forgets the series last updated before now_ns - expiration.
  void expire(int64_t now_ns);
  // The text exposition format (0.0.4): families sorted by name, series by labels.
  std::string render() const;

  size_t family_count() const { return families_.size(); }
  size_t series_count() const;

 private:
  struct Series {
    double value = 0;                    // counter, gauge, untyped
    std::map<double, uint64_t> buckets;  // histogram: upper bound -> cumulative count
    std::map<double, double> quantiles;  // summary: quantile -> value
    uint64_t count = 0;
    double sum = 0;
    int64_t time_ns = 0;   // the metric's time
    int64_t added_ns = 0;  // when it was last updated
  };
  struct Family {
    ValueType type = ValueType::kUntyped;
    std::map<std::string, Series> series;  // by rendered labels: a="x",b="y"
  };

  // The series of `name` with these labels, or nullptr when the metric is older than the
  // sample held (a batch may carry several values of one series; the newest wins).
  Series* series_for(const std::string& name, ValueType type, const std::string& labels,
                     int64_t time_ns, int64_t now_ns);
  void add_scalar(const Metric& metric, const std::string& labels, int64_t now_ns);
  void add_histogram(const Metric& metric, const std::string& labels, int64_t now_ns);
  void add_summary(const Metric& metric, const std::string& labels, int64_t now_ns);
  std::string labels_of(const Metric& metric) const;
  void append_sample(std::string& out, const std::string& name, const std::string& labels,
                     std::string_view extra_label, const std::string& value, int64_t time_ns) const;

  StoreOptions options_;
  std::map<std::string, Family> families_;
};

}  // namespace sluice::outputs::prometheus_client
