#include "config/option_reader.hpp"

#include <algorithm>
#include <charconv>

#include "config/config.hpp"
#include "config/env_subst.hpp"
#include "core/units.hpp"

namespace sluice::config {
namespace {

[[noreturn]] void fail(const std::string& file, const YAML::Node& node, const std::string& what,
                       const std::string& message) {
  throw ConfigError(location(file, node) + ": " + what + ": " + message);
}

// Edit distance, to suggest the option a typo meant.
size_t distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string suggestion(std::string_view key, std::span<const OptionSpec> table) {
  const OptionSpec* best = nullptr;
  size_t best_distance = 3;
  for (const OptionSpec& spec : table) {
    size_t d = distance(key, spec.name);
    if (d < best_distance) {
      best_distance = d;
      best = &spec;
    }
  }
  return best ? " (did you mean \"" + std::string(best->name) + "\"?)" : "";
}

struct Reader {
  const std::string& file;
  std::string what;  // "inputs.cpu: option \"percpu\""

  std::string text(const YAML::Node& node) const {
    if (!node.IsScalar()) fail(file, node, what, "expected a single value, not a list or map");
    return scalar_text(node, file, what);
  }

  bool to_bool(const YAML::Node& node) const {
    std::string t = text(node);
    if (t == "true" || t == "True" || t == "TRUE") return true;
    if (t == "false" || t == "False" || t == "FALSE") return false;
    fail(file, node, what, "expected true or false, got \"" + t + "\"");
  }

  int64_t to_int(const YAML::Node& node) const {
    std::string t = text(node);
    int64_t v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || ptr != t.data() + t.size()) {
      fail(file, node, what, "expected an integer, got \"" + t + "\"");
    }
    return v;
  }

  double to_float(const YAML::Node& node) const {
    std::string t = text(node);
    double v = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || ptr != t.data() + t.size()) {
      fail(file, node, what, "expected a number, got \"" + t + "\"");
    }
    return v;
  }

  std::chrono::nanoseconds to_duration(const YAML::Node& node) const {
    std::string t = text(node);
    auto d = core::parse_duration(t);
    if (!d) {
      fail(file, node, what,
           "expected a duration such as 500ms, 10s, 1m or 1h30m, got \"" + t + "\"");
    }
    return *d;
  }

  uint64_t to_size(const YAML::Node& node) const {
    std::string t = text(node);
    auto s = core::parse_size(t);
    if (!s) fail(file, node, what, "expected a size such as 4096, 64KiB or 10MB, got \"" + t + "\"");
    return *s;
  }

  std::vector<std::string> to_list(const YAML::Node& node) const {
    if (node.IsNull()) return {};
    if (!node.IsSequence()) fail(file, node, what, "expected a list such as [a, b]");
    std::vector<std::string> out;
    for (const YAML::Node& item : node) out.push_back(text(item));
    return out;
  }

  StringMap to_map(const YAML::Node& node) const {
    if (node.IsNull()) return {};
    if (!node.IsMap()) fail(file, node, what, "expected a map such as {key: value}");
    StringMap out;
    for (const auto& kv : node) out.emplace_back(text(kv.first), text(kv.second));
    return out;
  }

  std::vector<StringMap> to_map_list(const YAML::Node& node) const {
    if (node.IsNull()) return {};
    if (!node.IsSequence()) fail(file, node, what, "expected a list of maps such as [{a: b}]");
    std::vector<StringMap> out;
    for (const YAML::Node& item : node) out.push_back(to_map(item));
    return out;
  }

  StringListMap to_list_map(const YAML::Node& node) const {
    if (node.IsNull()) return {};
    if (!node.IsMap()) fail(file, node, what, "expected a map such as {key: [a, b]}");
    StringListMap out;
    for (const auto& kv : node) {
      if (kv.second.IsSequence()) {
        out.emplace_back(text(kv.first), to_list(kv.second));
      } else {
        out.emplace_back(text(kv.first), std::vector<std::string>{text(kv.second)});
      }
    }
    return out;
  }

  Options::Value convert(const YAML::Node& node, OptionType type) const {
    bool empty = node.IsNull() || (node.IsScalar() && node.Scalar().empty() && node.Tag() != "!");
    switch (type) {
      case OptionType::kBool: return empty ? false : to_bool(node);
      case OptionType::kInt: return empty ? int64_t{0} : to_int(node);
      case OptionType::kFloat: return empty ? 0.0 : to_float(node);
      case OptionType::kString: return empty ? std::string() : text(node);
      case OptionType::kDuration: return empty ? std::chrono::nanoseconds(0) : to_duration(node);
      case OptionType::kSize: return empty ? uint64_t{0} : to_size(node);
      case OptionType::kStringList: return to_list(node);
      case OptionType::kStringMap: return to_map(node);
      case OptionType::kStringMapList: return to_map_list(node);
      case OptionType::kStringListMap: return to_list_map(node);
    }
    return false;
  }
};

}  // namespace

std::string location(const std::string& file, const YAML::Node& node) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

std::string scalar_text(const YAML::Node& node, const std::string& file, const std::string& what) {
  std::string error;
  auto text = substitute_env(node.Scalar(), error);
  if (!text) fail(file, node, what, error);
  return *text;
}

OptionReadResult read_options(const YAML::Node& node, std::span<const OptionSpec> table,
                              const std::string& file, const std::string& what) {
  if (node && !node.IsNull() && !node.IsMap()) {
    fail(file, node, what, "expected a map of options such as {option: value}");
  }
  OptionReadResult result;
  std::map<std::string, YAML::Node, std::less<>> given;
  if (node && node.IsMap()) {
    for (const auto& kv : node) {
      const std::string& key = kv.first.Scalar();
      auto spec = std::find_if(table.begin(), table.end(),
                               [&](const OptionSpec& s) { return s.name == key; });
      if (spec == table.end()) {
        fail(file, kv.first, what, "unknown option \"" + key + "\"" + suggestion(key, table));
      }
      if (given.count(key) != 0) fail(file, kv.first, what, "option \"" + key + "\" given twice");
      given.emplace(key, kv.second);
      result.locations[key] = location(file, kv.first);
    }
  }
  for (const OptionSpec& spec : table) {
    std::string option_what = what + ": option \"" + std::string(spec.name) + "\"";
    Reader reader{file, option_what};
    if (auto it = given.find(spec.name); it != given.end()) {
      result.options.set(std::string(spec.name), reader.convert(it->second, spec.type), true);
    } else if (spec.required) {
      fail(file, node, what, "option \"" + std::string(spec.name) + "\" is required");
    } else if (!result.options.has(spec.name)) {
      // Defaults are written in the table as YAML text and read by the same rules.
      Reader default_reader{"<default>", option_what};
      YAML::Node default_node = YAML::Load(std::string(spec.default_yaml));
      result.options.set(std::string(spec.name), default_reader.convert(default_node, spec.type),
                         false);
    }
  }
  return result;
}

}  // namespace sluice::config
