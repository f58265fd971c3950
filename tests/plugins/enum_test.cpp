#include <doctest/doctest.h>

#include "processor_test_support.hpp"

using sluice::testing::make_processor;
using sluice::testing::run_lines;

TEST_CASE("enum: field values to typed values, with dest and default") {
  auto p = make_processor("enum", R"({mapping: [
      {field: status, dest: status_code, default: 0,
       value_mappings.green: 1, value_mappings.amber: 2, value_mappings.red: 3}]})");
  CHECK(
      run_lines(*p, "m status=\"green\" 1\nm status=\"purple\" 2\nm other=1i 3\n") ==
      "m status=\"green\",status_code=1i 1\nm status=\"purple\",status_code=0i 2\nm other=1i 3\n");
}

TEST_CASE("enum: without default, unmapped values stay, integers and booleans map by text") {
  auto p = make_processor("enum", R"({mapping: [
      {fields: "code, ok", value_mappings.200: OK, value_mappings.true: 1.5, value_mappings.false: off}]})");
  CHECK(run_lines(*p, "m code=200i,ok=true 1\nm code=500i,ok=false 2\nm code=200.0 3\n") ==
        "m code=\"OK\",ok=1.5 1\nm code=500i,ok=\"off\" 2\nm code=200 3\n");
}

TEST_CASE("enum: tags map to text, mappings read the metric as it came") {
  auto p = make_processor("enum", R"({mapping: [
      {tag: "s*", value_mappings.a: b, value_mappings.b: c},
      {tag: state, dest: state_num, value_mappings.a: 1},
      {tag: level, default: unknown, value_mappings.1: low}]})");
  CHECK(run_lines(*p, "m,level=9,state=a,size=b v=1i 1\n") ==
        "m,level=unknown,size=c,state=b,state_num=1 v=1i 1\n");
}

TEST_CASE("enum: empty batch and option errors") {
  auto p = make_processor("enum", "{mapping: [{field: f, value_mappings.a: b}]}");
  CHECK(p->process({}).empty());
  CHECK_THROWS_WITH_AS(make_processor("enum", "{mapping: [{value_mappings.a: b}]}"),
                       doctest::Contains("field(s) or tag(s)"), sluice::OptionError);
  CHECK_THROWS_WITH_AS(make_processor("enum", "{mapping: [{field: f, values.a: b}]}"),
                       doctest::Contains("unknown key \"values.a\""), sluice::OptionError);
}
