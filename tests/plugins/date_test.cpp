#include <doctest/doctest.h>

#include <string>

#include "core/time_layout.hpp"
#include "plugin_test_support.hpp"
#include "processor_test_support.hpp"

using sluice::core::TimeLayout;
using sluice::core::TimeZone;
using sluice::testing::make_processor;
using sluice::testing::run_lines;

namespace {

constexpr int64_t kSecond = 1'000'000'000;
// 2023-11-14T22:13:20.123456789Z, a Tuesday, day 318 of the year.
constexpr int64_t kTime = 1'700'000'000 * kSecond + 123'456'789;

TimeZone zone(const char* name) {
  std::string error;
  auto z = TimeZone::load(name, &error);
  REQUIRE_MESSAGE(z.has_value(), error);
  return *z;
}

std::string format(const char* layout, int64_t t, const TimeZone& z = TimeZone()) {
  std::string error;
  auto l = TimeLayout::compile(layout, &error);
  REQUIRE_MESSAGE(l.has_value(), error);
  std::string out;
  l->format(t, z, out);
  return out;
}

std::optional<int64_t> parse(const char* layout, const char* text, const TimeZone& z = TimeZone()) {
  std::string error;
  auto l = TimeLayout::compile(layout, &error);
  REQUIRE_MESSAGE(l.has_value(), error);
  return l->parse(text, z);
}

}  // namespace

TEST_CASE("time layouts: Go reference-time elements when formatting") {
  CHECK(format("2006-01-02T15:04:05.000Z07:00", kTime) == "2023-11-14T22:13:20.123Z");
  CHECK(format("UnixDate", kTime) == "Tue Nov 14 22:13:20 UTC 2023");
  CHECK(format("Monday, January 2, 2006 3:04:05 PM", kTime) ==
        "Tuesday, November 14, 2023 10:13:20 PM");
  CHECK(format("002 __2 06 1 01 2 02 _2 3 03 4 04 5 05 pm", kTime) ==
        "318 318 23 11 11 14 14 14 10 10 13 13 20 20 pm");
  CHECK(format(".999999999 .9 ,000 -0700 -07:00 -07 Z0700 Z07:00:00", kTime) ==
        ".123456789 .1 ,123 +0000 +00:00 +00 Z Z");
  CHECK(format("RFC3339Nano", kTime) == "2023-11-14T22:13:20.123456789Z");
  CHECK(format("RFC3339Nano", 1'700'000'000 * kSecond) == "2023-11-14T22:13:20Z");
  CHECK(format("Jan _2 3:04:05", 1'699'000'000 * kSecond) == "Nov  3 8:26:40");
  CHECK(format("unix", kTime) == "1700000000");
  CHECK(format("unix_ms", kTime) == "1700000000123");
  CHECK(format("unix_us", kTime) == "1700000000123456");
  CHECK(format("unix_ns", kTime) == "1700000000123456789");
  CHECK(format("2006-01-02 15:04:05", -1) == "1969-12-31 23:59:59");
}

TEST_CASE("time layouts: time zones from the system database") {
  TimeZone paris = zone("Europe/Paris");
  CHECK(format("2006-01-02 15:04:05 MST -07:00", kTime, paris) == "2023-11-14 23:13:20 CET +01:00");
  CHECK(format("15:04 MST", 1'689'000'000 * kSecond, paris) == "16:40 CEST");
  TimeZone ny = zone("America/New_York");
  CHECK(format("2006-01-02 15:04:05 MST Z07:00", kTime, ny) == "2023-11-14 17:13:20 EST -05:00");
  // Past the file's transitions, the rule at its end decides: 2100-07-01 is in summer time.
  auto july_2100 = parse("2006-01-02", "2100-07-01");
  REQUIRE(july_2100);
  CHECK(format("2006-01-02 15:04 MST", *july_2100, paris) == "2100-07-01 02:00 CEST");
  CHECK(format("2006-01-02 15:04 MST", *july_2100 - 180 * 86400 * kSecond, paris) ==
        "2100-01-02 01:00 CET");
  {
    sluice::testing::ScopedEnv tz("TZ", "Asia/Tokyo");
    CHECK(format("15:04 MST", kTime, zone("Local")) == "07:13 JST");
  }
  std::string error;
  CHECK_FALSE(TimeZone::load("Nowhere/Atlantis", &error));
  CHECK(error.find("unknown time zone") != std::string::npos);
  CHECK_FALSE(TimeZone::load("../etc/passwd", &error));
}

TEST_CASE("time layouts: parsing") {
  const int64_t t = 1'700'000'000 * kSecond;
  CHECK(parse("2006-01-02 15:04:05", "2023-11-14 22:13:20") == t);
  CHECK(parse("2006-01-02 15:04:05", "2023-11-14 22:13:20.5") == t + kSecond / 2);
  CHECK(parse("2006-01-02 15:04:05", "2023-11-14 23:13:20", zone("Europe/Paris")) == t);
  CHECK(parse("02/Jan/2006:15:04:05 -0700", "14/Nov/2023:17:13:20 -0500") == t);
  CHECK(parse("RFC3339", "2023-11-14T22:13:20Z") == t);
  CHECK(parse("RFC3339Nano", "2023-11-14T23:13:20.25+01:00") == t + kSecond / 4);
  CHECK(parse("RFC1123", "Tue, 14 Nov 2023 22:13:20 GMT") == t);
  CHECK(parse("Jan _2 2006", "Nov  4 2023") == 1'699'056'000 * kSecond);
  CHECK(parse("Kitchen", "10:13PM") == 79'980 * kSecond);
  CHECK(parse("2006 002", "2023 318") == 1'699'920'000 * kSecond);
  CHECK(parse("unix", "1700000000.123") == t + 123'000'000);
  CHECK(parse("unix_us", "1700000000123456") == t + 123'456'000);
  CHECK(parse("unix_ms", "-1") == -1'000'000);
  CHECK_FALSE(parse("2006-01-02", "2023-13-01"));
  CHECK_FALSE(parse("2006-01-02", "2023-02-30"));
  CHECK_FALSE(parse("2006-01-02", "2023-02-01 extra"));
  CHECK_FALSE(parse("2006-01-02", "23-02-01"));
  CHECK_FALSE(parse("unix", "12a"));
  std::string error;
  CHECK_FALSE(TimeLayout::compile("", &error));
  CHECK_FALSE(TimeLayout::compile("unix_s", &error));
  CHECK(error.find("not a time format") != std::string::npos);
}

TEST_CASE("date: the month as a tag") {
  auto p = make_processor("date", "{tag_key: month, date_format: Jan}");
  CHECK(run_lines(*p, "m v=1i 1700000000000000000\nm v=2i 1689000000000000000\n") ==
        "m,month=Nov v=1i 1700000000000000000\nm,month=Jul v=2i 1689000000000000000\n");
}

TEST_CASE("date: fields, unix numbers, offset and time zone") {
  auto text =
      make_processor("date", "{field_key: day, date_format: '2006-01-02', date_offset: 2h}");
  CHECK(run_lines(*text, "m v=1i 1700000000000000000\n") ==
        "m v=1i,day=\"2023-11-15\" 1700000000000000000\n");
  auto unix = make_processor("date", "{field_key: ts, date_format: unix_ms}");
  CHECK(run_lines(*unix, "m v=1i 1700000000123456789\n") ==
        "m v=1i,ts=1700000000123i 1700000000123456789\n");
  auto unix_tag = make_processor("date", "{tag_key: ts, date_format: unix}");
  CHECK(run_lines(*unix_tag, "m v=1i 1700000000123456789\n") ==
        "m,ts=1700000000 v=1i 1700000000123456789\n");
  auto ny =
      make_processor("date", "{tag_key: hour, date_format: '15', timezone: America/New_York}");
  CHECK(run_lines(*ny, "m v=1i 1700000000000000000\n") == "m,hour=17 v=1i 1700000000000000000\n");
  CHECK(ny->process({}).empty());
}

TEST_CASE("date: option errors") {
  CHECK_THROWS_AS(make_processor("date", "{tag_key: a, field_key: b, date_format: Jan}"),
                  sluice::OptionError);
  CHECK_THROWS_AS(make_processor("date", "{date_format: Jan}"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("date", "{tag_key: a, date_format: hello}"), sluice::OptionError);
  CHECK_THROWS_WITH_AS(
      make_processor("date", "{tag_key: a, date_format: Jan, timezone: Mars/Olympus}"),
      doctest::Contains("unknown time zone"), sluice::OptionError);
  CHECK_THROWS(make_processor("date", "{tag_key: a}"));  // date_format is required
}
