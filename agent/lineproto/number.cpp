#include "lineproto/number.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

namespace sluice::lineproto {
namespace {

inline bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// Exact powers of ten representable in a double, for the exact fast path of parse_float.
constexpr double kExactPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// Two decimal digits per entry, for writing integers two digits at a time.
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

}  // namespace

NumberStatus parse_uint64(const char* begin, const char* end, uint64_t& out) {
  if (begin == end) return NumberStatus::kSyntax;
  uint64_t value = 0;
  // Up to 19 digits cannot overflow: no checks but the digit test.
  if (end - begin <= 19) {
    const char* p = begin;
    while (end - p >= 8) {
      uint64_t word;
      std::memcpy(&word, p, 8);
      if (!detail::is_eight_digits(word)) return NumberStatus::kSyntax;
      value = value * 100'000'000 + detail::eight_digits_value(word);
      p += 8;
    }
    for (; p < end; ++p) {
      const auto digit = static_cast<unsigned char>(*p - '0');
      if (digit > 9) return NumberStatus::kSyntax;
      value = value * 10 + digit;
    }
    out = value;
    return NumberStatus::kOk;
  }
  bool overflow = false;
  for (const char* p = begin; p < end; ++p) {
    if (!is_digit(*p)) return NumberStatus::kSyntax;
    const auto digit = static_cast<uint64_t>(*p - '0');
    // Keep scanning after an overflow: a later non-digit makes it a syntax error instead.
    if (__builtin_mul_overflow(value, uint64_t{10}, &value) ||
        __builtin_add_overflow(value, digit, &value)) {
      overflow = true;
    }
  }
  if (overflow) return NumberStatus::kOutOfRange;
  out = value;
  return NumberStatus::kOk;
}

NumberStatus parse_int64(const char* begin, const char* end, int64_t& out) {
  const bool negative = begin < end && *begin == '-';
  uint64_t magnitude = 0;
  const NumberStatus status = parse_uint64(begin + (negative ? 1 : 0), end, magnitude);
  if (status != NumberStatus::kOk) return status;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (magnitude > limit) return NumberStatus::kOutOfRange;
  out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return NumberStatus::kOk;
}

NumberStatus parse_float(const char* begin, const char* end, double& out) {
  const char* p = begin;
  const bool negative = p < end && *p == '-';
  if (negative) ++p;

  // Gather up to 19 significant digits into `mantissa` and the power of ten that scales them;
  // digits beyond that only matter to the slow path.
  uint64_t mantissa = 0;
  int significant = 0;
  int64_t exponent = 0;
  bool any_digit = false;
  bool inexact = false;  // a nonzero digit did not fit in the mantissa
  while (p < end && *p == '0') {
    any_digit = true;
    ++p;
  }
  for (; p < end && is_digit(*p); ++p) {
    any_digit = true;
    if (significant < 19) {
      mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
      ++significant;
    } else {
      ++exponent;
      inexact |= *p != '0';
    }
  }
  if (p < end && *p == '.') {
    ++p;
    if (significant == 0) {
      for (; p < end && *p == '0'; ++p) {
        any_digit = true;
        --exponent;
      }
    }
    for (; p < end && is_digit(*p); ++p) {
      any_digit = true;
      if (significant < 19) {
        mantissa = mantissa * 10 + static_cast<uint64_t>(*p - '0');
        ++significant;
        --exponent;
      } else {
        inexact |= *p != '0';
      }
    }
  }
  if (!any_digit) return NumberStatus::kSyntax;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exponent_negative = false;
    if (p < end && (*p == '+' || *p == '-')) {
      exponent_negative = *p == '-';
      ++p;
    }
    if (p == end || !is_digit(*p)) return NumberStatus::kSyntax;
    int64_t written = 0;
    for (; p < end && is_digit(*p); ++p) {
      // Saturate: anything this large is out of range or zero either way.
      if (written < 100'000'000) written = written * 10 + (*p - '0');
    }
    exponent += exponent_negative ? -written : written;
  }
  if (p != end) return NumberStatus::kSyntax;

  if (mantissa == 0 && !inexact) {
    out = negative ? -0.0 : 0.0;
    return NumberStatus::kOk;
  }
  // Exact fast path (Clinger): a mantissa that a double holds exactly, scaled by an exact power
  // of ten, is correctly rounded by one multiplication or division.
  if (!inexact && mantissa <= (uint64_t{1} << 53) && exponent >= -22 && exponent <= 22) {
    double value = static_cast<double>(mantissa);
    value =
        exponent < 0 ? value / kExactPowersOfTen[-exponent] : value * kExactPowersOfTen[exponent];
    out = negative ? -value : value;
    return NumberStatus::kOk;
  }
  // The text is known to be a plain decimal here, which from_chars reads with correct rounding.
  double value = 0;
  const auto result = std::from_chars(begin, end, value, std::chars_format::general);
  if (result.ec == std::errc::result_out_of_range) {
    // The decimal exponent of the leading digit tells overflow from underflow.
    if (significant + exponent > 0) return NumberStatus::kOutOfRange;
    out = negative ? -0.0 : 0.0;
    return NumberStatus::kOk;
  }
  if (result.ec != std::errc() || result.ptr != end) return NumberStatus::kSyntax;
  out = value;
  return NumberStatus::kOk;
}

namespace {

// Writes the two digits of value < 100.
inline char* put_two_digits(char* out, uint32_t value) {
  std::memcpy(out, kDigitPairs + value * 2, 2);
  return out + 2;
}

// The eight ASCII digits of value < 100'000'000, with leading zeros, as a little-endian word
// (the first digit in the lowest byte), computed in registers: split into two four-digit
// halves, each half into two pairs, each pair into two digits, every lane at once. Digits
// written as bytes and read back as a word would stall on store forwarding.
inline uint64_t eight_digits_word(uint32_t value) {
  uint64_t x = (value / 10000) | (uint64_t{value % 10000} << 32);
  // Lanes of 32 bits, each < 10000: n / 100 as (n * 5243) >> 19.
  uint64_t high = ((x * 5243) >> 19) & 0x0000007F0000007FULL;
  x = high | ((x - high * 100) << 16);
  // Lanes of 16 bits, each < 100: n / 10 as (n * 103) >> 10.
  high = ((x * 103) >> 10) & 0x000F000F000F000FULL;
  x = high | ((x - high * 10) << 8);
  return x | 0x3030303030303030ULL;
}

// Writes value < 100'000'000 as exactly eight digits, with leading zeros.
inline char* put_eight_digits(char* out, uint32_t value) {
  const uint64_t word = eight_digits_word(value);
  std::memcpy(out, &word, 8);
  return out + 8;
}

// Writes value (0 < value < 100'000'000) without leading zeros. Stores a fixed eight bytes
// (cheaper than a variable-length copy), so the caller leaves eight bytes of room and the
// buffer has slack.
inline char* put_up_to_eight_digits(char* out, uint32_t value) {
  uint64_t word = eight_digits_word(value);
  // Each '0' byte turns to zero; the first digit is the lowest byte.
  const int leading_zeros = __builtin_ctzll(word ^ 0x3030303030303030ULL) / 8;
  word >>= 8 * leading_zeros;
  std::memcpy(out, &word, 8);
  return out + (8 - leading_zeros);
}

}  // namespace

char* format_uint64(uint64_t value, char* out) {
  if (value < 100) {
    if (value < 10) {
      *out = static_cast<char>('0' + value);
      return out + 1;
    }
    return put_two_digits(out, static_cast<uint32_t>(value));
  }
  if (value < 100'000'000) return put_up_to_eight_digits(out, static_cast<uint32_t>(value));
  const uint64_t low = value % 100'000'000;
  const uint64_t rest = value / 100'000'000;
  if (rest < 100'000'000) {
    out = put_up_to_eight_digits(out, static_cast<uint32_t>(rest));
  } else {
    out = put_up_to_eight_digits(out, static_cast<uint32_t>(rest / 100'000'000));
    out = put_eight_digits(out, static_cast<uint32_t>(rest % 100'000'000));
  }
  return put_eight_digits(out, static_cast<uint32_t>(low));
}

char* format_int64(int64_t value, char* out) {
  if (value < 0) {
    *out++ = '-';
    return format_uint64(0 - static_cast<uint64_t>(value), out);
  }
  return format_uint64(static_cast<uint64_t>(value), out);
}

namespace {

// The fast path of format_float for the common values of metrics: those that at most nine
// decimals write exactly enough to read back, in the plain-decimal range. The test of reading
// back is exact: the parser computes m / 10^k correctly rounded, as the division here does.
//
// One candidate is enough. If some m / 10^k with k <= 9 reads back as the value, so does
// m * 10^(9-k) / 10^9, and below 10^6 no other integer over 10^9 does (they are 10^-9 apart,
// more than a unit in the last place), so that integer is value * 10^9 rounded: the product is
// below 2^53 and within 0.2 of it. Its trailing zeros give the fewest decimals, and its digits
// are those of the shortest round trip. Returns nullptr to leave the value to the general path.
//
// The integer part and all nine decimals are written with fixed-size stores and the trailing
// zeros cut afterwards: no loop whose length depends on the value, whose branches the processor
// would mispredict from one metric to the next.
char* format_simple_float(double value, char* out) {
  const double magnitude = std::fabs(value);
  if (!(magnitude >= 1e-4 && magnitude < 1e6)) return nullptr;
  const auto m = static_cast<uint64_t>(magnitude * 1e9 + 0.5);
  if (static_cast<double>(m) / 1e9 != magnitude) return nullptr;
  if (value < 0) *out++ = '-';
  out = format_uint64(m / 1'000'000'000, out);
  const auto decimals = static_cast<uint32_t>(m % 1'000'000'000);
  if (decimals == 0) return out;
  out[0] = '.';
  out[1] = static_cast<char>('0' + decimals / 100'000'000);
  const uint64_t last_eight = eight_digits_word(decimals % 100'000'000);
  std::memcpy(out + 2, &last_eight, 8);
  const uint64_t nonzero = last_eight ^ 0x3030303030303030ULL;
  // Little-endian: the last digit is the highest byte. With the last eight all zero, the first
  // decimal is not (decimals != 0).
  const int kept = nonzero == 0 ? 0 : 8 - __builtin_clzll(nonzero) / 8;
  return out + 2 + kept;
}

}  // namespace

char* format_float(double value, char* out) {
  if (value == 0) {
    if (std::signbit(value)) *out++ = '-';
    *out = '0';
    return out + 1;
  }
  if (char* end = format_simple_float(value, out)) return end;

  // The shortest round-trip digits come from to_chars in scientific form: [-]d[.ddd]e±XX.
  char sci[kMaxFloatChars];
  const auto result = std::to_chars(sci, sci + sizeof(sci), value, std::chars_format::scientific);
  const char* p = sci;
  const char* sci_end = result.ptr;
  const char* e = p;
  while (*e != 'e') ++e;
  int exponent = 0;
  {
    const char* q = e + 1;
    const bool negative = *q == '-';
    ++q;  // to_chars always writes the exponent's sign
    for (; q < sci_end; ++q) exponent = exponent * 10 + (*q - '0');
    if (negative) exponent = -exponent;
  }
  if (exponent < -4 || exponent >= 6) {
    const auto n = static_cast<size_t>(sci_end - sci);
    std::memcpy(out, sci, n);
    return out + n;
  }
  // Plain decimal: gather the digits without the point and place the point by the exponent.
  if (*p == '-') {
    *out++ = '-';
    ++p;
  }
  char digits[20];
  int count = 0;
  for (; p < e; ++p) {
    if (*p != '.') digits[count++] = *p;
  }
  if (exponent < 0) {
    *out++ = '0';
    *out++ = '.';
    for (int i = -1; i > exponent; --i) *out++ = '0';
    std::memcpy(out, digits, static_cast<size_t>(count));
    return out + count;
  }
  const int integer_digits = exponent + 1;
  if (count <= integer_digits) {
    std::memcpy(out, digits, static_cast<size_t>(count));
    out += count;
    for (int i = count; i < integer_digits; ++i) *out++ = '0';
    return out;
  }
  std::memcpy(out, digits, static_cast<size_t>(integer_digits));
  out += integer_digits;
  *out++ = '.';
  std::memcpy(out, digits + integer_digits, static_cast<size_t>(count - integer_digits));
  return out + (count - integer_digits);
}

}  // namespace sluice::lineproto
