// Timestamp precision of line protocol: the unit in which a line's timestamp is written.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sluice::lineproto {

enum class Precision { kNanosecond, kMicrosecond, kMillisecond, kSecond };

// Accepts "ns", "us", "µs", "ms", "s", and the same with a leading "1" ("1ns", "1µs", ...), the
// spellings of InfluxDB's precision parameter and of Go durations. Both the micro sign (U+00B5)
// and the Greek small mu (U+03BC) are taken for "µ", since both occur in the wild.
std::optional<Precision> parse_precision(std::string_view text);

// "ns", "us", "ms" or "s".
std::string_view precision_name(Precision precision);

// The length of one unit of the precision in nanoseconds: 1, 1000, 1000000 or 1000000000.
constexpr int64_t precision_nanoseconds(Precision precision) {
  switch (precision) {
    case Precision::kNanosecond:
      return 1;
    case Precision::kMicrosecond:
      return 1'000;
    case Precision::kMillisecond:
      return 1'000'000;
    case Precision::kSecond:
      return 1'000'000'000;
  }
  return 1;
}

// The precision whose unit is exactly `nanoseconds` long, if there is one.
std::optional<Precision> precision_from_nanoseconds(int64_t nanoseconds);

// Rounds a time in nanoseconds down (toward the past) to a whole number of precision units and
// returns that number. Rounding down rather than toward zero keeps every unit equally long on both
// sides of the epoch, and matches how the reference decoder truncates default times.
constexpr int64_t to_precision_units(int64_t time_ns, Precision precision) {
  const int64_t unit = precision_nanoseconds(precision);
  int64_t units = time_ns / unit;
  if (time_ns % unit < 0) --units;
  return units;
}

// `time_ns` rounded down to a whole number of precision units, still in nanoseconds.
constexpr int64_t truncate_to_precision(int64_t time_ns, Precision precision) {
  return to_precision_units(time_ns, precision) * precision_nanoseconds(precision);
}

}  // namespace sluice::lineproto
