#include <doctest/doctest.h>

#include "aggregator_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

constexpr int64_t kMinute = 60 * kSecond;

const char* kInput =
    "counter,host=bar i=1,j=4 1700000000000000000\n"
    "counter,host=foo i=1,j=4 1700000001000000000\n"
    "counter,host=bar i=2,j=5 1700000010000000000\n"
    "counter,host=foo i=2,j=5 1700000011000000000\n"
    "counter,host=bar i=3,j=6 1700000020000000000\n"
    "counter,host=foo i=3,j=6 1700000021000000000\n";

}  // namespace

TEST_CASE("final: a series is emitted once it has been quiet for series_timeout") {
  auto agg = make_aggregator("final");
  add_lines(*agg, kInput);
  // Still within five minutes of the last metric: nothing yet, and the state carries on.
  CHECK(push_lines(*agg, kGatherTime + 30 * kSecond) == "");
  CHECK(push_lines(*agg, kGatherTime + 5 * kMinute + 20 * kSecond) == "");
  // bar's last metric (at 20s) is now older than 5m; foo's (at 21s) is not.
  CHECK(push_lines(*agg, kGatherTime + 5 * kMinute + 20 * kSecond + 1) ==
        "counter,host=bar i_final=3,j_final=6 1700000020000000000\n");
  CHECK(push_lines(*agg, kGatherTime + 6 * kMinute) ==
        "counter,host=foo i_final=3,j_final=6 1700000021000000000\n");
  // Emitted series are forgotten.
  CHECK(push_lines(*agg, kGatherTime + 60 * kMinute) == "");
}

TEST_CASE("final: the last value of each field by timestamp, a late metric does not overwrite") {
  auto agg = make_aggregator("final", "{series_timeout: 10s}");
  add_lines(*agg,
            "m x=1,s=\"a\" 1700000000000000000\n"
            "m x=2,y=5i 1700000020000000000\n"
            "m x=9,s=\"b\",ok=true 1700000010000000000\n");
  CHECK(push_lines(*agg, kGatherTime + 31 * kSecond) ==
        "m x_final=2,s_final=\"b\",y_final=5i,ok_final=true 1700000020000000000\n");
}

TEST_CASE("final: a series that keeps updating is not emitted with the timeout strategy") {
  auto agg = make_aggregator("final", "{series_timeout: 30s}");
  for (int window = 0; window < 5; ++window) {
    int64_t t = kGatherTime + window * 20 * kSecond;
    add_lines(*agg, "m v=" + std::to_string(window) + " " + std::to_string(t) + "\n");
    CHECK(push_lines(*agg, t) == "");
  }
}

TEST_CASE("final: periodic emits every series each window, then forgets it") {
  auto agg =
      make_aggregator("final", "{output_strategy: periodic, keep_original_field_names: true}");
  add_lines(*agg, kInput);
  CHECK(push_lines(*agg) ==
        "counter,host=bar i=3,j=6 1700000020000000000\n"
        "counter,host=foo i=3,j=6 1700000021000000000\n");
  CHECK(push_lines(*agg) == "");
}

TEST_CASE("final: the value type of the newest metric is kept") {
  auto agg = make_aggregator("final", "{output_strategy: periodic}");
  Metric counter("m", kGatherTime + kSecond, ValueType::kCounter);
  counter.append_field("v", int64_t{5});
  Metric older("m", kGatherTime, ValueType::kGauge);
  older.append_field("w", 1.0);
  agg->add(counter);
  agg->add(older);
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 1);
  CHECK(metrics[0].type() == ValueType::kCounter);
  CHECK(metrics[0].time() == kGatherTime + kSecond);
}

TEST_CASE("final: output_strategy must be timeout or periodic") {
  CHECK(option_error("final", "{output_strategy: hourly}") ==
        "output_strategy: expected timeout or periodic, got \"hourly\"");
}

TEST_CASE("final: a series left alone after others were emitted is still found") {
  auto agg = make_aggregator("final", "{series_timeout: 10s}");
  add_lines(*agg,
            "m,id=a v=1 1700000000000000000\n"
            "m,id=b v=1 1700000000000000000\n"
            "m,id=c v=1 1700000000000000000\n"
            "m,id=b v=2 1700000015000000000\n");
  CHECK(push_lines(*agg, kGatherTime + 20 * kSecond) ==
        "m,id=a v_final=1 1700000000000000000\nm,id=c v_final=1 1700000000000000000\n");
  add_lines(*agg, "m,id=b v=3 1700000020000000000\n");
  CHECK(push_lines(*agg, kGatherTime + 31 * kSecond) == "m,id=b v_final=3 1700000020000000000\n");
}
