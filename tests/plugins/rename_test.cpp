#include <doctest/doctest.h>

#include "processor_test_support.hpp"

using sluice::testing::make_processor;
using sluice::testing::run_lines;

TEST_CASE("rename: measurement, tag and field, as in Telegraf's example") {
  auto p = make_processor("rename", R"({replace: [
      {measurement: network_interface_throughput, dest: throughput},
      {tag: hostname, dest: host},
      {field: lower, dest: min},
      {field: upper, dest: max}]})");
  CHECK(run_lines(*p,
                  "network_interface_throughput,hostname=backend.example.com "
                  "lower=10i,upper=1000i,mean=500i 1502489900000000000\n") ==
        "throughput,host=backend.example.com min=10i,max=1000i,mean=500i 1502489900000000000\n");
}

TEST_CASE("rename: missing keys leave the metric alone, renames apply in order") {
  auto p = make_processor("rename", R"({replace: [
      {tag: a, dest: b}, {tag: b, dest: c}, {field: x, dest: y}, {measurement: other, dest: z}]})");
  CHECK(run_lines(*p, "m,a=1 v=1i 1\nm,q=2 v=2i 2\n") == "m,c=1 v=1i 1\nm,q=2 v=2i 2\n");
}

TEST_CASE("rename: a field renamed onto an existing one replaces it and keeps its place") {
  auto p = make_processor("rename", "{replace: [{field: a, dest: c}, {tag: t, dest: u}]}");
  CHECK(run_lines(*p, "m,t=new,u=old a=1i,b=2i,c=3i 1\n") == "m,u=new c=1i,b=2i 1\n");
}

TEST_CASE("rename: empty batch and no rules") {
  auto p = make_processor("rename", "{replace: [{tag: a, dest: b}]}");
  CHECK(p->process({}).empty());
  auto none = make_processor("rename");
  CHECK(run_lines(*none, "m,a=1 v=1 1\n") == "m,a=1 v=1 1\n");
}

TEST_CASE("rename: option errors") {
  CHECK_THROWS_WITH_AS(make_processor("rename", "{replace: [{tag: a}]}"),
                       doctest::Contains("rule 1: \"dest\" is required"), sluice::OptionError);
  CHECK_THROWS_WITH_AS(make_processor("rename", "{replace: [{tag: a, field: b, dest: c}]}"),
                       doctest::Contains("give only one of"), sluice::OptionError);
  CHECK_THROWS_WITH_AS(make_processor("rename", "{replace: [{dest: c}]}"),
                       doctest::Contains("one of measurement, tag, field is required"),
                       sluice::OptionError);
  CHECK_THROWS_WITH_AS(make_processor("rename", "{replace: [{tga: a, dest: c}]}"),
                       doctest::Contains("unknown key \"tga\""), sluice::OptionError);
}
