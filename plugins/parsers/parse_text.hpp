// Text helpers shared by the parsers: numbers and booleans read as Telegraf (Go's strconv) reads
// them, without locale and without allocation, and positions turned into line and column.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "sluice/options.hpp"

namespace sluice::parsers {

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// A base-10 integer with an optional sign, the whole text and nothing else.
inline std::optional<int64_t> parse_int(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '+') return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

inline std::optional<uint64_t> parse_uint(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// A decimal or exponent number, or inf/nan, with an optional sign; out of range is an error.
inline std::optional<double> parse_float(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.front() == '+' || s.front() == '-') return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return negative ? -v : v;
}

// Go's strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False.
inline std::optional<bool> parse_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return std::nullopt;
}

// 1-based line and column (in bytes) of a byte offset into `data`.
struct Position {
  size_t line = 1;
  size_t column = 1;
};
inline Position position_of(std::string_view data, size_t offset) {
  Position p;
  if (offset > data.size()) offset = data.size();
  for (size_t i = 0; i < offset; ++i) {
    if (data[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

// The measurement name of formats that carry none (value, json, csv): the option metric_name
// (declared by the value parser, shared by every input that reads bytes), else the fallback.
inline std::string metric_name_option(const Options& options, std::string_view fallback) {
  if (options.has("metric_name")) {
    const std::string& name = options.get_string("metric_name");
    if (!name.empty()) return name;
  }
  return std::string(fallback);
}

// Text shortened for an error message, so a huge bad record does not make a huge log line.
inline std::string excerpt(std::string_view s, size_t max = 64) {
  if (s.size() <= max) return std::string(s);
  std::string out(s.substr(0, max));
  out += "...";
  return out;
}

}  // namespace sluice::parsers
