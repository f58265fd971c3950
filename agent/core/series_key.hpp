// The identity of a series, a measurement name with its tags, as one flat string:
// "name\0key\0value\0key\0value" (tags sorted, as a Metric keeps them). Aggregation looks a
// series up for every metric, so the hash and the comparison read the metric's own name and
// tags in place: finding a known series builds no key and allocates nothing.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "sluice/metric.hpp"

namespace sluice::core {

namespace series_key_detail {

inline uint64_t mix(uint64_t h, uint64_t v) {
  h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 29);
}

// Eight bytes at a time; the length goes into the last word, so that moving bytes from one
// part to the next ("ab" "c" against "a" "bc") changes the hash.
inline uint64_t hash_text(uint64_t h, std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = mix(h, word);
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < n; ++i)
    tail |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return mix(h, tail ^ (static_cast<uint64_t>(s.size()) << 56));
}

}  // namespace series_key_detail

// The hash of a metric's series; the same for every metric of the series.
inline uint64_t series_hash(const Metric& metric) {
  using series_key_detail::hash_text;
  uint64_t h = hash_text(0x243F6A8885A308D3ULL, metric.name());
  for (const TagRef t : metric.tags()) h = hash_text(hash_text(h, t.key), t.value);
  return h;
}

// Whether `key` is the metric's series key, read part by part.
inline bool series_key_matches(std::string_view key, const Metric& metric) {
  size_t pos = 0;
  auto take = [&](std::string_view part) {
    if (key.size() - pos < part.size() ||
        std::memcmp(key.data() + pos, part.data(), part.size()) != 0) {
      return false;
    }
    pos += part.size();
    return true;
  };
  auto separator = [&] {
    if (pos >= key.size() || key[pos] != '\0') return false;
    ++pos;
    return true;
  };
  if (!take(metric.name())) return false;
  for (const TagRef t : metric.tags()) {
    if (!separator() || !take(t.key) || !separator() || !take(t.value)) return false;
  }
  return pos == key.size();
}

// The metric's series key.
std::string series_key(const Metric& metric);

// A metric with the series' name and tags (from its key), `time` and `type`, and no fields.
Metric metric_of_series(std::string_view key, int64_t time, ValueType type);

}  // namespace sluice::core
