// UTF-8 checks. Line protocol requires every name, key and string value to be valid UTF-8.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sluice::lineproto::detail {

// True when no byte of [begin, end) has its high bit set, i.e. the text is plain ASCII.
inline bool is_ascii(const char* begin, const char* end) {
  uint64_t acc = 0;
  while (end - begin >= 8) {
    uint64_t word;
    std::memcpy(&word, begin, 8);
    acc |= word;
    begin += 8;
  }
  while (begin < end) acc |= static_cast<unsigned char>(*begin++);
  return (acc & 0x8080808080808080ULL) == 0;
}

// The length of the valid UTF-8 sequence starting at `p` (whose first byte has the high bit
// set), or 0 when it is not one. Rejects overlong forms, surrogates and code points past
// U+10FFFF, as Go's utf8.Valid does.
inline size_t utf8_sequence_length(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  const ptrdiff_t left = end - p;
  auto cont = [](unsigned char b) { return (b & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) {
    return left >= 2 && cont(p[1]) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(p[1]) || !cont(p[2])) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && p[1] > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(p[1]) || !cont(p[2]) || !cont(p[3])) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && p[1] > 0x8F) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

inline bool is_valid_utf8(const char* begin, const char* end) {
  auto p = reinterpret_cast<const unsigned char*>(begin);
  auto e = reinterpret_cast<const unsigned char*>(end);
  while (p < e) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    const size_t n = utf8_sequence_length(p, e);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

// Valid UTF-8, with a fast answer for plain ASCII.
inline bool is_valid_text(const char* begin, const char* end) {
  return is_ascii(begin, end) || is_valid_utf8(begin, end);
}

}  // namespace sluice::lineproto::detail
