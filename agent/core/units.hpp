// Durations ("500ms", "1m30s") and sizes ("64MiB") as written in the config.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::core {

// Go-style durations: a sequence of number+unit (ns, us, µs, ms, s, m, h, d), e.g. "1h30m",
// "1.5s"; a bare integer is seconds, as Telegraf reads it. Negative durations are refused.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

// Sizes: a number with an optional unit: B, KB/MB/GB/TB (powers of 1000), KiB/MiB/GiB/TiB
// (powers of 1024); units are case-insensitive. A bare integer is bytes.
std::optional<uint64_t> parse_size(std::string_view text);

// The shortest readable form: "10s", "1m30s", "500ms", "0s".
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace sluice::core
