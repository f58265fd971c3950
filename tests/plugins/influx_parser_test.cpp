// The influx data format as inputs use it: through the registry, with the time of reading for
// lines without one, and bad lines reported and skipped.
#include <doctest/doctest.h>

#include "plugin/format_factory.hpp"
#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("the influx parser keeps good lines, reports bad ones with their position") {
  auto parser = make_parser("influx");
  CHECK(parser->splits_on_lines());
  Batch out;
  std::vector<ParseError> errors;
  parser->parse("cpu,host=a usage=1.5 1700000000000000000\nbad line\nmem free=3i\n", kGatherTime,
                out, errors);
  REQUIRE(out.size() == 2);
  CHECK(out[0].name() == "cpu");
  CHECK(out[0].time() == 1'700'000'000'000'000'000);
  CHECK(out[1].name() == "mem");
  CHECK(out[1].time() == kGatherTime);  // no timestamp: the time it was read
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].line == 2);
  CHECK(errors[0].column > 0);
  CHECK_FALSE(errors[0].reason.empty());
}

TEST_CASE("the influx parser reads timestamps in the configured precision") {
  auto parser = make_parser("influx", {{"influx_timestamp_precision", std::chrono::nanoseconds(1'000'000'000)}});
  Batch out;
  std::vector<ParseError> errors;
  parser->parse("cpu usage=1 1700000000\n", 0, out, errors);
  REQUIRE(out.size() == 1);
  CHECK(out[0].time() == 1'700'000'000'000'000'000);
  CHECK_THROWS_WITH_AS(make_parser("influx", {{"influx_timestamp_precision", std::chrono::nanoseconds(7)}}),
                       doctest::Contains("1ns, 1us, 1ms or 1s"), OptionError);
}

TEST_CASE("an unknown data_format names the known ones") {
  Options options;
  options.set("data_format", std::string("yaml"), true);
  NullLogger log;
  CHECK_THROWS_WITH_AS(plugin::make_parser(PluginContext{options, log}),
                       doctest::Contains("unknown data format \"yaml\" (known: collectd, csv, graphite, influx, json, prometheus, value)"),
                       OptionError);
}
