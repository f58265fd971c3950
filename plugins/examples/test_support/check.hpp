// What the examples' tests share: a check that counts failures, an accumulator that keeps what
// it is given, and a logger that prints. A plugin class is plain C++, so its tests need no agent.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/plugin.hpp"

namespace examples {

inline int failures = 0;

#define EXAMPLE_CHECK(condition)                                                         \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      ++::examples::failures;                                                            \
    }                                                                                    \
  } while (false)

class TestAccumulator final : public sluice::Accumulator {
 public:
  void add(sluice::Metric metric) override { metrics.push_back(std::move(metric)); }
  void add_error(std::string_view message) override { errors.emplace_back(message); }
  int64_t time() const override { return 1'700'000'000'000'000'000; }

  std::vector<sluice::Metric> metrics;
  std::vector<std::string> errors;
};

class TestLogger final : public sluice::Logger {
 public:
  void log(sluice::LogLevel, std::string_view message) override {
    std::fprintf(stderr, "log: %.*s\n", static_cast<int>(message.size()), message.data());
  }
  bool enabled(sluice::LogLevel) const override { return true; }
};

inline int result(const char* name) {
  if (failures == 0) std::printf("%s: all checks passed\n", name);
  return failures == 0 ? 0 : 1;
}

}  // namespace examples
