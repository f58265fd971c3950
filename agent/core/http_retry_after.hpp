// The Retry-After header of HTTP answers (RFC 9110 section 10.2.3).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace sluice::core {

// The delay that a Retry-After value asks for: delay-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2015 07:28:00 GMT", also the obsolete RFC 850 and asctime forms), counted
// from `now`. A date in the past means no delay (0). nullopt when the value is neither.
std::optional<std::chrono::nanoseconds> parse_retry_after(
    std::string_view value, std::chrono::system_clock::time_point now);

}  // namespace sluice::core
