// The host's side of an aggregator: its options reach the windows, its clock is the pipeline's,
// and what the windows drop shows in its statistics.
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "pipeline/running_aggregator.hpp"
#include "support/test_plugins.hpp"

using namespace sluice;
using namespace sluice::pipeline;

namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kHour = 3600 * kSecond;

Metric gen(int64_t time) {
  Metric m("gen", time);
  m.set_tag("n", "0");
  m.set_field("value", int64_t{1});
  return m;
}

config::PluginConfig aggregator_config(const std::string& options) {
  config::Config c =
      config::load_text("aggregators:\n  - count: {period: 10s, delay: 0s" + options + "}\n",
                        "running_aggregator_test.yaml", testing::test_registry());
  REQUIRE(c.aggregators.size() == 1);
  return c.aggregators[0];
}

int64_t pushed_count(const Batch& batch) {
  REQUIRE(batch.size() == 1);
  return std::get<int64_t>(*batch[0].field("value"));
}

}  // namespace

TEST_CASE("an aggregator drops metrics stamped far ahead of its clock and counts them") {
  // A clock in 1970: the check must use it, not the system's, for which all of this is past.
  ManualClock clock(1'000 * kSecond);
  RunningAggregator aggregator(aggregator_config(""), clock);
  clock.set(1'001 * kSecond);
  aggregator.add(gen(1'001 * kSecond));
  aggregator.add(gen(1'001 * kSecond + 5 * kHour));  // typed with a wrong hour
  CHECK(aggregator.stats().metrics_in == 1);
  CHECK(aggregator.stats().metrics_dropped == 1);
  CHECK(aggregator.stats().metrics_too_far_ahead == 1);
  CHECK(aggregator.due() == 1'010 * kSecond);  // not made due by the metric ahead
  clock.set(1'005 * kSecond);
  aggregator.add(gen(1'005 * kSecond));
  clock.set(1'010 * kSecond);
  Batch out;
  aggregator.push_due(out);
  CHECK(pushed_count(out) == 2);
  clock.set(1'012 * kSecond);
  aggregator.add(gen(1'012 * kSecond));  // the next window takes metrics too
  clock.set(1'020 * kSecond);
  out.clear();
  aggregator.push_due(out);
  CHECK(pushed_count(out) == 1);
  CHECK(aggregator.stats().metrics_in == 3);
  CHECK(aggregator.stats().metrics_too_far_ahead == 1);
}

TEST_CASE("max_time_ahead sets the bound and 0s lifts it") {
  ManualClock clock(1'000 * kSecond);
  RunningAggregator strict(aggregator_config(", max_time_ahead: 1m"), clock);
  strict.add(gen(1'000 * kSecond + 2 * 60 * kSecond));
  CHECK(strict.stats().metrics_too_far_ahead == 1);
  RunningAggregator open(aggregator_config(", max_time_ahead: 0s"), clock);
  open.add(gen(1'000 * kSecond + 5 * kHour));
  CHECK(open.stats().metrics_in == 1);
  CHECK(open.stats().metrics_too_far_ahead == 0);
}
