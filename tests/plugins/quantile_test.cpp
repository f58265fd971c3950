#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "aggregator_test_support.hpp"
#include "aggregators/quantile/tdigest.hpp"

using namespace sluice;
using namespace sluice::testing;
using sluice::aggregators::quantile::TDigest;

namespace {

// Hyndman & Fan definition 7, written out independently of the plugin, as the reference.
double reference_r7(const std::vector<double>& sorted, double q) {
  double h = q * static_cast<double>(sorted.size() - 1);
  double lo = std::floor(h);
  size_t j = static_cast<size_t>(lo);
  if (j + 1 >= sorted.size()) return sorted.back();
  return sorted[j] + (h - lo) * (sorted[j + 1] - sorted[j]);
}

// Where `value` falls among the sorted values, as a fraction: the quantile it really is.
double rank_of(const std::vector<double>& sorted, double value) {
  auto lo = std::lower_bound(sorted.begin(), sorted.end(), value);
  auto hi = std::upper_bound(sorted.begin(), sorted.end(), value);
  double mid =
      (static_cast<double>(lo - sorted.begin()) + static_cast<double>(hi - sorted.begin())) / 2;
  return mid / static_cast<double>(sorted.size());
}

// The t-digest's error bound in rank: with the k1 scale function a centroid near quantile q
// spans at most 2 pi sqrt(q (1 - q)) / compression of the ranks, and interpolation between
// centroid centres is off by at most half of that; a little slack covers the discreteness of
// the data.
double rank_bound(double q, double compression) {
  return std::numbers::pi * std::sqrt(q * (1 - q)) / compression + 2e-5;
}

const double kProbes[] = {0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999};

void check_accuracy(TDigest& digest, std::vector<double> values) {
  std::sort(values.begin(), values.end());
  for (double q : kProbes) {
    double estimate = digest.quantile(q);
    double error = std::abs(rank_of(values, estimate) - q);
    INFO("q=" << q << " estimate=" << estimate << " exact=" << reference_r7(values, q)
              << " rank error=" << error);
    CHECK(error <= rank_bound(q, digest.compression()));
  }
  CHECK(digest.quantile(0) == values.front());
  CHECK(digest.quantile(1) == values.back());
}

}  // namespace

TEST_CASE("quantile: t-digest is exact (definition 7) for a small window, per series and field") {
  auto agg = make_aggregator("quantile");
  add_lines(*agg,
            "web,host=a ms=40,code=200i,path=\"/\" 1700000000000000000\n"
            "web,host=b ms=7 1700000000000000000\n"
            "web,host=a ms=10,code=404i 1700000001000000000\n"
            "web,host=a ms=30 1700000002000000000\n"
            "web,host=a ms=20 1700000003000000000\n");
  // ms: 10, 20, 30, 40 -> positions 0.75, 1.5 and 2.25 between them.
  CHECK(push_lines(*agg) ==
        "web,host=a ms_025=17.5,ms_050=25,ms_075=32.5,code_025=251,code_050=302,code_075=353 "
        "1700000000000000000\n"
        "web,host=b ms_025=7,ms_050=7,ms_075=7 1700000000000000000\n");
}

TEST_CASE("quantile: exact R7 and R8") {
  const char* input =
      "m v=40 1700000000000000000\n"
      "m v=10 1700000001000000000\n"
      "m v=30 1700000002000000000\n"
      "m v=20 1700000003000000000\n";
  auto r7 = make_aggregator("quantile", "{algorithm: exact R7, quantiles: [0, 0.25, 0.5, 1]}");
  add_lines(*r7, input);
  CHECK(push_lines(*r7) == "m v_000=10,v_025=17.5,v_050=25,v_100=40 1700000000000000000\n");

  // Definition 8: position (n + 1/3) q + 1/3 from one, so 0.25 of four values is 1.41666...
  auto r8 =
      make_aggregator("quantile", "{algorithm: exact R8, quantiles: [0.1, 0.25, 0.75, 0.99]}");
  add_lines(*r8, input);
  CHECK(push_lines(*r8) ==
        "m v_010=10,v_025=14.166666666666666,v_075=35.833333333333336,v_099=40 "
        "1700000000000000000\n");

  auto underscore = make_aggregator("quantile", "{algorithm: exact_R7}");
  add_lines(*underscore, input);
  CHECK(push_lines(*underscore) == "m v_025=17.5,v_050=25,v_075=32.5 1700000000000000000\n");
}

TEST_CASE("quantile: field names take the quantile times 100, truncated, as Telegraf") {
  auto agg = make_aggregator("quantile", "{quantiles: [0, 0.05, 0.999, 1], algorithm: exact R7}");
  add_lines(*agg, "m v=1 1700000000000000000\nm v=2 1700000000000000000\n");
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 1);
  CHECK(metrics[0].type() == ValueType::kGauge);
  CHECK(push_lines(*agg) == "m v_000=1,v_005=1.05,v_099=1.999,v_100=2 1700000000000000000\n");
  CHECK(push_lines(*agg) == "");
}

TEST_CASE("quantile: an empty quantile list means the default") {
  auto agg = make_aggregator("quantile", "{quantiles: []}");
  add_lines(*agg, "m v=1 1700000000000000000\n");
  CHECK(push_lines(*agg) == "m v_025=1,v_050=1,v_075=1 1700000000000000000\n");
}

TEST_CASE("quantile: option errors") {
  CHECK(option_error("quantile", "{quantiles: [0.5, 1.5]}") ==
        "quantiles: expected a number from 0 to 1, got \"1.5\"");
  CHECK(option_error("quantile", "{quantiles: [half]}") ==
        "quantiles: expected a number from 0 to 1, got \"half\"");
  CHECK(option_error("quantile", "{quantiles: [0.5, 0.501]}") ==
        "quantiles: \"0.501\" gives the same field name (_050) as an earlier quantile");
  CHECK(option_error("quantile", "{algorithm: exact}") ==
        "algorithm: expected t-digest, \"exact R7\" or \"exact R8\", got \"exact\"");
  CHECK(option_error("quantile", "{compression: 0.5}") == "compression: must be 1 or more");
}

TEST_CASE("t-digest: exact while every value is still buffered, and across small merges") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(-50, 50);
  TDigest a(100), b(100);
  std::vector<double> all;
  for (int i = 0; i < 150; ++i) {
    double x = dist(rng);
    a.add(x);
    all.push_back(x);
  }
  for (int i = 0; i < 250; ++i) {
    double x = dist(rng);
    b.add(x);
    all.push_back(x);
  }
  std::sort(all.begin(), all.end());
  const double before = b.quantile(0.5);
  CHECK(b.quantile(0.5) == before);  // querying keeps the values
  a.merge(b);
  CHECK(a.count() == 400);
  for (double q : {0.0, 0.001, 0.1, 0.333, 0.5, 0.9, 0.999, 1.0}) {
    INFO("q=" << q);
    CHECK(a.quantile(q) == reference_r7(all, q));
  }
}

TEST_CASE("t-digest: empty, single value, and extremes after compression") {
  TDigest d(100);
  CHECK(std::isnan(d.quantile(0.5)));
  d.add(3);
  CHECK(d.quantile(0) == 3);
  CHECK(d.quantile(0.5) == 3);
  CHECK(d.quantile(1) == 3);
  for (int i = 0; i < 10000; ++i) d.add(3);
  CHECK(d.quantile(0.5) == 3);
  CHECK(d.min() == 3);
  CHECK(d.max() == 3);
  d.clear();
  CHECK(d.count() == 0);
  CHECK(std::isnan(d.quantile(0.5)));
}

TEST_CASE("t-digest: within its error bound on 100k uniform, normal and exponential values") {
  std::mt19937_64 rng(20240501);
  std::uniform_real_distribution<double> uniform(0, 100);
  std::normal_distribution<double> normal(50, 10);
  std::exponential_distribution<double> exponential(0.5);
  for (int kind = 0; kind < 3; ++kind) {
    INFO("distribution " << kind);
    TDigest digest(100);
    std::vector<double> values;
    for (int i = 0; i < 100000; ++i) {
      double x = kind == 0 ? uniform(rng) : kind == 1 ? normal(rng) : exponential(rng);
      values.push_back(x);
      digest.add(x);
    }
    CHECK(digest.count() == 100000);
    CHECK(digest.centroid_count() <= 100);
    check_accuracy(digest, values);
  }
}

TEST_CASE("t-digest: within its error bound on 1e6 values, in order and shuffled") {
  std::mt19937_64 rng(99);
  std::vector<double> values(1000000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(i);
  // Sorted input is the hard case for a merging digest: every buffer lands past the last one.
  TDigest sorted_input(100);
  for (double x : values) sorted_input.add(x);
  check_accuracy(sorted_input, values);

  std::shuffle(values.begin(), values.end(), rng);
  TDigest shuffled(100);
  for (double x : values) shuffled.add(x);
  check_accuracy(shuffled, values);
}

TEST_CASE("t-digest: merging the digests of two halves matches one digest of the whole") {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> dist(0, 1);
  TDigest whole(100), first(100), second(100);
  std::vector<double> values;
  for (int i = 0; i < 100000; ++i) {
    double x = dist(rng);
    values.push_back(x);
    whole.add(x);
    (i < 50000 ? first : second).add(x);
  }
  first.merge(second);
  CHECK(first.count() == 100000);
  CHECK(first.min() == whole.min());
  CHECK(first.max() == whole.max());
  check_accuracy(first, values);
  std::sort(values.begin(), values.end());
  for (double q : kProbes) {
    INFO("q=" << q);
    double apart =
        std::abs(rank_of(values, first.quantile(q)) - rank_of(values, whole.quantile(q)));
    CHECK(apart <= 2 * rank_bound(q, 100));
  }
}

TEST_CASE("t-digest: a larger compression is more accurate") {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> dist(0, 1);
  TDigest coarse(20), fine(500);
  std::vector<double> values;
  for (int i = 0; i < 100000; ++i) {
    double x = dist(rng);
    values.push_back(x);
    coarse.add(x);
    fine.add(x);
  }
  check_accuracy(coarse, values);
  check_accuracy(fine, values);
  CHECK(coarse.centroid_count() < fine.centroid_count());
}
