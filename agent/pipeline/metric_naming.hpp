// name_override, name_prefix, name_suffix and extra tags, as inputs, aggregators and outputs
// accept them.
#pragma once

#include <string>

#include "sluice/metric.hpp"
#include "sluice/options.hpp"

namespace sluice::pipeline {

class MetricNaming {
 public:
  MetricNaming() = default;
  // Reads name_override/name_prefix/name_suffix and, if declared, tags.
  static MetricNaming from_options(const Options& options);

  bool empty() const { return override_.empty() && prefix_.empty() && suffix_.empty() && tags_.empty(); }
  // Renames and adds tags (a tag the metric already has is overwritten, as Telegraf does).
  void apply(Metric& metric) const;

 private:
  std::string override_, prefix_, suffix_;
  StringMap tags_;
};

}  // namespace sluice::pipeline
