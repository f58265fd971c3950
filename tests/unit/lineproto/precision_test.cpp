#include "lineproto/precision.hpp"

#include <doctest/doctest.h>

namespace lp = sluice::lineproto;

TEST_CASE("parse_precision accepts the unit names with and without a leading 1") {
  CHECK(lp::parse_precision("ns") == lp::Precision::kNanosecond);
  CHECK(lp::parse_precision("1ns") == lp::Precision::kNanosecond);
  CHECK(lp::parse_precision("us") == lp::Precision::kMicrosecond);
  CHECK(lp::parse_precision("1us") == lp::Precision::kMicrosecond);
  CHECK(lp::parse_precision("\xc2\xb5s") == lp::Precision::kMicrosecond);
  CHECK(lp::parse_precision("1\xc2\xb5s") == lp::Precision::kMicrosecond);
  CHECK(lp::parse_precision("1\xce\xbcs") == lp::Precision::kMicrosecond);
  CHECK(lp::parse_precision("ms") == lp::Precision::kMillisecond);
  CHECK(lp::parse_precision("1ms") == lp::Precision::kMillisecond);
  CHECK(lp::parse_precision("s") == lp::Precision::kSecond);
  CHECK(lp::parse_precision("1s") == lp::Precision::kSecond);
}

TEST_CASE("parse_precision rejects other units") {
  CHECK_FALSE(lp::parse_precision(""));
  CHECK_FALSE(lp::parse_precision("1"));
  CHECK_FALSE(lp::parse_precision("1m"));
  CHECK_FALSE(lp::parse_precision("1h"));
  CHECK_FALSE(lp::parse_precision("10ms"));
  CHECK_FALSE(lp::parse_precision("NS"));
  CHECK_FALSE(lp::parse_precision("11s"));
}

TEST_CASE("precision units and rounding toward the past") {
  CHECK(lp::precision_nanoseconds(lp::Precision::kMicrosecond) == 1000);
  CHECK(lp::precision_name(lp::Precision::kMillisecond) == "ms");
  CHECK(lp::precision_from_nanoseconds(1'000'000'000) == lp::Precision::kSecond);
  CHECK_FALSE(lp::precision_from_nanoseconds(60'000'000'000));
  CHECK(lp::to_precision_units(1'999'999'999, lp::Precision::kSecond) == 1);
  CHECK(lp::to_precision_units(-1, lp::Precision::kSecond) == -1);
  CHECK(lp::to_precision_units(-1'000'000'000, lp::Precision::kSecond) == -1);
  CHECK(lp::truncate_to_precision(1'234'567, lp::Precision::kMillisecond) == 1'000'000);
  CHECK(lp::truncate_to_precision(-1, lp::Precision::kMicrosecond) == -1000);
}
