#include <doctest/doctest.h>

#include "aggregator_test_support.hpp"
#include "outputs/prometheus_client/metric_store.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

const char* kCpuConfig =
    "{config: [{measurement_name: cpu, fields: usage_idle, buckets: \"0,10,50,100\"}]}";

// usage_idle: -1 (le 0); 5 and 10 (le 10, bounds are inclusive); 55 (le 100); 150 (+Inf).
const char* kCpuInput =
    "cpu,host=a usage_idle=5,usage_user=3 1700000000000000000\n"
    "cpu,host=a usage_idle=10i 1700000001000000000\n"
    "cpu,host=a usage_idle=55 1700000002000000000\n"
    "cpu,host=a usage_idle=150u 1700000003000000000\n"
    "cpu,host=a usage_idle=-1,usage_user=90 1700000004000000000\n"
    "mem,host=a usage_idle=5 1700000004000000000\n";

}  // namespace

TEST_CASE("histogram: cumulative buckets with an le tag, counts kept across windows") {
  auto agg = make_aggregator("histogram", kCpuConfig);
  add_lines(*agg, kCpuInput);
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 6);
  CHECK(metrics[0].type() == ValueType::kHistogram);
  CHECK(metrics[5].type() == ValueType::kHistogram);
  // Then the sum of the values counted (5 + 10 + 55 + 150 - 1) and their count.
  CHECK(push_lines(*agg) ==
        "cpu,host=a,le=0 usage_idle_bucket=1i 1700000000000000000\n"
        "cpu,host=a,le=10 usage_idle_bucket=3i 1700000000000000000\n"
        "cpu,host=a,le=50 usage_idle_bucket=3i 1700000000000000000\n"
        "cpu,host=a,le=100 usage_idle_bucket=4i 1700000000000000000\n"
        "cpu,host=a,le=+Inf usage_idle_bucket=5i 1700000000000000000\n"
        "cpu,host=a usage_idle_sum=219,usage_idle_count=5i 1700000000000000000\n");
  // reset is false: the next window adds to the same counts.
  add_lines(*agg, "cpu,host=a usage_idle=20 1700000030000000000\n");
  CHECK(push_lines(*agg, kGatherTime + 30 * kSecond) ==
        "cpu,host=a,le=0 usage_idle_bucket=1i 1700000030000000000\n"
        "cpu,host=a,le=10 usage_idle_bucket=3i 1700000030000000000\n"
        "cpu,host=a,le=50 usage_idle_bucket=4i 1700000030000000000\n"
        "cpu,host=a,le=100 usage_idle_bucket=5i 1700000030000000000\n"
        "cpu,host=a,le=+Inf usage_idle_bucket=6i 1700000030000000000\n"
        "cpu,host=a usage_idle_sum=239,usage_idle_count=6i 1700000030000000000\n");
}

TEST_CASE("histogram: reset starts every window afresh") {
  auto agg = make_aggregator("histogram",
                             "{reset: true, config: [{measurement_name: cpu, fields: usage_idle, "
                             "buckets: \"0,10,50,100\"}]}");
  add_lines(*agg, kCpuInput);
  CHECK(push_lines(*agg).size() > 0);
  CHECK(push_lines(*agg) == "");
  add_lines(*agg, "cpu,host=a usage_idle=20 1700000030000000000\n");
  CHECK(push_lines(*agg) ==
        "cpu,host=a,le=0 usage_idle_bucket=0i 1700000000000000000\n"
        "cpu,host=a,le=10 usage_idle_bucket=0i 1700000000000000000\n"
        "cpu,host=a,le=50 usage_idle_bucket=1i 1700000000000000000\n"
        "cpu,host=a,le=100 usage_idle_bucket=1i 1700000000000000000\n"
        "cpu,host=a,le=+Inf usage_idle_bucket=1i 1700000000000000000\n"
        "cpu,host=a usage_idle_sum=20,usage_idle_count=1i 1700000000000000000\n");
}

TEST_CASE("histogram: not cumulative, each bucket counts its own range and has a gt tag") {
  auto agg =
      make_aggregator("histogram",
                      "{cumulative: false, config: [{measurement_name: cpu, fields: usage_idle, "
                      "buckets: \"0,10,50,100\"}]}");
  add_lines(*agg, kCpuInput);
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 5);
  CHECK(metrics[0].type() == ValueType::kUntyped);
  CHECK(push_lines(*agg) ==
        "cpu,gt=-Inf,host=a,le=0 usage_idle_bucket=1i 1700000000000000000\n"
        "cpu,gt=0,host=a,le=10 usage_idle_bucket=2i 1700000000000000000\n"
        "cpu,gt=10,host=a,le=50 usage_idle_bucket=0i 1700000000000000000\n"
        "cpu,gt=50,host=a,le=100 usage_idle_bucket=1i 1700000000000000000\n"
        "cpu,gt=100,host=a,le=+Inf usage_idle_bucket=1i 1700000000000000000\n");
}

TEST_CASE("histogram: every field without a field list, fields sharing a bound share a metric") {
  auto agg = make_aggregator("histogram",
                             "{config: [{measurement_name: m, buckets: \"[0.5, 1e3]\"},"
                             " {measurement_name: m, fields: \"b, c\", buckets: \"2,1000,3\"}]}");
  add_lines(*agg,
            "m a=0.25,b=2.5,c=true,s=\"x\" 1700000000000000000\n"
            "m a=700i,b=1 1700000000000000000\n");
  // a uses the first entry; b matches both and the last wins; c has no numeric value.
  CHECK(push_lines(*agg) ==
        "m,le=0.5 a_bucket=1i 1700000000000000000\n"
        "m,le=2 b_bucket=1i 1700000000000000000\n"
        "m,le=3 b_bucket=2i 1700000000000000000\n"
        "m,le=1000 a_bucket=2i,b_bucket=2i 1700000000000000000\n"
        "m,le=+Inf a_bucket=2i,b_bucket=2i 1700000000000000000\n"
        "m a_sum=700.25,a_count=2i,b_sum=3.5,b_count=2i 1700000000000000000\n");
}

TEST_CASE("histogram: expiration_interval forgets series without new values") {
  auto agg = make_aggregator(
      "histogram", "{expiration_interval: 1m, config: [{measurement_name: m, buckets: \"10\"}]}");
  add_lines(*agg, "m,id=old v=1 1700000000000000000\n");
  CHECK(push_lines(*agg, kGatherTime + 30 * kSecond) ==
        "m,id=old,le=10 v_bucket=1i 1700000030000000000\n"
        "m,id=old,le=+Inf v_bucket=1i 1700000030000000000\n"
        "m,id=old v_sum=1,v_count=1i 1700000030000000000\n");
  // Two minutes on: forgotten, and counting starts again from the next value.
  add_lines(*agg, "m,id=new v=20 1700000120000000000\n");
  CHECK(push_lines(*agg, kGatherTime + 120 * kSecond) ==
        "m,id=new,le=10 v_bucket=0i 1700000120000000000\n"
        "m,id=new,le=+Inf v_bucket=1i 1700000120000000000\n"
        "m,id=new v_sum=20,v_count=1i 1700000120000000000\n");
  add_lines(*agg, "m,id=old v=30 1700000130000000000\n");
  CHECK(push_lines(*agg, kGatherTime + 150 * kSecond) ==
        "m,id=new,le=10 v_bucket=0i 1700000150000000000\n"
        "m,id=new,le=+Inf v_bucket=1i 1700000150000000000\n"
        "m,id=new v_sum=20,v_count=1i 1700000150000000000\n"
        "m,id=old,le=10 v_bucket=0i 1700000150000000000\n"
        "m,id=old,le=+Inf v_bucket=1i 1700000150000000000\n"
        "m,id=old v_sum=30,v_count=1i 1700000150000000000\n");
}

TEST_CASE("histogram: push_only_on_update skips series without new values") {
  auto agg = make_aggregator(
      "histogram", "{push_only_on_update: true, config: [{measurement_name: m, buckets: \"10\"}]}");
  add_lines(*agg, "m v=1 1700000000000000000\n");
  CHECK(push_lines(*agg) ==
        "m,le=10 v_bucket=1i 1700000000000000000\nm,le=+Inf v_bucket=1i 1700000000000000000\n"
        "m v_sum=1,v_count=1i 1700000000000000000\n");
  CHECK(push_lines(*agg) == "");
  add_lines(*agg, "m v=11 1700000000000000000\n");
  CHECK(push_lines(*agg) ==
        "m,le=10 v_bucket=1i 1700000000000000000\nm,le=+Inf v_bucket=2i 1700000000000000000\n"
        "m v_sum=12,v_count=2i 1700000000000000000\n");
}

TEST_CASE("histogram: measurements without a config entry are ignored") {
  auto agg = make_aggregator("histogram");
  add_lines(*agg, kCpuInput);
  CHECK(push_lines(*agg) == "");
}

TEST_CASE("histogram: option errors name the entry") {
  CHECK(option_error("histogram", "{config: [{measurement_name: m}]}") ==
        "config: entry 1: needs buckets, e.g. \"0,10,50,100\"");
  CHECK(option_error("histogram",
                     "{config: [{measurement_name: m, buckets: \"1\"}, {buckets: \"1\"}]}") ==
        "config: entry 2: needs measurement_name");
  CHECK(option_error("histogram", "{config: [{measurement_name: m, buckets: \"1,x\"}]}") ==
        "config: entry 1: bucket bound \"x\" is not a finite number");
  CHECK(option_error("histogram", "{config: [{measurement_name: m, buckets: \"1\", field: a}]}") ==
        "config: entry 1: unknown key \"field\"; expected measurement_name, fields or buckets");
  CHECK(option_error("histogram", "{config: [{measurement: m, buckets: \"1\"}]}") == "");
}

TEST_CASE("histogram: prometheus_client exposes it as a Prometheus histogram") {
  auto agg = make_aggregator("histogram", kCpuConfig);
  add_lines(*agg, kCpuInput);
  auto metrics = push_metrics(*agg);
  outputs::prometheus_client::MetricStore store({});
  store.add(metrics, kGatherTime);
  // Cumulative buckets ending with +Inf, _count equal to the +Inf bucket, _sum of the values.
  CHECK(store.render() ==
        "# HELP cpu_usage_idle sluice collected metric\n"
        "# TYPE cpu_usage_idle histogram\n"
        "cpu_usage_idle_bucket{host=\"a\",le=\"0\"} 1\n"
        "cpu_usage_idle_bucket{host=\"a\",le=\"10\"} 3\n"
        "cpu_usage_idle_bucket{host=\"a\",le=\"50\"} 3\n"
        "cpu_usage_idle_bucket{host=\"a\",le=\"100\"} 4\n"
        "cpu_usage_idle_bucket{host=\"a\",le=\"+Inf\"} 5\n"
        "cpu_usage_idle_sum{host=\"a\"} 219\n"
        "cpu_usage_idle_count{host=\"a\"} 5\n");
}
