// The line protocol the end-to-end benches send: lines shaped like Telegraf's cpu input, with
// 3 tags, 4 float fields and a counter (~140 bytes each).
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice::bench {

// `count` lines, the i-th of which is numbered first + i (its seq field and timestamp).
inline std::string cpu_lines(size_t count, size_t first = 0) {
  std::string out;
  out.reserve(count * 150);
  for (size_t i = first; i < first + count; ++i) {
    out += fmt::format(
        "cpu,cpu=cpu{},host=host{},region=eu-west usage_user={},usage_system={},"
        "usage_idle={},usage_iowait=0.125,seq={}i {}\n",
        i % 8, (i / 8) % 100, 10.0 + static_cast<double>(i % 1000) / 8.0,
        3.25 + static_cast<double>(i % 97) / 16.0, 80.5 - static_cast<double>(i % 50) / 4.0, i,
        1'700'000'000'000'000'000 + static_cast<int64_t>(i) * 1000);
  }
  return out;
}

}  // namespace sluice::bench
