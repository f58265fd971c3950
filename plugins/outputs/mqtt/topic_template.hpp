// The MQTT output's topic template: Telegraf's Go-template forms, rendered per metric.
//
//   {{ .Hostname }}     the metric's "host" tag (empty when the metric has none)
//   {{ .PluginName }}   the metric's name (also {{ .Name }})
//   {{ .Tag "key" }}    the value of tag `key` (empty when the metric has none)
//
// Everything else is literal text. Empty path segments are dropped after rendering, so a missing
// tag does not leave "a//b"; a template that renders to nothing publishes to the metric's name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/metric.hpp"

namespace sluice::outputs::mqtt {

class TopicTemplate {
 public:
  // Parses `text`; throws OptionError("topic", ...) for an action it does not know, an unclosed
  // "{{", or an MQTT wildcard (+ or #) in the literal text.
  explicit TopicTemplate(std::string_view text);

  // The topic of `metric`, with empty segments removed (a leading "/" is kept).
  std::string render(const Metric& metric) const;

  // True when the template has no actions: every metric gets the same topic.
  bool is_constant() const;

 private:
  enum class Kind { kLiteral, kHostname, kName, kTag };
  struct Part {
    Kind kind;
    std::string text;  // the literal, or the tag key
  };
  std::vector<Part> parts_;
};

// Why `topic` cannot be published to ("" when it can): MQTT forbids the wildcards + and # and
// the NUL character in a topic name, and an empty one.
std::string publish_topic_problem(std::string_view topic);

}  // namespace sluice::outputs::mqtt
