// Reads statsd lines: "bucket[,tag=v...]:value|type[|@rate][|#tag:v,...]", several
// ":value|type" parts per line, with the DataDog extensions when enabled.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/metric.hpp"
#include "templates.hpp"

namespace sluice::inputs::statsd {

enum class Kind : uint8_t { kCounter, kGauge, kSet, kTiming, kHistogram, kDistribution };

// One value of a line, named and tagged, ready to be aggregated.
struct Sample {
  Kind kind = Kind::kCounter;
  std::string measurement;
  std::string field;      // "value" unless a template names a field
  std::vector<Tag> tags;  // sorted by key, metric_type included
  double value = 0;       // gauges, timings, distributions; counters as a float
  int64_t count = 0;      // counters as Telegraf counts them: integer, divided by the rate
  std::string member;     // sets
  bool additive = false;  // gauges "+3" / "-3"
  double rate = 1;        // sample rate, (0, 1]
};

struct LineOptions {
  bool datadog_extensions = false;
  bool keep_container_tag = false;
};

class LineParser {
 public:
  LineParser(LineOptions options, const Templates& templates)
      : options_(options), templates_(templates) {}

  // Appends the samples of one line (without its line break) to `out`. On a bad line nothing is
  // appended and the reason is returned; "" on success.
  std::string parse(std::string_view line, std::vector<Sample>& out);

 private:
  LineOptions options_;
  const Templates& templates_;
  std::vector<Tag> line_tags_;
  std::vector<Sample> pending_;
};

// The aggregation key of a sample: measurement and tags (type-specific maps keep kinds apart).
std::string series_key(const Sample& sample);

}  // namespace sluice::inputs::statsd
