#include "config/env_subst.hpp"

#include <cstdlib>

namespace sluice::config {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> substitute_env(std::string_view text, std::string& error) {
  if (text.find('$') == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      error = "unterminated ${ in \"" + std::string(text) + "\"";
      return std::nullopt;
    }
    std::string_view ref = text.substr(i + 2, close - i - 2);
    std::string_view name = ref;
    std::optional<std::string_view> fallback;
    if (size_t sep = ref.find(":-"); sep != std::string_view::npos) {
      name = ref.substr(0, sep);
      fallback = ref.substr(sep + 2);
    }
    if (!valid_name(name)) {
      error = "bad environment variable name \"" + std::string(name) + "\" in ${" +
              std::string(ref) + "}";
      return std::nullopt;
    }
    const char* value = std::getenv(std::string(name).c_str());
    if (value != nullptr && (*value != '\0' || !fallback)) {
      out += value;
    } else if (fallback) {
      out += *fallback;
    } else {
      error = "environment variable " + std::string(name) +
              " is not set (write ${" + std::string(name) + ":-default} to give a default)";
      return std::nullopt;
    }
    i = close + 1;
  }
  return out;
}

}  // namespace sluice::config
