// Telegraf's topic_parsing for mqtt_consumer: rules that take a metric's measurement, tags and
// fields from the levels of the topic its message came on. Each of measurement, tags and fields
// is '/'-separated like the topic: at each level '_' (or nothing) skips, any other word names
// what that level of the topic becomes. A rule applies to messages whose topic matches its
// `topic` filter (with MQTT's '+' and '#').
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/metric.hpp"
#include "sluice/options.hpp"

namespace sluice::inputs::mqtt_consumer {

// MQTT topic matching: '+' is one level, a final '#' is any number of levels (zero included).
bool topic_matches(std::string_view filter, std::string_view topic);

// "" or why `filter` is not a valid subscription filter ('#' only as a whole last level, '+'
// only as a whole level).
std::string topic_filter_problem(std::string_view filter);

std::vector<std::string> split_levels(std::string_view topic);

enum class FieldKind { kString, kInt, kUint, kFloat, kBool };

class TopicParsingRule {
 public:
  // From one map of the topic_parsing option (the index is for error messages). Throws
  // OptionError naming topic_parsing and the rule.
  TopicParsingRule(const StringMap& map, size_t index);

  bool matches(std::string_view topic) const { return topic_matches(filter_, topic); }
  // Renames `metric` and adds its tags and fields from `levels` (the topic, split). A field
  // whose level does not read as its type is left out, and reported in `problem`.
  void apply(const std::vector<std::string>& levels, Metric& metric, std::string& problem) const;

 private:
  struct Level {
    size_t index;
    std::string name;
  };
  struct FieldLevel {
    size_t index;
    std::string name;
    FieldKind kind;
  };

  std::string filter_;
  std::optional<size_t> measurement_;
  std::vector<Level> tags_;
  std::vector<FieldLevel> fields_;
};

class TopicParsing {
 public:
  explicit TopicParsing(const std::vector<StringMap>& rules);
  bool empty() const { return rules_.empty(); }
  // Applies every rule whose filter matches `topic`; "" or what could not be read.
  std::string apply(std::string_view topic, Metric& metric) const;

 private:
  std::vector<TopicParsingRule> rules_;
};

}  // namespace sluice::inputs::mqtt_consumer
