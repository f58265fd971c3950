#include "core/http_retry_after.hpp"

#include <time.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>

namespace sluice::core {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// An HTTP-date as seconds since the epoch. strptime reads the month and day names in the C
// locale's spelling, which is the one HTTP uses; the time is UTC ("GMT") in every form.
std::optional<int64_t> parse_http_date(std::string_view value) {
  static constexpr const char* kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate, the one servers must send
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
      "%a %b %e %H:%M:%S %Y",       // asctime
  };
  std::string text(value);
  for (const char* format : kFormats) {
    tm parts{};
    const char* end = strptime(text.c_str(), format, &parts);
    if (end == nullptr || *end != '\0') continue;
    return static_cast<int64_t>(timegm(&parts));
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (value.empty()) return std::nullopt;
  if (value.front() >= '0' && value.front() <= '9') {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    // A day is more than any server means; it also keeps the nanoseconds from overflowing.
    constexpr uint64_t kMaxSeconds = 86400;
    return std::chrono::seconds(std::min(seconds, kMaxSeconds));
  }
  std::optional<int64_t> at = parse_http_date(value);
  if (!at) return std::nullopt;
  auto delay = std::chrono::system_clock::time_point(std::chrono::seconds(*at)) - now;
  if (delay.count() < 0) return std::chrono::nanoseconds(0);
  return std::min(std::chrono::duration_cast<std::chrono::nanoseconds>(delay),
                  std::chrono::nanoseconds(std::chrono::hours(24)));
}

}  // namespace sluice::core
