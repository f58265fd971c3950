#include <doctest/doctest.h>

#include "aggregator_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("valuecounter: counts each value of the chosen fields, as <field>_<value>") {
  auto agg = make_aggregator("valuecounter", "{fields: [response, ok]}");
  add_lines(*agg,
            "access,url=/a response=\"200\",bytes=10i 1700000000000000000\n"
            "access,url=/a response=\"401\",ok=false 1700000001000000000\n"
            "access,url=/b response=\"200\" 1700000001000000000\n"
            "access,url=/a response=\"200\",ok=true 1700000002000000000\n"
            "access,url=/a response=200i,ok=true 1700000003000000000\n");
  // The integer 200 is written as the string "200" was: both count as response_200.
  CHECK(push_lines(*agg) ==
        "access,url=/a response_200=3i,response_401=1i,ok_false=1i,ok_true=2i "
        "1700000000000000000\n"
        "access,url=/b response_200=1i 1700000000000000000\n");
  CHECK(push_lines(*agg) == "");
}

TEST_CASE("valuecounter: numbers are named as Go's %v writes them") {
  auto agg = make_aggregator("valuecounter", "{fields: [v]}");
  add_lines(*agg,
            "m v=1.5 1700000000000000000\n"
            "m v=1000000 1700000000000000000\n"
            "m v=100000 1700000000000000000\n"
            "m v=3u 1700000000000000000\n"
            "m v=-2i 1700000000000000000\n"
            "m v=0.00001 1700000000000000000\n");
  CHECK(push_lines(*agg) ==
        "m v_1.5=1i,v_1e+06=1i,v_100000=1i,v_3=1i,v_-2=1i,v_1e-05=1i 1700000000000000000\n");
}

TEST_CASE("valuecounter: without fields nothing is counted, the type is gauge") {
  auto none = make_aggregator("valuecounter");
  add_lines(*none, "m v=1 1700000000000000000\n");
  CHECK(push_lines(*none) == "");

  auto agg = make_aggregator("valuecounter", "{fields: [v]}");
  add_lines(*agg, "m v=1 1700000000000000000\nother w=1 1700000000000000000\n");
  auto metrics = push_metrics(*agg);
  REQUIRE(metrics.size() == 1);
  CHECK(metrics[0].type() == ValueType::kGauge);
}
