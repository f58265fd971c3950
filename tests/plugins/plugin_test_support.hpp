// Helpers for plugin tests: a recording accumulator, plugin creation with options at their
// declared defaults, fixture paths and scoped environment variables.
#pragma once

#include <doctest/doctest.h>

#include <charconv>
#include <cstdlib>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/units.hpp"
#include "lineproto/serializer.hpp"
#include "plugin/registry.hpp"
#include "sluice/plugin.hpp"

namespace sluice::testing {

// The time stamped on metrics added with time 0: 2023-11-14T22:13:20Z.
constexpr int64_t kGatherTime = 1'700'000'000'000'000'000;
constexpr int64_t kSecond = 1'000'000'000;

class RecordingAccumulator final : public Accumulator {
 public:
  explicit RecordingAccumulator(int64_t time = kGatherTime) : time_(time) {}

  void add(Metric metric) override {
    if (metric.time() == 0) metric.set_time(time_);
    metrics.push_back(std::move(metric));
  }
  void add_error(std::string_view message) override { errors.emplace_back(message); }
  int64_t time() const override { return time_; }

  // Starts the next gather at `time`, forgetting what was recorded.
  void next_gather(int64_t time) {
    time_ = time;
    metrics.clear();
    errors.clear();
  }
  // Every recorded metric as line protocol, one line each.
  std::string lines() const {
    std::string out;
    for (const Metric& m : metrics) lineproto::serialize(m, out);
    return out;
  }

  std::vector<Metric> metrics;
  std::vector<std::string> errors;

 private:
  int64_t time_;
};

class NullLogger final : public Logger {
 public:
  void log(LogLevel, std::string_view) override {}
  bool enabled(LogLevel) const override { return false; }
};

using OptionOverrides = std::vector<std::pair<std::string, Options::Value>>;

namespace detail {

inline std::string_view strip_quotes(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    s = s.substr(1, s.size() - 2);
  }
  return s;
}

// The defaults of the system inputs are simple YAML scalars and flow lists; this reads those
// (the config loader reads the general case).
inline Options::Value parse_default(const OptionSpec& spec) {
  std::string_view text = spec.default_yaml;
  switch (spec.type) {
    case OptionType::kBool:
      return text == "true";
    case OptionType::kString:
      return std::string(strip_quotes(text));
    case OptionType::kInt: {
      int64_t v = 0;
      if (!text.empty()) std::from_chars(text.data(), text.data() + text.size(), v);
      return v;
    }
    case OptionType::kStringList: {
      std::vector<std::string> items;
      text = strip_quotes(text);
      if (text.empty()) return items;
      if (text.front() != '[' || text.back() != ']') {
        throw std::logic_error("unsupported list default: " + std::string(text));
      }
      text = text.substr(1, text.size() - 2);
      while (!text.empty()) {
        size_t comma = text.find(',');
        std::string_view item = strip_quotes(text.substr(0, comma));
        if (!item.empty()) items.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
      }
      return items;
    }
    case OptionType::kDuration:
      if (auto d = core::parse_duration(strip_quotes(text))) return *d;
      break;
    case OptionType::kSize:
      if (auto s = core::parse_size(strip_quotes(text))) return *s;
      break;
    case OptionType::kFloat: {
      double v = 0;
      if (!text.empty()) std::from_chars(text.data(), text.data() + text.size(), v);
      return v;
    }
    // Tables of rules default to empty in every plugin that has them.
    case OptionType::kStringMap:
      if (text.empty()) return StringMap{};
      break;
    case OptionType::kStringMapList:
      if (text.empty()) return std::vector<StringMap>{};
      break;
    case OptionType::kStringListMap:
      if (text.empty()) return StringListMap{};
      break;
    default:
      break;
  }
  throw std::logic_error("no test default for option " + std::string(spec.name));
}

}  // namespace detail

// Every declared option at its default, then the overrides (as if the user wrote them).
inline Options plugin_options(const plugin::PluginInfo& info, const OptionOverrides& overrides) {
  Options options;
  for (const OptionSpec& spec : info.options) {
    options.set(std::string(spec.name), detail::parse_default(spec), false);
  }
  for (const auto& [name, value] : overrides) {
    bool declared = false;
    for (const OptionSpec& spec : info.options) declared = declared || spec.name == name;
    if (!declared) throw std::logic_error("test sets an undeclared option: " + name);
    options.set(name, value, true);
  }
  return options;
}

inline const plugin::Registry& builtin_registry() { return plugin::Registry::builtins(); }

inline const plugin::PluginInfo& input_info(std::string_view name) {
  const plugin::PluginInfo* info = builtin_registry().find(plugin::Kind::kInput, name);
  if (info == nullptr) throw std::logic_error("no built-in input " + std::string(name));
  return *info;
}

// Creates a built-in input by name, as the agent would.
inline std::unique_ptr<Input> make_input(std::string_view name,
                                         const OptionOverrides& overrides = {}) {
  const plugin::PluginInfo* info = &input_info(name);
  Options options = plugin_options(*info, overrides);
  // Static: plugins may keep the logger for their threads beyond their creation.
  static NullLogger log;
  PluginContext ctx{options, log};
  return info->create_input(ctx);
}

// Creates a built-in parser by data format name, as an input would.
inline std::unique_ptr<Parser> make_parser(std::string_view format,
                                           const OptionOverrides& overrides = {}) {
  const plugin::PluginInfo* info = builtin_registry().find(plugin::Kind::kParser, format);
  if (info == nullptr) throw std::logic_error("no built-in parser " + std::string(format));
  Options options = plugin_options(*info, overrides);
  static NullLogger log;  // as in make_input
  return info->create_parser(PluginContext{options, log});
}

inline std::string fixture(std::string_view sub) {
  return std::string(SLUICE_FIXTURES_DIR) + "/" + std::string(sub);
}

// Sets (or, with nullopt, unsets) an environment variable until the end of the scope.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    set(value);
  }
  ~ScopedEnv() { set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  // Points the variable elsewhere, e.g. between two gathers.
  void set(const std::optional<std::string>& value) {
    if (value) {
      setenv(name_.c_str(), value->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Whether any recorded error contains `needle`.
inline bool has_error(const RecordingAccumulator& acc, std::string_view needle) {
  for (const std::string& e : acc.errors) {
    if (e.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace sluice::testing
