#include <doctest/doctest.h>

#include "processor_test_support.hpp"

using sluice::testing::make_processor;
using sluice::testing::run_lines;

TEST_CASE("scale: input range to output range, integers become floats") {
  auto p = make_processor("scale", R"({scaling: [
      {input_minimum: 0, input_maximum: 1, output_minimum: 0, output_maximum: 100, fields: "cpu*"},
      {input_minimum: -40, input_maximum: 60, output_minimum: 0, output_maximum: 1000, fields: temp}]})");
  CHECK(run_lines(*p, "m cpu_a=0.5,cpu_b=2i,temp=10i,other=7i 1\n") ==
        "m cpu_a=50,cpu_b=200,temp=500,other=7i 1\n");
}

TEST_CASE("scale: factor and offset, several fields in one rule, non-numbers left alone") {
  sluice::testing::CapturingLogger log;
  auto p = make_processor("scale", R"({scaling: [{factor: 2, offset: 1, fields: "a, b"}]})", log);
  CHECK(run_lines(*p, "m a=1i,b=2.5,c=3i,s=\"x\" 1\nm a=\"text\" 2\nm b=true 3\n") ==
        "m a=3,b=6,c=3i,s=\"x\" 1\nm a=\"text\" 2\nm b=3 3\n");
  CHECK(log.contains("cannot scale field \"a\""));
  auto only_factor = make_processor("scale", "{scaling: [{factor: 0.001, fields: bytes}]}");
  CHECK(run_lines(*only_factor, "m bytes=2000u 1\n") == "m bytes=2 1\n");
}

TEST_CASE("scale: option errors") {
  CHECK_THROWS_WITH_AS(make_processor("scale", "{scaling: [{factor: 2}]}"),
                       doctest::Contains("\"fields\" is required"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("scale", "{scaling: [{input_minimum: 0, fields: a}]}"),
                  sluice::OptionError);
  CHECK_THROWS_WITH_AS(
      make_processor("scale",
                     "{scaling: [{input_minimum: 0, input_maximum: 1, output_minimum: 0, "
                     "output_maximum: 1, factor: 2, fields: a}]}"),
      doctest::Contains("either"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("scale",
                                 "{scaling: [{input_minimum: 1, input_maximum: 1, "
                                 "output_minimum: 0, output_maximum: 1, fields: a}]}"),
                  sluice::OptionError);
  CHECK_THROWS_WITH_AS(
      make_processor("scale", "{scaling: [{factor: 2, fields: a}, {offset: 1, fields: a}]}"),
      doctest::Contains("already scaled"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("scale", "{scaling: [{factor: two, fields: a}]}"),
                  sluice::OptionError);
  CHECK_THROWS_AS(make_processor("scale", "{scaling: [{fields: a}]}"), sluice::OptionError);
}
