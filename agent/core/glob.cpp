#include "core/glob.hpp"

#include <algorithm>

namespace sluice::core {
namespace {

// Expands the first {a,b} group recursively: "x{a,b}y" -> "xay", "xby".
void expand_braces(const std::string& pattern, std::vector<std::string>& out) {
  size_t open = pattern.find('{');
  if (open == std::string::npos) {
    out.push_back(pattern);
    return;
  }
  int depth = 0;
  size_t close = std::string::npos;
  std::vector<size_t> commas;
  for (size_t i = open; i < pattern.size(); ++i) {
    if (pattern[i] == '{') ++depth;
    if (pattern[i] == '}' && --depth == 0) {
      close = i;
      break;
    }
    if (pattern[i] == ',' && depth == 1) commas.push_back(i);
  }
  if (close == std::string::npos) {  // unbalanced: take it literally
    out.push_back(pattern);
    return;
  }
  std::string head = pattern.substr(0, open);
  std::string tail = pattern.substr(close + 1);
  size_t start = open + 1;
  commas.push_back(close);
  for (size_t comma : commas) {
    expand_braces(head + pattern.substr(start, comma - start) + tail, out);
    start = comma + 1;
  }
}

bool has_meta(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

// Matches a [...] class at pattern[p] against c; sets p past the class.
bool match_class(std::string_view pattern, size_t& p, char c, bool& valid) {
  size_t i = p + 1;
  bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negate) ++i;
  bool matched = false;
  bool first = true;
  while (i < pattern.size() && (pattern[i] != ']' || first)) {
    first = false;
    char lo = pattern[i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      i += 2;
    }
    if (c >= lo && c <= hi) matched = true;
    ++i;
  }
  valid = i < pattern.size();
  p = i + 1;
  return matched != negate;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        size_t next = p;
        bool valid = false;
        bool ok = match_class(pattern, next, text[t], valid);
        if (!valid) ok = text[t] == '[', next = p + 1;  // a lone '[' is literal
        if (ok) {
          p = next;
          ++t;
          continue;
        }
      } else if (pc == '\\' && p + 1 < pattern.size() && pattern[p + 1] == text[t]) {
        p += 2;
        ++t;
        continue;
      } else if (pc == text[t]) {
        ++p;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;  // let the last star swallow one more character
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

GlobSet::GlobSet(const std::vector<std::string>& patterns) {
  for (const std::string& pattern : patterns) {
    std::vector<std::string> expanded;
    expand_braces(pattern, expanded);
    for (std::string& e : expanded) {
      if (!has_meta(e) && e.find('\\') == std::string::npos) {
        exact_.push_back(std::move(e));
      } else if (e.size() > 1 && e.back() == '*' && !has_meta(std::string_view(e).substr(0, e.size() - 1)) &&
                 e.find('\\') == std::string::npos) {
        e.pop_back();
        prefixes_.push_back(std::move(e));
      } else {
        patterns_.push_back(std::move(e));
      }
    }
  }
}

bool GlobSet::matches(std::string_view text) const {
  for (const std::string& e : exact_) {
    if (e == text) return true;
  }
  for (const std::string& prefix : prefixes_) {
    if (text.starts_with(prefix)) return true;
  }
  return std::any_of(patterns_.begin(), patterns_.end(),
                     [&](const std::string& p) { return glob_match(p, text); });
}

}  // namespace sluice::core
