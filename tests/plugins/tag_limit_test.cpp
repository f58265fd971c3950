#include <doctest/doctest.h>

#include "processor_test_support.hpp"

using sluice::testing::make_processor;
using sluice::testing::run_lines;

TEST_CASE("tag_limit: keeps the preferred tags, drops others in key order") {
  auto p = make_processor("tag_limit", "{limit: 3, keep: [environment, region]}");
  CHECK(
      run_lines(*p, "throughput,a=1,b=2,environment=qa,month=Jun,region=us-east1 lower=10i 1\n") ==
      "throughput,environment=qa,month=Jun,region=us-east1 lower=10i 1\n");
}

TEST_CASE("tag_limit: metrics within the limit are untouched, limit 0 drops every tag") {
  auto p = make_processor("tag_limit", "{limit: 2}");
  CHECK(run_lines(*p, "m,a=1,b=2 v=1i 1\nm,a=1,b=2,c=3 v=1i 2\n") ==
        "m,a=1,b=2 v=1i 1\nm,b=2,c=3 v=1i 2\n");
  auto zero = make_processor("tag_limit", "{limit: 0}");
  CHECK(run_lines(*zero, "m,a=1,b=2 v=1i 1\n") == "m v=1i 1\n");
}

TEST_CASE("tag_limit: option errors") {
  CHECK_THROWS_AS(make_processor("tag_limit", "{limit: 1, keep: [a, b]}"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("tag_limit", "{limit: -1}"), sluice::OptionError);
}
