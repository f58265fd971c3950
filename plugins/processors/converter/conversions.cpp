#include "processors/converter/conversions.hpp"

#include <charconv>
#include <cmath>
#include <limits>

namespace sluice::processors::converter {

namespace {

// Go's ParseUint with base 0: an optional 0x/0o/0b/0 prefix, '_' between digits.
std::optional<uint64_t> parse_magnitude(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
    base = 8;
    s.remove_prefix(2);
  } else if (s.size() > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
    base = 2;
    s.remove_prefix(2);
  } else if (s.size() > 1 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty() || s.front() == '_' || s.back() == '_') return std::nullopt;
  std::string digits;
  std::string_view d = s;
  if (s.find('_') != std::string_view::npos) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '_') {
        if (s[i - 1] == '_') return std::nullopt;
        continue;
      }
      digits += s[i];
    }
    d = digits;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), v, base);
  if (ec != std::errc() || p != d.data() + d.size()) return std::nullopt;
  return v;
}

int64_t round_to_int(double v) {
  if (v < static_cast<double>(std::numeric_limits<int64_t>::min())) {
    return std::numeric_limits<int64_t>::min();
  }
  if (v >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(std::round(v));
}

uint64_t round_to_uint(double v) {
  if (v < 0) return 0;
  if (v >= 18446744073709551616.0) return std::numeric_limits<uint64_t>::max();
  return static_cast<uint64_t>(std::round(v));
}

}  // namespace

std::optional<int64_t> parse_integer(std::string_view s) {
  bool negative = false;
  std::string_view m = s;
  if (!m.empty() && (m[0] == '+' || m[0] == '-')) {
    negative = m[0] == '-';
    m.remove_prefix(1);
  }
  if (auto mag = parse_magnitude(m)) {
    if (!negative && *mag <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(*mag);
    }
    if (negative && *mag <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
      return static_cast<int64_t>(0 - *mag);
    }
  }
  auto f = parse_float(s);
  if (!f || std::isnan(*f)) return std::nullopt;
  return round_to_int(*f);
}

std::optional<uint64_t> parse_unsigned(std::string_view s) {
  std::string_view m = s;
  if (!m.empty() && m[0] == '+') m.remove_prefix(1);
  if (auto mag = parse_magnitude(m)) return *mag;
  auto f = parse_float(s);
  if (!f || std::isnan(*f)) return std::nullopt;
  return round_to_uint(*f);
}

std::optional<double> parse_float(std::string_view s) {
  std::string_view m = s;
  bool negative = false;
  if (!m.empty() && (m[0] == '+' || m[0] == '-')) {
    negative = m[0] == '-';
    m.remove_prefix(1);
  }
  if (m.empty() || m[0] == '+' || m[0] == '-') return std::nullopt;
  if (m.size() > 2 && m[0] == '0' && (m[1] == 'x' || m[1] == 'X')) {
    if (auto mag = parse_magnitude(m)) {
      double v = static_cast<double>(*mag);
      return negative ? -v : v;
    }
    return std::nullopt;
  }
  double v = 0;
  auto [p, ec] = std::from_chars(m.data(), m.data() + m.size(), v);
  if (p != m.data() + m.size()) return std::nullopt;
  // Out of range: Go's ParseFloat gives ±Inf with an error; the value is refused.
  if (ec != std::errc()) return std::nullopt;
  return negative ? -v : v;
}

std::optional<bool> parse_boolean(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return std::nullopt;
}

std::optional<int64_t> to_integer(const FieldValue& v) {
  switch (v.index()) {
    case 0: {
      double d = std::get<double>(v);
      if (std::isnan(d)) return std::nullopt;
      return round_to_int(d);
    }
    case 1:
      return std::get<int64_t>(v);
    case 2: {
      uint64_t u = std::get<uint64_t>(v);
      return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? std::numeric_limits<int64_t>::max()
                 : static_cast<int64_t>(u);
    }
    case 3:
      return std::get<bool>(v) ? 1 : 0;
    default:
      return parse_integer(std::get<std::string>(v));
  }
}

std::optional<uint64_t> to_unsigned(const FieldValue& v) {
  switch (v.index()) {
    case 0: {
      double d = std::get<double>(v);
      if (std::isnan(d)) return std::nullopt;
      return round_to_uint(d);
    }
    case 1: {
      int64_t i = std::get<int64_t>(v);
      return i < 0 ? 0 : static_cast<uint64_t>(i);
    }
    case 2:
      return std::get<uint64_t>(v);
    case 3:
      return std::get<bool>(v) ? 1 : 0;
    default:
      return parse_unsigned(std::get<std::string>(v));
  }
}

std::optional<double> to_float(const FieldValue& v) {
  switch (v.index()) {
    case 0:
      return std::get<double>(v);
    case 1:
      return static_cast<double>(std::get<int64_t>(v));
    case 2:
      return static_cast<double>(std::get<uint64_t>(v));
    case 3:
      return std::get<bool>(v) ? 1.0 : 0.0;
    default:
      return parse_float(std::get<std::string>(v));
  }
}

std::optional<bool> to_boolean(const FieldValue& v) {
  switch (v.index()) {
    case 0:
      return std::get<double>(v) != 0;
    case 1:
      return std::get<int64_t>(v) != 0;
    case 2:
      return std::get<uint64_t>(v) != 0;
    case 3:
      return std::get<bool>(v);
    default:
      return parse_boolean(std::get<std::string>(v));
  }
}

std::string to_text(const FieldValue& v) {
  char buf[512];
  switch (v.index()) {
    case 0: {
      double d = std::get<double>(v);
      if (std::isnan(d)) return "NaN";
      if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
      auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
      if (ec != std::errc()) return std::to_string(d);
      return std::string(buf, p);
    }
    case 1:
      return std::to_string(std::get<int64_t>(v));
    case 2:
      return std::to_string(std::get<uint64_t>(v));
    case 3:
      return std::get<bool>(v) ? "true" : "false";
    default:
      return std::get<std::string>(v);
  }
}

}  // namespace sluice::processors::converter
