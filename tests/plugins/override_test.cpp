#include <doctest/doctest.h>

#include "processor_test_support.hpp"

using sluice::testing::make_processor;
using sluice::testing::run_lines;

TEST_CASE("override: name override, prefix, suffix and tags") {
  auto p = make_processor(
      "override",
      "{name_override: net, name_prefix: 'a_', name_suffix: '_z', tags: {dc: x, host: h2}}");
  CHECK(run_lines(*p, "cpu,host=h1 v=1i 1\nmem v=2i 2\n") ==
        "a_net_z,dc=x,host=h2 v=1i 1\na_net_z,dc=x,host=h2 v=2i 2\n");
}

TEST_CASE("override: prefix alone keeps the name, nothing set changes nothing") {
  auto p = make_processor("override", "{name_prefix: 'p.'}");
  CHECK(run_lines(*p, "cpu v=1i 1\n") == "p.cpu v=1i 1\n");
  auto none = make_processor("override");
  CHECK(run_lines(*none, "cpu,a=b v=1i 1\n") == "cpu,a=b v=1i 1\n");
  CHECK(none->process({}).empty());
}
