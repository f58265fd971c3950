// Numbers as line protocol writes them: decimal integers and floats, read strictly and written
// so that they read back to the same value.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace sluice::lineproto {

enum class NumberStatus { kOk, kSyntax, kOutOfRange };

// An optional '-' and one or more decimal digits (leading zeros allowed), the whole of
// [begin, end), within int64.
NumberStatus parse_int64(const char* begin, const char* end, int64_t& out);

// One or more decimal digits, the whole of [begin, end), within uint64.
NumberStatus parse_uint64(const char* begin, const char* end, uint64_t& out);

// A decimal float, the whole of [begin, end): an optional '-', digits with an optional '.'
// (at least one digit on either side: "1", "1.", ".5", "1.5"), and an optional exponent
// ("e5", "E-3", "e+07"). No '+' sign, no hexadecimal, no "inf" or "nan". The value is correctly
// rounded; a magnitude too large for a double is out of range, one too small becomes zero.
NumberStatus parse_float(const char* begin, const char* end, double& out);

// Writes `value` (finite) as the shortest text that reads back to the same double, laid out as
// Go's strconv 'g' format with shortest precision (the reference encoder's form): plain decimal
// when the decimal exponent is in [-4, 6), scientific with a signed two-digit-or-more exponent
// otherwise ("98.2", "0.0001", "6.632243e+06", "1e-05", "5e-324"). Needs 32 bytes of room and
// returns the end of what it wrote.
char* format_float(double value, char* out);

inline constexpr size_t kMaxFloatChars = 32;

namespace detail {

static_assert(std::endian::native == std::endian::little,
              "the eight-digit readers assume a little-endian load");

// Eight ASCII digits at once (SWAR), from a little-endian load: whether the word holds only
// '0'..'9' (adding 6 carries any byte above '9' into the high nibble, which must then read 3),
// and its value (neighbouring digits combine into 2-digit, 4-digit, then the 8-digit number).
inline bool is_eight_digits(uint64_t word) {
  return ((word & 0xF0F0F0F0F0F0F0F0ULL) |
          (((word + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) == 0x3333333333333333ULL;
}

inline uint64_t eight_digits_value(uint64_t word) {
  word = ((word & 0x0F0F0F0F0F0F0F0FULL) * (10 * 256 + 1)) >> 8;
  word = ((word & 0x00FF00FF00FF00FFULL) * (100 * 65536 + 1)) >> 16;
  return ((word & 0x0000FFFF0000FFFFULL) * (10000ULL * (1ULL << 32) + 1)) >> 32;
}

}  // namespace detail

// Writes a decimal integer; needs 20 bytes of room (21 for int64 with its sign).
char* format_int64(int64_t value, char* out);
char* format_uint64(uint64_t value, char* out);

}  // namespace sluice::lineproto
