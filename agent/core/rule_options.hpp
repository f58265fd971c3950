// Helpers for options written as lists of rule maps (kStringMapList), such as rename's
// `replace: [{tag: hostname, dest: host}]`: typed access to a rule's keys, checks that reject
// unknown keys with the rule's position, and the typing of scalar values written as text.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/metric.hpp"
#include "sluice/options.hpp"

namespace sluice::core {

// One map of a list-of-maps option. Errors are OptionError naming the option, e.g.
// `replace: rule 2: unknown key "tga" (expected measurement, tag, field, dest)`.
class RuleMap {
 public:
  RuleMap(std::string option, const StringMap& map, size_t index)
      : option_(std::move(option)), map_(map), index_(index) {}

  const std::string& option() const { return option_; }

  // The value written for `key`, or null.
  const std::string* find(std::string_view key) const;
  std::string get(std::string_view key, std::string_view fallback = {}) const;
  // Throws when the key is missing or empty.
  std::string require(std::string_view key) const;
  // Typed values; missing keys give the fallback, unreadable ones throw.
  double get_float(std::string_view key, double fallback) const;
  int64_t get_int(std::string_view key, int64_t fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  // A list written as comma-separated text ("cpu, mem*"; commas inside {} or [] belong to a
  // glob), since a rule map's values are single strings.
  std::vector<std::string> get_list(std::string_view key) const;

  // Throws for any key that is not one of `allowed` and does not start with `allowed_prefix`
  // (when that is not empty).
  void allow_only(std::initializer_list<std::string_view> allowed,
                  std::string_view allowed_prefix = {}) const;
  // Throws unless exactly one of `keys` is given; returns it.
  std::string_view require_one_of(std::initializer_list<std::string_view> keys) const;

  [[noreturn]] void fail(const std::string& message) const;

 private:
  std::string option_;
  const StringMap& map_;
  size_t index_;
};

// Splits comma-separated text into trimmed, non-empty items; commas inside {} or [] do not split.
std::vector<std::string> split_list(std::string_view text);

// Types a scalar written as text, as a TOML value would be typed: an integer ("1", "-3"), a
// float ("2.5", "1e3"), a boolean ("true", "false"), otherwise the string itself.
FieldValue parse_scalar(std::string_view text);

}  // namespace sluice::core
