// Building request URLs: a server's base URL, an API path and query parameters.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::core {

// Percent-encodes everything but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string url_encode(std::string_view text);

// True for "http://host..." and "https://host..." (scheme in any case, a host present).
bool is_http_url(std::string_view url);

// The base URL (which may carry a path prefix, e.g. behind a proxy) with `path` appended:
// ("http://h:8086", "/write") and ("http://h:8086/", "write") both give "http://h:8086/write".
std::string join_url(std::string_view base, std::string_view path);

// Appends "?k=v&k2=v2" with encoded values; parameters with an empty value are left out.
std::string with_query(std::string url,
                       const std::vector<std::pair<std::string_view, std::string_view>>& params);

}  // namespace sluice::core
