#include "naming.hpp"

#include <charconv>
#include <cmath>

namespace sluice::outputs::prometheus_client {
namespace {

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Length of the UTF-8 sequence that starts with byte `c` (1 for stray or ASCII bytes).
size_t sequence_length(unsigned char c) {
  if (c >= 0xF0 && c <= 0xF7) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

template <typename First, typename Rest>
std::optional<std::string> sanitize(std::string_view name, First valid_first, Rest valid_rest) {
  bool valid = !name.empty() && valid_first(name[0]);
  for (size_t i = 1; valid && i < name.size(); ++i) valid = valid_rest(name[i]);
  if (valid) return std::string(name);

  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size();) {
    char c = name[i];
    if (valid_rest(c)) {
      out.push_back(c);
      ++i;
    } else {
      out.push_back('_');
      i += std::min(sequence_length(static_cast<unsigned char>(c)), name.size() - i);
    }
  }
  size_t first = out.find_first_not_of('_');
  if (first == std::string::npos) return std::nullopt;
  size_t last = out.find_last_not_of('_');
  out = out.substr(first, last - first + 1);
  // Trimming may leave a digit in front, which no name may start with.
  if (!valid_first(out[0])) out.insert(out.begin(), '_');
  return out;
}

}  // namespace

std::optional<std::string> sanitize_metric_name(std::string_view name) {
  return sanitize(
      name, [](char c) { return is_letter(c) || c == ':'; },
      [](char c) { return is_letter(c) || is_digit(c) || c == ':'; });
}

std::optional<std::string> sanitize_label_name(std::string_view name) {
  return sanitize(
      name, [](char c) { return is_letter(c); },
      [](char c) { return is_letter(c) || is_digit(c); });
}

std::string joined_family_name(std::string_view measurement, std::string_view field) {
  if (measurement == "prometheus") return std::string(field);
  std::string name;
  name.reserve(measurement.size() + 1 + field.size());
  name.append(measurement).append("_").append(field);
  return name;
}

std::string scalar_family_name(std::string_view measurement, std::string_view field,
                               ValueType type) {
  if (measurement == "prometheus") return std::string(field);
  if (field == "value" || (type == ValueType::kCounter && field == "counter") ||
      (type == ValueType::kGauge && field == "gauge")) {
    return std::string(measurement);
  }
  return joined_family_name(measurement, field);
}

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

void append_float(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, end);
  }
}

std::optional<double> parse_bound(std::string_view text) {
  if (!text.empty() && text[0] == '+') {
    text.remove_prefix(1);
    if (!text.empty() && text[0] == '-') return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (std::isnan(value)) return std::nullopt;  // orders nothing
  return value;
}

}  // namespace sluice::outputs::prometheus_client
