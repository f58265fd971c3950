// Graphite-style templates that turn a statsd bucket ("cpu.load.us-west") into a measurement,
// a field and tags, as Telegraf's statsd input applies them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/metric.hpp"

namespace sluice::inputs::statsd {

struct NameParts {
  std::string measurement;
  std::string field;      // "" when the template names no field ("value" is used then)
  std::vector<Tag> tags;  // the template's default tags, then the tags taken from the bucket
};

class Templates {
 public:
  // Each entry is "[filter] template [tag=value,...]"; throws OptionError("templates") on a bad
  // one. With no entry every bucket uses "measurement*".
  Templates(const std::vector<std::string>& specs, std::string separator);

  // Applies the most specific template whose filter matches the bucket.
  NameParts apply(std::string_view bucket) const;

 private:
  struct Template {
    std::vector<std::string> filter;  // dot-separated globs; empty matches every bucket
    std::vector<std::string> parts;   // measurement, measurement*, field, field*, "" or a tag
    std::vector<Tag> tags;
    size_t order = 0;
  };
  const Template* match(const std::vector<std::string_view>& bucket) const;

  std::vector<Template> templates_;
  Template default_;
  std::string separator_;
};

}  // namespace sluice::inputs::statsd
