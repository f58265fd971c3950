// Helpers for tests of inputs that read bytes (file, exec, http, prometheus, execd): the input
// built from YAML as the config loader builds it (with data_format and the parsers' options),
// and an accumulator that may be added to from several threads.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "lineproto/serializer.hpp"
#include "pipeline/plugin_factory.hpp"
#include "sluice/plugin.hpp"

namespace sluice::testing {

// The input `name` with `options` (the body of a YAML flow map), e.g. "files: [a.txt]".
inline std::unique_ptr<Input> input_from_yaml(std::string_view name, const std::string& options,
                                              Logger& log) {
  auto config =
      config::load_text("inputs:\n  - " + std::string(name) + ": {" + options + "}\n", "test.yaml");
  return pipeline::create_plugin(config.inputs.at(0), config.inputs.at(0).info->create_input, log);
}

// Records what inputs add, from any thread; metrics without a time get time().
class LockedAccumulator final : public Accumulator {
 public:
  explicit LockedAccumulator(int64_t time = 1'700'000'000'000'000'000) : time_(time) {}

  void add(Metric m) override {
    std::lock_guard lock(mutex_);
    if (m.time() == 0) m.set_time(time_);
    metrics_.push_back(std::move(m));
  }
  void add_batch(Batch batch) override {
    std::lock_guard lock(mutex_);
    ++batches_;
    for (Metric& m : batch) {
      if (m.time() == 0) m.set_time(time_);
      metrics_.push_back(std::move(m));
    }
  }
  void add_error(std::string_view e) override {
    std::lock_guard lock(mutex_);
    errors_.emplace_back(e);
  }
  void add_rejected(std::string_view e) override {
    std::lock_guard lock(mutex_);
    rejected_.emplace_back(e);
  }
  int64_t time() const override { return time_; }

  Batch metrics() const {
    std::lock_guard lock(mutex_);
    return metrics_;
  }
  std::vector<std::string> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  std::vector<std::string> rejected() const {
    std::lock_guard lock(mutex_);
    return rejected_;
  }
  size_t batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  // Every metric as line protocol, sorted, so that parallel gathers compare exactly.
  std::vector<std::string> sorted_lines() const {
    std::vector<std::string> out;
    for (const Metric& m : metrics()) {
      std::string line;
      lineproto::serialize(m, line);
      if (!line.empty() && line.back() == '\n') line.pop_back();
      out.push_back(std::move(line));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    metrics_.clear();
    errors_.clear();
    rejected_.clear();
    batches_ = 0;
  }

 private:
  mutable std::mutex mutex_;
  int64_t time_;
  Batch metrics_;
  std::vector<std::string> errors_;
  std::vector<std::string> rejected_;
  size_t batches_ = 0;
};

}  // namespace sluice::testing
