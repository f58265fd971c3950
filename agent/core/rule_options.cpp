#include "core/rule_options.hpp"

#include <charconv>

namespace sluice::core {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

template <typename T>
bool read_number(std::string_view text, T& out) {
  text = trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

const std::string* RuleMap::find(std::string_view key) const {
  for (const auto& [k, v] : map_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string RuleMap::get(std::string_view key, std::string_view fallback) const {
  const std::string* v = find(key);
  return v != nullptr ? *v : std::string(fallback);
}

std::string RuleMap::require(std::string_view key) const {
  const std::string* v = find(key);
  if (v == nullptr || v->empty()) fail("\"" + std::string(key) + "\" is required");
  return *v;
}

double RuleMap::get_float(std::string_view key, double fallback) const {
  const std::string* v = find(key);
  if (v == nullptr) return fallback;
  double out = 0;
  if (!read_number(*v, out))
    fail("\"" + std::string(key) + "\" must be a number, not \"" + *v + "\"");
  return out;
}

int64_t RuleMap::get_int(std::string_view key, int64_t fallback) const {
  const std::string* v = find(key);
  if (v == nullptr) return fallback;
  int64_t out = 0;
  if (!read_number(*v, out)) {
    fail("\"" + std::string(key) + "\" must be an integer, not \"" + *v + "\"");
  }
  return out;
}

bool RuleMap::get_bool(std::string_view key, bool fallback) const {
  const std::string* v = find(key);
  if (v == nullptr) return fallback;
  if (*v == "true" || *v == "True" || *v == "TRUE") return true;
  if (*v == "false" || *v == "False" || *v == "FALSE") return false;
  fail("\"" + std::string(key) + "\" must be true or false, not \"" + *v + "\"");
}

std::vector<std::string> RuleMap::get_list(std::string_view key) const {
  const std::string* v = find(key);
  return v != nullptr ? split_list(*v) : std::vector<std::string>{};
}

void RuleMap::allow_only(std::initializer_list<std::string_view> allowed,
                         std::string_view allowed_prefix) const {
  for (const auto& [k, v] : map_) {
    bool ok = !allowed_prefix.empty() && k.size() > allowed_prefix.size() &&
              std::string_view(k).substr(0, allowed_prefix.size()) == allowed_prefix;
    for (std::string_view a : allowed) ok = ok || k == a;
    if (ok) continue;
    std::string expected;
    for (std::string_view a : allowed) {
      if (!expected.empty()) expected += ", ";
      expected += a;
    }
    if (!allowed_prefix.empty()) expected += ", " + std::string(allowed_prefix) + "<name>";
    fail("unknown key \"" + k + "\" (expected " + expected + ")");
  }
}

std::string_view RuleMap::require_one_of(std::initializer_list<std::string_view> keys) const {
  std::string_view found;
  std::string names;
  for (std::string_view k : keys) {
    if (!names.empty()) names += ", ";
    names += k;
    if (find(k) == nullptr) continue;
    if (!found.empty()) {
      fail("give only one of " + names.substr(0, names.rfind(',')) + " and " + std::string(k));
    }
    found = k;
  }
  if (found.empty()) fail("one of " + names + " is required");
  return found;
}

void RuleMap::fail(const std::string& message) const {
  throw OptionError(option_, "rule " + std::to_string(index_ + 1) + ": " + message);
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ',';
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && depth > 0) --depth;
    if (c == ',' && depth == 0) {
      std::string_view item = trim(text.substr(start, i - start));
      if (!item.empty()) out.emplace_back(item);
      start = i + 1;
    }
  }
  return out;
}

FieldValue parse_scalar(std::string_view text) {
  int64_t i = 0;
  auto [iptr, iec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (!text.empty() && iec == std::errc() && iptr == text.data() + text.size()) return i;
  double d = 0;
  auto [dptr, dec] = std::from_chars(text.data(), text.data() + text.size(), d);
  // "inf" and "nan" stay strings: a mapping to them is more likely a word than a number.
  bool alpha_start = !text.empty() && (text.front() == 'i' || text.front() == 'n' ||
                                       text.front() == 'I' || text.front() == 'N');
  if (!text.empty() && !alpha_start && dec == std::errc() && dptr == text.data() + text.size()) {
    return d;
  }
  if (text == "true") return true;
  if (text == "false") return false;
  return std::string(text);
}

}  // namespace sluice::core
