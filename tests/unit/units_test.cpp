#include <doctest/doctest.h>

#include "core/units.hpp"

using namespace std::chrono_literals;
using sluice::core::format_duration;
using sluice::core::parse_duration;
using sluice::core::parse_size;

TEST_CASE("durations as the config writes them") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("10s") == 10s);
  CHECK(parse_duration("1m") == 1min);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("250us") == 250us);
  CHECK(parse_duration("250\xC2\xB5s") == 250us);
  CHECK(parse_duration("7ns") == 7ns);
  CHECK(parse_duration("2d") == 48h);
  CHECK(parse_duration("30") == 30s);  // a bare integer is seconds
  CHECK(parse_duration("0s") == 0ns);
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("10x"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration("s"));
  CHECK_FALSE(parse_duration("1.2.3s"));
  CHECK_FALSE(parse_duration("99999999999999999999s"));
}

TEST_CASE("sizes in decimal and binary units") {
  CHECK(parse_size("4096") == 4096u);
  CHECK(parse_size("64MiB") == 64u * 1024 * 1024);
  CHECK(parse_size("10MB") == 10'000'000u);
  CHECK(parse_size("1kib") == 1024u);
  CHECK(parse_size("1.5KiB") == 1536u);
  CHECK(parse_size("2 GiB") == 2ull * 1024 * 1024 * 1024);
  CHECK(parse_size("12B") == 12u);
  CHECK_FALSE(parse_size("MiB"));
  CHECK_FALSE(parse_size("10 parsecs"));
}

TEST_CASE("durations print in their shortest form") {
  CHECK(format_duration(0ns) == "0s");
  CHECK(format_duration(10s) == "10s");
  CHECK(format_duration(90s) == "1m30s");
  CHECK(format_duration(500ms) == "500ms");
  CHECK(format_duration(3h) == "3h");
  CHECK(format_duration(1500ms) == "1.5s");
}
