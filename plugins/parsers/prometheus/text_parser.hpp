// The Prometheus text exposition format 0.0.4 into metrics, in the two layouts Telegraf users
// know (metric_version 1 and 2). Shared by the prometheus data format and the prometheus input.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sluice/plugin.hpp"

namespace sluice::parsers::prometheus {

struct TextParserOptions {
  // 1: measurement = metric name, fields counter/gauge/value, a histogram or summary in one
  // metric with a field per bucket or quantile plus sum and count.
  // 2: measurement "prometheus", field = metric name, buckets and quantiles as tagged metrics.
  int metric_version = 2;
  // Stamp every sample with the time of parsing, even one that carries its own.
  bool ignore_timestamp = false;
};

class TextParser final : public Parser {
 public:
  explicit TextParser(TextParserOptions options) : options_(options) {}

  void parse(std::string_view data, int64_t now, Batch& out,
             std::vector<ParseError>& errors) override;

  // A family's TYPE line and its samples belong together: a run of lines is not a message.
  bool splits_on_lines() const override { return false; }

 private:
  TextParserOptions options_;
};

}  // namespace sluice::parsers::prometheus
