#include "core/http_url.hpp"

#include <cctype>

namespace sluice::core {

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

bool is_http_url(std::string_view url) {
  auto starts_with_ci = [&](std::string_view prefix) {
    if (url.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(url[i])) != prefix[i]) return false;
    }
    return true;
  };
  size_t host = 0;
  if (starts_with_ci("http://")) {
    host = 7;
  } else if (starts_with_ci("https://")) {
    host = 8;
  } else {
    return false;
  }
  return url.size() > host && url[host] != '/';
}

std::string join_url(std::string_view base, std::string_view path) {
  std::string out(base);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (!path.empty() && path.front() != '/') out += '/';
  out += path;
  return out;
}

std::string with_query(std::string url,
                       const std::vector<std::pair<std::string_view, std::string_view>>& params) {
  char sep = url.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    url += sep;
    url += key;
    url += '=';
    url += url_encode(value);
    sep = '&';
  }
  return url;
}

}  // namespace sluice::core
