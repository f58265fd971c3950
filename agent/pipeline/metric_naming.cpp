#include "pipeline/metric_naming.hpp"

namespace sluice::pipeline {

MetricNaming MetricNaming::from_options(const Options& options) {
  MetricNaming n;
  n.override_ = options.get_string("name_override");
  n.prefix_ = options.get_string("name_prefix");
  n.suffix_ = options.get_string("name_suffix");
  if (options.has("tags")) n.tags_ = options.get_string_map("tags");
  return n;
}

void MetricNaming::apply(Metric& metric) const {
  if (!override_.empty()) metric.set_name(override_);
  if (!prefix_.empty() || !suffix_.empty()) metric.set_name(prefix_ + metric.name() + suffix_);
  for (const auto& [key, value] : tags_) metric.set_tag(key, value);
}

}  // namespace sluice::pipeline
