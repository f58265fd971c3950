#include <doctest/doctest.h>

#include "processor_test_support.hpp"
#include "processors/converter/conversions.hpp"

using sluice::testing::make_processor;
using sluice::testing::run_lines;

TEST_CASE("converter: a tag to a string field, as in Telegraf's example") {
  auto p = make_processor("converter", "{tags: {string: [port]}}");
  CHECK(run_lines(*p, "apache,port=80,server=debian BusyWorkers=1,BytesPerReq=0 1\n") ==
        "apache,server=debian BusyWorkers=1,BytesPerReq=0,port=\"80\" 1\n");
}

TEST_CASE("converter: tags to typed fields, values that do not convert are dropped") {
  sluice::testing::CapturingLogger log;
  auto p = make_processor(
      "converter",
      "{tags: {integer: [i*], unsigned: [u*], boolean: [b*], float: [f*], measurement: [name]}}",
      log);
  CHECK(run_lines(*p,
                  "m,b1=t,b2=maybe,f1=1e3,f2=0x1F,i1=0x10,i2=-2.5,i3=x,name=renamed,u1=-5,u2=7 "
                  "v=1i 1\n") ==
        "renamed v=1i,b1=true,f1=1000,f2=31,i1=16i,i2=-3i,u1=0u,u2=7u 1\n");
  CHECK(log.contains("cannot convert tag \"b2\" value \"maybe\" to boolean"));
  CHECK(log.contains("\"i3\""));
}

TEST_CASE("converter: fields change type in place, rounding half away from zero") {
  auto p = make_processor("converter",
                          "{fields: {integer: [\"scboard_*\"], unsigned: [u], float: [f], "
                          "boolean: [b], string: [s]}}");
  CHECK(run_lines(*p,
                  "apache scboard_closing=0.5,scboard_open=2.5,scboard_neg=-2.5,u=-3i,f=\"12.5\","
                  "b=0i,s=1.25,other=1.5 1\n") ==
        "apache scboard_closing=1i,scboard_open=3i,scboard_neg=-3i,u=0u,f=12.5,b=false,"
        "s=\"1.25\",other=1.5 1\n");
}

TEST_CASE("converter: fields to tags and to the measurement name") {
  auto p = make_processor("converter", "{fields: {tag: [code, big], measurement: [kind]}}");
  CHECK(run_lines(*p, "m code=404i,big=1e21,kind=\"http\",v=1i 1\n") ==
        "http,big=1000000000000000000000,code=404 v=1i 1\n");
}

TEST_CASE("converter: the timestamp from a tag or a field") {
  auto unix_ms =
      make_processor("converter", "{tags: {timestamp: [ts], timestamp_format: unix_ms}}");
  CHECK(run_lines(*unix_ms, "m,ts=1700000000123 v=1i 1\n") == "m v=1i 1700000000123000000\n");

  auto layout = make_processor(
      "converter",
      "{fields: {timestamp: [time], timestamp_format: \"2006-01-02T15:04:05Z07:00\"}}");
  CHECK(run_lines(*layout, "m time=\"2023-11-14T23:13:20+01:00\",v=1i 1\n") ==
        "m v=1i 1700000000000000000\n");

  auto unix_s = make_processor("converter", "{fields: {timestamp: [t], timestamp_format: unix}}");
  CHECK(run_lines(*unix_s,
                  "m t=1700000000.5,v=1i 1\nm t=1700000001i,v=2i 2\nm t=\"1.25\",v=3i 3\n") ==
        "m v=1i 1700000000500000000\nm v=2i 1700000001000000000\nm v=3i 1250000000\n");

  sluice::testing::CapturingLogger log;
  auto bad = make_processor("converter", "{fields: {timestamp: [t], timestamp_format: unix}}", log);
  CHECK(run_lines(*bad, "m t=\"soon\",v=1i 5\n") == "m v=1i 5\n");
  CHECK(log.contains("as a timestamp"));
}

TEST_CASE("converter: empty batch, no conversions") {
  auto p = make_processor("converter");
  CHECK(p->process({}).empty());
  CHECK(run_lines(*p, "m,a=1 b=2i 1\n") == "m,a=1 b=2i 1\n");
}

TEST_CASE("converter: option errors") {
  CHECK_THROWS_WITH_AS(make_processor("converter", "{tags: {tag: [a]}}"),
                       doctest::Contains("unknown target \"tag\""), sluice::OptionError);
  CHECK_THROWS_WITH_AS(make_processor("converter", "{fields: {time: [a]}}"),
                       doctest::Contains("unknown target"), sluice::OptionError);
  CHECK_THROWS_WITH_AS(make_processor("converter", "{fields: {timestamp: [a]}}"),
                       doctest::Contains("timestamp_format"), sluice::OptionError);
  CHECK_THROWS_AS(
      make_processor("converter", "{fields: {timestamp: [a], timestamp_format: nonsense}}"),
      sluice::OptionError);
}

TEST_CASE("converter: conversion rules") {
  using namespace sluice::processors::converter;
  CHECK(parse_integer("0b101") == 5);
  CHECK(parse_integer("0o17") == 15);
  CHECK(parse_integer("017") == 15);
  CHECK(parse_integer("1_000") == 1000);
  CHECK(parse_integer("9223372036854775808") == INT64_MAX);  // read as a float, then clipped
  CHECK(parse_integer("-9223372036854775808") == INT64_MIN);
  CHECK_FALSE(parse_integer("12abc"));
  CHECK_FALSE(parse_integer("NaN"));
  CHECK(parse_unsigned("18446744073709551615") == UINT64_MAX);
  CHECK(parse_unsigned("-1") == 0u);
  CHECK(parse_float("+1.5") == 1.5);
  CHECK_FALSE(parse_float("1e999"));
  CHECK(parse_boolean("True") == true);
  CHECK_FALSE(parse_boolean("yes"));
  CHECK(to_integer(sluice::FieldValue(uint64_t{UINT64_MAX})) == INT64_MAX);
  CHECK(to_unsigned(sluice::FieldValue(1e30)) == UINT64_MAX);
  CHECK(to_text(sluice::FieldValue(0.1)) == "0.1");
  CHECK(to_text(sluice::FieldValue(-3.0)) == "-3");
  CHECK(to_text(sluice::FieldValue(true)) == "true");
}
