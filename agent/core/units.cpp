#include "core/units.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

namespace sluice::core {
namespace {

struct Unit {
  std::string_view suffix;
  double scale;
};

// Longest suffixes first, so "ms" is not read as "m".
constexpr std::array<Unit, 8> kDurationUnits = {{{"ns", 1},
                                                 {"us", 1e3},
                                                 {"\xC2\xB5s", 1e3},  // µs
                                                 {"ms", 1e6},
                                                 {"s", 1e9},
                                                 {"m", 60e9},
                                                 {"h", 3600e9},
                                                 {"d", 86400e9}}};

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Reads a non-negative decimal number ("12", "1.5", ".5") from the front of `s`.
std::optional<double> take_number(std::string_view& s) {
  size_t n = 0;
  bool digits = false;
  while (n < s.size() && ((s[n] >= '0' && s[n] <= '9') || s[n] == '.')) {
    digits |= s[n] != '.';
    ++n;
  }
  if (!digits) return std::nullopt;
  double value = 0;
  std::string_view number = s.substr(0, n);
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || ptr != number.data() + number.size()) return std::nullopt;
  s.remove_prefix(n);
  return value;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  if (all_digits(text)) {
    int64_t seconds = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || seconds > INT64_MAX / 1000000000) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  double total = 0;
  while (!text.empty()) {
    auto number = take_number(text);
    if (!number) return std::nullopt;
    const Unit* unit = nullptr;
    for (const Unit& u : kDurationUnits) {
      if (text.starts_with(u.suffix) &&
          // "m" must not swallow the start of "ms".
          !(u.suffix == "m" && text.starts_with("ms"))) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return std::nullopt;
    text.remove_prefix(unit->suffix.size());
    total += *number * unit->scale;
  }
  if (total > 9.2e18) return std::nullopt;
  return std::chrono::nanoseconds(static_cast<int64_t>(std::llround(total)));
}

std::optional<uint64_t> parse_size(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  auto number = take_number(text);
  if (!number) return std::nullopt;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  std::string unit;
  for (char c : text) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::array<std::pair<std::string_view, double>, 10> kUnits = {{
      {"", 1},
      {"b", 1},
      {"kb", 1e3},
      {"mb", 1e6},
      {"gb", 1e9},
      {"tb", 1e12},
      {"kib", 1024.0},
      {"mib", 1024.0 * 1024},
      {"gib", 1024.0 * 1024 * 1024},
      {"tib", 1024.0 * 1024 * 1024 * 1024},
  }};
  for (const auto& [suffix, scale] : kUnits) {
    if (unit == suffix) {
      double bytes = *number * scale;
      if (bytes > 1.8e19) return std::nullopt;
      return static_cast<uint64_t>(std::llround(bytes));
    }
  }
  return std::nullopt;
}

std::string format_duration(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  if (ns % 1000000000 != 0 && ns < 1000000000) {
    if (ns % 1000000 == 0) return out + std::to_string(ns / 1000000) + "ms";
    if (ns % 1000 == 0) return out + std::to_string(ns / 1000) + "us";
    return out + std::to_string(ns) + "ns";
  }
  int64_t seconds = ns / 1000000000;
  int64_t rest = ns % 1000000000;
  if (int64_t h = seconds / 3600; h > 0) out += std::to_string(h) + "h";
  if (int64_t m = seconds / 60 % 60; m > 0) out += std::to_string(m) + "m";
  if (int64_t s = seconds % 60; s > 0 || rest > 0 || out.empty() || out == "-") {
    out += std::to_string(s);
    if (rest > 0) {
      std::string frac = std::to_string(rest + 1000000000).substr(1);
      while (frac.back() == '0') frac.pop_back();
      out += "." + frac;
    }
    out += "s";
  }
  return out;
}

}  // namespace sluice::core
