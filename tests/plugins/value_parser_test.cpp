// The value data format: one value per message, typed by data_type.
#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;
using namespace std::string_view_literals;

namespace {

struct Parsed {
  Batch metrics;
  std::vector<ParseError> errors;
};

Parsed parse(Parser& parser, std::string_view data) {
  Parsed p;
  parser.parse(data, kGatherTime, p.metrics, p.errors);
  return p;
}

}  // namespace

TEST_CASE("the value parser reads an integer, the last word of the message") {
  auto parser = make_parser("value", {{"data_type", std::string("integer")}});
  CHECK_FALSE(parser->splits_on_lines());
  Parsed p = parse(*parser, "  entropy: 3042\n");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].name() == "value");
  CHECK(p.metrics[0].time() == kGatherTime);
  REQUIRE(p.metrics[0].fields().size() == 1);
  CHECK(p.metrics[0].fields()[0] == Field{"value", int64_t{3042}});
  CHECK(p.metrics[0].tags().empty());
}

TEST_CASE("the value parser types float, boolean and string values") {
  auto f = make_parser("value", {{"data_type", std::string("float")},
                                 {"value_field_name", std::string("temp")},
                                 {"metric_name", std::string("sensor")}});
  Parsed p = parse(*f, "-12.5e1");
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].name() == "sensor");
  CHECK(p.metrics[0].fields()[0] == Field{"temp", -125.0});

  auto b = make_parser("value", {{"data_type", std::string("boolean")}});
  p = parse(*b, "True\x00\x00"sv);
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].fields()[0] == Field{"value", true});

  auto s = make_parser("value", {{"data_type", std::string("string")}});
  p = parse(*s, "  hello big world \n");
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].fields()[0] == Field{"value", std::string("hello big world")});
}

TEST_CASE("the value parser's auto types fall back to a string") {
  auto ai = make_parser("value", {{"data_type", std::string("auto_integer")}});
  Parsed p = parse(*ai, "42");
  CHECK(p.metrics.at(0).fields()[0] == Field{"value", int64_t{42}});
  p = parse(*ai, "4.2");
  CHECK(p.metrics.at(0).fields()[0] == Field{"value", std::string("4.2")});
  auto af = make_parser("value", {{"data_type", std::string("auto_float")}});
  p = parse(*af, "42");
  CHECK(p.metrics.at(0).fields()[0] == Field{"value", 42.0});
  p = parse(*af, "n/a");
  CHECK(p.metrics.at(0).fields()[0] == Field{"value", std::string("n/a")});
}

TEST_CASE(
    "the value parser reports a wrong type with its position and an empty message as nothing") {
  auto parser = make_parser("value", {{"data_type", std::string("integer")}});
  Parsed p = parse(*parser, "count\n 12x");
  CHECK(p.metrics.empty());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].line == 2);
  CHECK(p.errors[0].column == 2);
  CHECK(p.errors[0].reason == "\"12x\" is not a 64-bit integer");

  p = parse(*parser, "99999999999999999999");  // beyond int64
  CHECK(p.metrics.empty());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].column == 1);

  p = parse(*parser, "\xff\xfe\x01garbage");
  CHECK(p.metrics.empty());
  CHECK(p.errors.size() == 1);

  p = parse(*parser, " \n\t ");
  CHECK(p.metrics.empty());
  CHECK(p.errors.empty());

  auto b = make_parser("value", {{"data_type", std::string("boolean")}});
  p = parse(*b, "yes");
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].reason == "\"yes\" is not a boolean (true/false, t/f, 1/0)");
}

TEST_CASE("the value parser refuses an unknown data_type") {
  CHECK_THROWS_WITH_AS(make_parser("value", {{"data_type", std::string("decimal")}}),
                       doctest::Contains("is not integer, float"), OptionError);
}
