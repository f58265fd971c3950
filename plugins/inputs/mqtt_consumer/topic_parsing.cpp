#include "topic_parsing.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/rule_options.hpp"

namespace sluice::inputs::mqtt_consumer {
namespace {

bool skipped(std::string_view word) { return word.empty() || word == "_"; }

FieldKind kind_named(const core::RuleMap& rule, std::string_view field, std::string_view name) {
  if (name == "string") return FieldKind::kString;
  if (name == "int") return FieldKind::kInt;
  if (name == "uint") return FieldKind::kUint;
  if (name == "float") return FieldKind::kFloat;
  if (name == "bool") return FieldKind::kBool;
  rule.fail(fmt::format("types: field \"{}\" has type \"{}\"; use int, uint, float, bool or string",
                        field, name));
}

template <typename T>
bool read_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
}

std::optional<FieldValue> typed(std::string_view text, FieldKind kind) {
  switch (kind) {
    case FieldKind::kString: return FieldValue(std::string(text));
    case FieldKind::kInt: {
      int64_t v = 0;
      if (read_number(text, v)) return FieldValue(v);
      return std::nullopt;
    }
    case FieldKind::kUint: {
      uint64_t v = 0;
      if (read_number(text, v)) return FieldValue(v);
      return std::nullopt;
    }
    case FieldKind::kFloat: {
      double v = 0;
      if (read_number(text, v)) return FieldValue(v);
      return std::nullopt;
    }
    case FieldKind::kBool:
      if (text == "true") return FieldValue(true);
      if (text == "false") return FieldValue(false);
      return std::nullopt;
  }
  return std::nullopt;
}

std::string_view kind_name(FieldKind kind) {
  switch (kind) {
    case FieldKind::kString: return "string";
    case FieldKind::kInt: return "int";
    case FieldKind::kUint: return "uint";
    case FieldKind::kFloat: return "float";
    case FieldKind::kBool: return "bool";
  }
  return "?";
}

}  // namespace

std::vector<std::string> split_levels(std::string_view topic) {
  std::vector<std::string> levels;
  size_t start = 0;
  while (true) {
    size_t slash = topic.find('/', start);
    levels.emplace_back(topic.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return levels;
}

bool topic_matches(std::string_view filter, std::string_view topic) {
  std::vector<std::string> f = split_levels(filter);
  std::vector<std::string> t = split_levels(topic);
  // Topics starting with '$' (the broker's own) match no filter that starts with a wildcard.
  if (!topic.empty() && topic[0] == '$' && !f.empty() && (f[0] == "+" || f[0] == "#")) {
    return false;
  }
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // "a/#" matches "a" too
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

std::string topic_filter_problem(std::string_view filter) {
  if (filter.empty()) return "a topic is empty";
  std::vector<std::string> levels = split_levels(filter);
  for (size_t i = 0; i < levels.size(); ++i) {
    const std::string& level = levels[i];
    if (level.find('#') != std::string::npos && (level != "#" || i + 1 != levels.size())) {
      return fmt::format("\"{}\": '#' must be the whole last level", filter);
    }
    if (level.find('+') != std::string::npos && level != "+") {
      return fmt::format("\"{}\": '+' must be a whole level", filter);
    }
  }
  return "";
}

TopicParsingRule::TopicParsingRule(const StringMap& map, size_t index) {
  core::RuleMap rule("topic_parsing", map, index);
  rule.allow_only({"topic", "measurement", "tags", "fields", "types"});
  filter_ = rule.require("topic");
  if (std::string problem = topic_filter_problem(filter_); !problem.empty()) {
    rule.fail("topic " + problem);
  }
  std::vector<std::string> filter_levels = split_levels(filter_);
  bool open_ended = filter_levels.back() == "#";
  auto levels_of = [&](std::string_view key) {
    std::vector<std::string> levels;
    if (const std::string* text = rule.find(key); text != nullptr && !text->empty()) {
      levels = split_levels(*text);
      bool fits = open_ended ? levels.size() >= filter_levels.size() - 1
                             : levels.size() == filter_levels.size();
      if (!fits) {
        rule.fail(fmt::format("{} \"{}\" has {} levels but the topic \"{}\" has {}", key, *text,
                              levels.size(), filter_, filter_levels.size()));
      }
    }
    return levels;
  };

  std::vector<std::string> measurement = levels_of("measurement");
  for (size_t i = 0; i < measurement.size(); ++i) {
    if (skipped(measurement[i])) continue;
    if (measurement_) {
      rule.fail(fmt::format("measurement \"{}\" names more than one level",
                            rule.get("measurement")));
    }
    measurement_ = i;
  }
  std::vector<std::string> tags = levels_of("tags");
  for (size_t i = 0; i < tags.size(); ++i) {
    if (!skipped(tags[i])) tags_.push_back(Level{i, tags[i]});
  }
  std::vector<std::pair<std::string, FieldKind>> types;
  for (const std::string& item : rule.get_list("types")) {
    size_t eq = item.find('=');
    if (eq == std::string::npos) {
      rule.fail(fmt::format("types: \"{}\" is not field=type", item));
    }
    std::string field = item.substr(0, eq);
    while (!field.empty() && field.back() == ' ') field.pop_back();
    std::string name = item.substr(eq + 1);
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
    types.emplace_back(field, kind_named(rule, field, name));
  }
  std::vector<std::string> fields = levels_of("fields");
  for (size_t i = 0; i < fields.size(); ++i) {
    if (skipped(fields[i])) continue;
    FieldKind kind = FieldKind::kString;
    for (const auto& [name, k] : types) {
      if (name == fields[i]) kind = k;
    }
    fields_.push_back(FieldLevel{i, fields[i], kind});
  }
  for (const auto& [name, kind] : types) {
    bool known = false;
    for (const FieldLevel& f : fields_) known = known || f.name == name;
    if (!known) rule.fail(fmt::format("types: \"{}\" is not one of the rule's fields", name));
  }
}

void TopicParsingRule::apply(const std::vector<std::string>& levels, Metric& metric,
                             std::string& problem) const {
  if (measurement_ && *measurement_ < levels.size()) metric.set_name(levels[*measurement_]);
  for (const Level& t : tags_) {
    if (t.index < levels.size()) metric.set_tag(t.name, levels[t.index]);
  }
  for (const FieldLevel& f : fields_) {
    if (f.index >= levels.size()) continue;
    if (std::optional<FieldValue> v = typed(levels[f.index], f.kind)) {
      metric.set_field(f.name, std::move(*v));
    } else if (problem.empty()) {
      problem = fmt::format("topic_parsing: field \"{}\" is \"{}\", not a {}", f.name,
                            levels[f.index], kind_name(f.kind));
    }
  }
}

TopicParsing::TopicParsing(const std::vector<StringMap>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) rules_.emplace_back(rules[i], i);
}

std::string TopicParsing::apply(std::string_view topic, Metric& metric) const {
  std::string problem;
  std::vector<std::string> levels;
  for (const TopicParsingRule& rule : rules_) {
    if (!rule.matches(topic)) continue;
    if (levels.empty()) levels = split_levels(topic);
    rule.apply(levels, metric, problem);
  }
  return problem;
}

}  // namespace sluice::inputs::mqtt_consumer
