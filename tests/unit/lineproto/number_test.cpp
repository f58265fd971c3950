#include "lineproto/number.hpp"

#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace lp = sluice::lineproto;
using lp::NumberStatus;

namespace {

NumberStatus int_status(std::string_view s, int64_t* value = nullptr) {
  int64_t v = 0;
  const NumberStatus status = lp::parse_int64(s.data(), s.data() + s.size(), v);
  if (value) *value = v;
  return status;
}

NumberStatus uint_status(std::string_view s, uint64_t* value = nullptr) {
  uint64_t v = 0;
  const NumberStatus status = lp::parse_uint64(s.data(), s.data() + s.size(), v);
  if (value) *value = v;
  return status;
}

NumberStatus float_status(std::string_view s, double* value = nullptr) {
  double v = 0;
  const NumberStatus status = lp::parse_float(s.data(), s.data() + s.size(), v);
  if (value) *value = v;
  return status;
}

std::string format(double v) {
  char buf[lp::kMaxFloatChars];
  return std::string(buf, lp::format_float(v, buf));
}

// The significant digits and the decimal exponent of a decimal text, to compare two texts of the
// same number written in different layouts.
std::pair<std::string, int> digits_and_exponent(const std::string& text) {
  std::string digits;
  int point = -1;
  int exponent = 0;
  size_t i = 0;
  if (text[i] == '-') ++i;
  for (; i < text.size() && text[i] != 'e'; ++i) {
    if (text[i] == '.') {
      point = static_cast<int>(digits.size());
    } else {
      digits += text[i];
    }
  }
  if (i < text.size()) exponent = std::stoi(text.substr(i + 1));
  if (point < 0) point = static_cast<int>(digits.size());
  size_t lead = 0;
  while (lead + 1 < digits.size() && digits[lead] == '0') ++lead;
  digits.erase(0, lead);
  point -= static_cast<int>(lead);
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  return {digits, exponent + point - 1};
}

}  // namespace

TEST_CASE("parse_int64 takes an optional '-' and digits within int64") {
  int64_t v = 0;
  CHECK(int_status("0", &v) == NumberStatus::kOk);
  CHECK(v == 0);
  CHECK(int_status("-0", &v) == NumberStatus::kOk);
  CHECK(int_status("9223372036854775807", &v) == NumberStatus::kOk);
  CHECK(v == std::numeric_limits<int64_t>::max());
  CHECK(int_status("-9223372036854775808", &v) == NumberStatus::kOk);
  CHECK(v == std::numeric_limits<int64_t>::min());
  CHECK(int_status("0009223372036854775807", &v) == NumberStatus::kOk);
  CHECK(v == std::numeric_limits<int64_t>::max());
  CHECK(int_status("12345678", &v) == NumberStatus::kOk);
  CHECK(v == 12345678);
  CHECK(int_status("1234567890123456789", &v) == NumberStatus::kOk);
  CHECK(v == 1234567890123456789);
  CHECK(int_status("9223372036854775808") == NumberStatus::kOutOfRange);
  CHECK(int_status("-9223372036854775809") == NumberStatus::kOutOfRange);
  CHECK(int_status("99999999999999999999999") == NumberStatus::kOutOfRange);
  CHECK(int_status("") == NumberStatus::kSyntax);
  CHECK(int_status("-") == NumberStatus::kSyntax);
  CHECK(int_status("+1") == NumberStatus::kSyntax);
  CHECK(int_status("--1") == NumberStatus::kSyntax);
  CHECK(int_status("1-") == NumberStatus::kSyntax);
  CHECK(int_status("1.0") == NumberStatus::kSyntax);
  CHECK(int_status("1_000") == NumberStatus::kSyntax);
  CHECK(int_status("1234567a") == NumberStatus::kSyntax);
  CHECK(int_status("12345678:") == NumberStatus::kSyntax);
  CHECK(int_status("1234567/9") == NumberStatus::kSyntax);
  // A syntax error is a syntax error even past an overflow.
  CHECK(int_status("99999999999999999999999x") == NumberStatus::kSyntax);
}

TEST_CASE("parse_uint64 takes digits only, within uint64") {
  uint64_t v = 0;
  CHECK(uint_status("18446744073709551615", &v) == NumberStatus::kOk);
  CHECK(v == std::numeric_limits<uint64_t>::max());
  CHECK(uint_status("0000", &v) == NumberStatus::kOk);
  CHECK(v == 0);
  CHECK(uint_status("18446744073709551616") == NumberStatus::kOutOfRange);
  CHECK(uint_status("-1") == NumberStatus::kSyntax);
  CHECK(uint_status("") == NumberStatus::kSyntax);
}

TEST_CASE("parse_float takes decimal floats in every layout") {
  double v = 0;
  CHECK(float_status("1", &v) == NumberStatus::kOk);
  CHECK(v == 1.0);
  CHECK(float_status("1.", &v) == NumberStatus::kOk);
  CHECK(v == 1.0);
  CHECK(float_status(".5", &v) == NumberStatus::kOk);
  CHECK(v == 0.5);
  CHECK(float_status("-.5", &v) == NumberStatus::kOk);
  CHECK(v == -0.5);
  CHECK(float_status("1e5", &v) == NumberStatus::kOk);
  CHECK(v == 1e5);
  CHECK(float_status("1.E+5", &v) == NumberStatus::kOk);
  CHECK(v == 1e5);
  CHECK(float_status("1.0e-4", &v) == NumberStatus::kOk);
  CHECK(v == 1e-4);
  CHECK(float_status("98.2", &v) == NumberStatus::kOk);
  CHECK(v == 98.2);
  CHECK(float_status("-0", &v) == NumberStatus::kOk);
  CHECK(std::signbit(v));
  CHECK(float_status("0.000000000000000000000000000001", &v) == NumberStatus::kOk);
  CHECK(v == 1e-30);
  CHECK(float_status("123456789012345678901234567890", &v) == NumberStatus::kOk);
  CHECK(v == 123456789012345678901234567890.0);
  CHECK(float_status("5e-324", &v) == NumberStatus::kOk);
  CHECK(v == 5e-324);
  CHECK(float_status("1.7976931348623157e308", &v) == NumberStatus::kOk);
  CHECK(v == std::numeric_limits<double>::max());
  // The 309-digit spelling of the largest double, as the corpus has it.
  const std::string max_digits =
      "17976931348623157081452742373170435679807056752584499659891747680315726078002853876058955"
      "86327668781715404589535143824642343213268894641827684675467035375169860499105765512820762"
      "45490090389328944075868508455133942304583236903222948165808559332123348274797826204144723"
      "168738177180919299881250404026184124858368";
  CHECK(float_status(max_digits, &v) == NumberStatus::kOk);
  CHECK(v == std::numeric_limits<double>::max());
  CHECK(float_status("1" + max_digits) == NumberStatus::kOutOfRange);
  CHECK(float_status("1e400") == NumberStatus::kOutOfRange);
  CHECK(float_status("-1e400") == NumberStatus::kOutOfRange);
  // Too small to represent rounds to zero, as strconv.ParseFloat does.
  CHECK(float_status("1e-400", &v) == NumberStatus::kOk);
  CHECK(v == 0.0);
  CHECK(float_status("-2e-324", &v) == NumberStatus::kOk);
  CHECK(v == 0.0);
  CHECK(std::signbit(v));
  CHECK(float_status("0e999999999999", &v) == NumberStatus::kOk);
  CHECK(v == 0.0);
}

TEST_CASE("parse_float rejects what is not a plain decimal") {
  for (const char* text :
       {"",     "-",      ".",     "-.",    "e5",  ".e5",  "1e",  "1e+", "1e-",
        "+1",   "1..2",   "1.2.3", "1e5.5", "inf", "-inf", "nan", "NaN", "Infinity",
        "0x10", "0x1p-2", "1_000", "1,5",   "1 ",  " 1",   "1f",  "--1"}) {
    CAPTURE(text);
    CHECK(float_status(text) == NumberStatus::kSyntax);
  }
}

TEST_CASE("format_float writes Go's shortest 'g' layout") {
  CHECK(format(0.0) == "0");
  CHECK(format(-0.0) == "-0");
  CHECK(format(1.0) == "1");
  CHECK(format(42.0) == "42");
  CHECK(format(98.2) == "98.2");
  CHECK(format(-0.64) == "-0.64");
  CHECK(format(12.123) == "12.123");
  CHECK(format(0.1 + 0.2) == "0.30000000000000004");
  CHECK(format(0.0001) == "0.0001");
  CHECK(format(0.00012) == "0.00012");
  CHECK(format(0.00001) == "1e-05");
  CHECK(format(123456.0) == "123456");
  CHECK(format(999999.5) == "999999.5");
  CHECK(format(1e6) == "1e+06");
  CHECK(format(6632243.0) == "6.632243e+06");
  CHECK(format(1e21) == "1e+21");
  CHECK(format(5e-324) == "5e-324");
  CHECK(format(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
  CHECK(format(-std::numeric_limits<double>::max()) == "-1.7976931348623157e+308");
  CHECK(format(1.5e-7) == "1.5e-07");
  CHECK(format(100.0) == "100");
}

TEST_CASE("format_float reads back exactly and agrees with the shortest digits") {
  std::mt19937_64 random(1234);
  auto check = [](double v) {
    const std::string text = format(v);
    double back = 0;
    REQUIRE_MESSAGE(
        lp::parse_float(text.data(), text.data() + text.size(), back) == NumberStatus::kOk, text);
    CHECK_MESSAGE(std::memcmp(&back, &v, sizeof v) == 0, text);
    char reference[64];
    const auto r =
        std::to_chars(reference, reference + sizeof reference, v, std::chars_format::scientific);
    CHECK_MESSAGE(digits_and_exponent(text) == digits_and_exponent(std::string(reference, r.ptr)),
                  text, " vs ", std::string(reference, r.ptr));
  };
  // Values as metrics have them: a few decimals.
  for (int i = 0; i < 100000; ++i) {
    const auto decimals = static_cast<int>(random() % 8);
    const auto mantissa = static_cast<int64_t>(random() % 100000000) - 50000000;
    check(static_cast<double>(mantissa) / std::pow(10.0, decimals));
  }
  // Any double at all.
  for (int i = 0; i < 100000; ++i) {
    const uint64_t bits = random();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (std::isfinite(v)) check(v);
  }
  // Around the edges of the plain layout.
  for (double v : {1e-4, 9.999999999999999e-5, 999999.9999999999, 1e6, 0.1, 0.2, 0.3, 1.0 / 3}) {
    check(v);
    check(-v);
    check(std::nextafter(v, 0.0));
    check(std::nextafter(v, 1e300));
  }
}

TEST_CASE("format_int64 and format_uint64 write every magnitude") {
  auto i64 = [](int64_t v) {
    char buf[24];
    return std::string(buf, lp::format_int64(v, buf));
  };
  auto u64 = [](uint64_t v) {
    char buf[24];
    return std::string(buf, lp::format_uint64(v, buf));
  };
  CHECK(i64(0) == "0");
  CHECK(i64(-1) == "-1");
  CHECK(i64(std::numeric_limits<int64_t>::min()) == "-9223372036854775808");
  CHECK(i64(std::numeric_limits<int64_t>::max()) == "9223372036854775807");
  CHECK(u64(std::numeric_limits<uint64_t>::max()) == "18446744073709551615");
  uint64_t v = 1;
  for (int digits = 1; digits <= 20; ++digits) {
    CHECK(u64(v) == std::to_string(v));
    CHECK(u64(v - 1) == std::to_string(v - 1));
    if (digits < 20) v *= 10;
  }
  std::mt19937_64 random(7);
  for (int i = 0; i < 10000; ++i) {
    const uint64_t x = random() >> (random() % 64);
    CHECK(u64(x) == std::to_string(x));
  }
}
