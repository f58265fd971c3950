// Plugin options: each plugin declares a table of OptionSpec; the config loader validates the
// user's YAML against it and hands the plugin an Options object with every value typed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sluice {

enum class OptionType {
  kBool,
  kInt,            // int64
  kFloat,          // double
  kString,
  kDuration,       // "500ms", "10s", "1m30s"; a bare integer means seconds
  kSize,           // "64MiB", "10MB", "4096"
  kStringList,     // [a, b]
  kStringMap,      // {key: value}
  kStringMapList,  // [{key: value, ...}, ...] for tables of rules (rename, converter, ...)
  kStringListMap,  // {key: [a, b]} as tagpass; a single value stands for a one-element list
};

struct OptionSpec {
  std::string_view name;
  OptionType type;
  // The default as YAML text, parsed by the same rules as user input; "" is the type's zero
  // value (false, 0, "", empty list).
  std::string_view default_yaml;
  std::string_view doc;  // one line, shown in `sluice config` and the plugin's README
  bool required = false;
};

using OptionTable = std::span<const OptionSpec>;

using StringMap = std::vector<std::pair<std::string, std::string>>;  // in file order
using StringListMap = std::vector<std::pair<std::string, std::vector<std::string>>>;

// Raised by a plugin's constructor when an option's value is unacceptable; the config loader
// adds the file, line and column of that option.
class OptionError : public std::runtime_error {
 public:
  OptionError(std::string option, const std::string& message)
      : std::runtime_error(message), option_(std::move(option)) {}
  const std::string& option() const { return option_; }

 private:
  std::string option_;
};

// The validated options of one plugin instance.
class Options {
 public:
  using Value = std::variant<bool, int64_t, double, std::string, std::chrono::nanoseconds,
                             uint64_t, std::vector<std::string>, StringMap,
                             std::vector<StringMap>, StringListMap>;

  void set(std::string name, Value value, bool given_by_user) {
    values_[std::move(name)] = Entry{std::move(value), given_by_user};
  }
  // True when the user wrote the option (not only its default).
  bool is_set(std::string_view name) const {
    auto it = values_.find(name);
    return it != values_.end() && it->second.given;
  }
  bool has(std::string_view name) const { return values_.find(name) != values_.end(); }
  // The value whatever its type; throws std::logic_error for an undeclared option.
  const Value& value(std::string_view name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::logic_error("option not declared: " + std::string(name));
    return it->second.value;
  }

  bool get_bool(std::string_view name) const { return get<bool>(name); }
  int64_t get_int(std::string_view name) const { return get<int64_t>(name); }
  double get_float(std::string_view name) const { return get<double>(name); }
  const std::string& get_string(std::string_view name) const { return get<std::string>(name); }
  std::chrono::nanoseconds get_duration(std::string_view name) const {
    return get<std::chrono::nanoseconds>(name);
  }
  uint64_t get_size(std::string_view name) const { return get<uint64_t>(name); }
  const std::vector<std::string>& get_strings(std::string_view name) const {
    return get<std::vector<std::string>>(name);
  }
  const StringMap& get_string_map(std::string_view name) const { return get<StringMap>(name); }
  const std::vector<StringMap>& get_string_map_list(std::string_view name) const {
    return get<std::vector<StringMap>>(name);
  }
  const StringListMap& get_string_list_map(std::string_view name) const {
    return get<StringListMap>(name);
  }

 private:
  struct Entry {
    Value value;
    bool given = false;
  };
  template <typename T>
  const T& get(std::string_view name) const {
    auto it = values_.find(name);
    if (it == values_.end()) throw std::logic_error("option not declared: " + std::string(name));
    const T* v = std::get_if<T>(&it->second.value);
    if (v == nullptr) throw std::logic_error("option read with the wrong type: " + std::string(name));
    return *v;
  }
  std::map<std::string, Entry, std::less<>> values_;
};

}  // namespace sluice
