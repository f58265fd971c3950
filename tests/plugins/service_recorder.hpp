// An accumulator for service inputs under test: they add from their own threads, so everything
// is behind a mutex and read through copies.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "lineproto/serializer.hpp"
#include "plugin_test_support.hpp"

namespace sluice::testing {

class ServiceRecorder final : public Accumulator {
 public:
  void add(Metric metric) override {
    if (metric.time() == 0) metric.set_time(kGatherTime);
    std::lock_guard lock(mutex_);
    metrics_.push_back(std::move(metric));
  }
  void add_batch(Batch batch) override {
    std::lock_guard lock(mutex_);
    ++batches_;
    for (Metric& m : batch) {
      if (m.time() == 0) m.set_time(kGatherTime);
      metrics_.push_back(std::move(m));
    }
  }
  void add_error(std::string_view message) override {
    std::lock_guard lock(mutex_);
    errors_.emplace_back(message);
  }
  void add_rejected(std::string_view message) override {
    std::lock_guard lock(mutex_);
    rejected_.emplace_back(message);
  }
  int64_t time() const override { return kGatherTime; }

  std::vector<Metric> metrics() const {
    std::lock_guard lock(mutex_);
    return metrics_;
  }
  // Hands over the recorded metrics and forgets them, as an output that wrote them would.
  std::vector<Metric> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(metrics_, {});
  }
  size_t metric_count() const {
    std::lock_guard lock(mutex_);
    return metrics_.size();
  }
  size_t batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::vector<std::string> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  std::vector<std::string> rejected() const {
    std::lock_guard lock(mutex_);
    return rejected_;
  }
  bool rejected_contains(std::string_view needle) const {
    std::lock_guard lock(mutex_);
    return std::any_of(rejected_.begin(), rejected_.end(),
                       [&](const std::string& r) { return r.find(needle) != std::string::npos; });
  }
  // The recorded metrics as line protocol, one line each, in the order added.
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const Metric& m : metrics_) {
      std::string s;
      lineproto::serialize(m, s);
      while (!s.empty() && s.back() == '\n') s.pop_back();
      out.push_back(s);
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Metric> metrics_;
  std::vector<std::string> errors_;
  std::vector<std::string> rejected_;
  size_t batches_ = 0;
};

// Sorted lines of a gather, for comparing sets of metrics whose order does not matter.
inline std::vector<std::string> sorted_lines(const RecordingAccumulator& acc) {
  std::vector<std::string> out;
  for (const Metric& m : acc.metrics) {
    std::string s;
    lineproto::serialize(m, s);
    while (!s.empty() && s.back() == '\n') s.pop_back();
    out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sluice::testing
