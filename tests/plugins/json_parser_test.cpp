// The json data format: paths to measurement, tags, typed fields and time (one metric per array
// element with #), and objects mode with flattening.
#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;
using namespace std::string_view_literals;

namespace {

constexpr int64_t kT = 1'700'000'000LL * kSecond;

struct Parsed {
  Batch metrics;
  std::vector<ParseError> errors;
};

Parsed parse(Parser& parser, std::string_view data) {
  Parsed p;
  parser.parse(data, kGatherTime, p.metrics, p.errors);
  return p;
}

using S = std::string;
using L = std::vector<std::string>;

// A parser whose options include metric_name, as an input's merged options do (the value format
// declares it; make_parser sets only the format's own options).
std::unique_ptr<Parser> make_named_parser(std::string_view format, const OptionOverrides& overrides,
                                          const std::string& metric_name) {
  const plugin::PluginInfo* info = builtin_registry().find(plugin::Kind::kParser, format);
  Options options = plugin_options(*info, overrides);
  options.set("metric_name", metric_name, true);
  NullLogger log;
  return info->create_parser(PluginContext{options, log});
}
using Rules = std::vector<StringMap>;

constexpr std::string_view kWeather = R"({
  "name": "weather",
  "station": {"id": "s1", "alt": 120},
  "readings": [
    {"t": 1700000000, "temp": 21.5, "hum": "40", "ok": true},
    {"t": 1700000060, "temp": 22, "hum": "41", "ok": false}
  ]
})";

}  // namespace

TEST_CASE("json paths select the name, tags, typed fields and time, one metric per element") {
  auto parser = make_parser(
      "json",
      {{"json_measurement_name_path", S("name")},
       {"json_tags", Rules{{{"path", "station.id"}, {"rename", "station"}}}},
       {"json_fields", Rules{{{"path", "readings.#.temp"}, {"type", "float"}},
                             {{"path", "readings.#.hum"}, {"type", "int"}, {"rename", "humidity"}},
                             {{"path", "readings.#.ok"}},
                             {{"path", "station.alt"}, {"type", "uint"}},
                             {{"path", "missing.key"}, {"optional", "true"}}}},
       {"json_timestamp_path", S("readings.#.t")},
       {"json_timestamp_format", S("unix")}});
  CHECK_FALSE(parser->splits_on_lines());
  Parsed p = parse(*parser, kWeather);
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0].name() == "weather");
  CHECK(p.metrics[0].tags() == std::vector<Tag>{{"station", "s1"}});
  CHECK(p.metrics[0].fields() ==
        std::vector<Field>{
            {"temp", 21.5}, {"humidity", int64_t{40}}, {"ok", true}, {"alt", uint64_t{120}}});
  CHECK(p.metrics[0].time() == kT);
  CHECK(p.metrics[1].fields() ==
        std::vector<Field>{
            {"temp", 22.0}, {"humidity", int64_t{41}}, {"ok", false}, {"alt", uint64_t{120}}});
  CHECK(p.metrics[1].time() == kT + 60 * kSecond);
}

TEST_CASE("json array indexes and millisecond times") {
  auto parser = make_parser(
      "json", {{"json_measurement_name", S("first")},
               {"json_fields", Rules{{{"path", "v.1"}, {"rename", "second"}}, {{"path", "a\\.b"}}}},
               {"json_timestamp_path", S("ts")},
               {"json_timestamp_format", S("unix_ms")}});
  Parsed p = parse(*parser, R"({"v": [10, 20, 30], "a.b": "dotted", "ts": 1700000000123})");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].name() == "first");
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"second", int64_t{20}}, {"a.b", S("dotted")}});
  CHECK(p.metrics[0].time() == kT + 123'000'000);
}

TEST_CASE("json objects mode: one metric per object, flattened, with tag keys and a time key") {
  auto parser =
      make_parser("json", {{"json_object_path", S("cpus")},
                           {"json_object_tag_keys", L{"id"}},
                           {"json_object_excluded_keys", L{"extra"}},
                           {"json_object_timestamp_key", S("ts")},
                           {"json_timestamp_format", S("RFC3339")},
                           {"json_object_field_types", StringMap{{"usage_user", "float"}}},
                           {"json_tags", Rules{{{"path", "host"}}}},
                           {"json_measurement_name", S("cpu")}});
  Parsed p = parse(*parser, R"({"host": "h1", "cpus": [
    {"id": "cpu0", "usage": {"user": 1.5, "system": 0.5}, "ts": "2023-11-14T22:13:20Z", "extra": "x"},
    {"id": "cpu1", "usage": {"user": 2, "system": 1}, "ts": "2023-11-14T22:13:21Z", "extra": "y"}]})");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0].name() == "cpu");
  CHECK(p.metrics[0].tags() == std::vector<Tag>{{"host", "h1"}, {"id", "cpu0"}});
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"usage_system", 0.5}, {"usage_user", 1.5}});
  CHECK(p.metrics[0].time() == kT);
  CHECK(p.metrics[1].tags() == std::vector<Tag>{{"host", "h1"}, {"id", "cpu1"}});
  CHECK(p.metrics[1].fields() ==
        std::vector<Field>{{"usage_system", int64_t{1}}, {"usage_user", 2.0}});
  CHECK(p.metrics[1].time() == kT + kSecond);
}

TEST_CASE("json without fields flattens the whole document, included keys narrow it") {
  auto parser = make_named_parser("json", {}, "doc");
  Parsed p =
      parse(*parser,
            R"({"a": 1, "b": {"c": "x", "d": [1, 2.5]}, "n": null, "big": 18446744073709551615})");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].name() == "doc");
  CHECK(p.metrics[0].time() == kGatherTime);
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"a", int64_t{1}},
                                                    {"b_c", S("x")},
                                                    {"b_d_0", int64_t{1}},
                                                    {"b_d_1", 2.5},
                                                    {"big", uint64_t{18446744073709551615ULL}}});
  auto narrow = make_parser("json", {{"json_object_included_keys", L{"a", "b_d_1"}}});
  p = parse(*narrow, R"({"a": 1, "b": {"c": "x", "d": [1, 2.5]}})");
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].name() == "json");
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"a", int64_t{1}}, {"b_d_1", 2.5}});
}

TEST_CASE("invalid json is reported with its line and column") {
  auto parser = make_parser("json");
  Parsed p = parse(*parser, "{\n  \"a\": 1,\n  \"b\": tru\n}");
  CHECK(p.metrics.empty());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].line == 3);
  CHECK(p.errors[0].column == 11);
  CHECK(p.errors[0].reason.starts_with("invalid JSON: syntax error"));

  p = parse(*parser, "{\"a\": [1, 2");
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].line == 1);
  CHECK(p.errors[0].column == 12);

  p = parse(*parser, "\x00\xff\x01"sv);
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].line == 1);
  CHECK(p.errors[0].column == 1);
}

TEST_CASE("json lines: one document per line, a bad line skipped with its line number") {
  auto parser = make_parser("json", {{"json_fields", Rules{{{"path", "v"}, {"type", "int"}}}}});
  Parsed p = parse(*parser, "{\"v\": 1}\n\n{\"v\": 2}\nnot json\n{\"v\": \"x\"}\n{\"v\": 3}");
  REQUIRE(p.metrics.size() == 3);
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"v", int64_t{1}}});
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"v", int64_t{2}}});
  CHECK(p.metrics[2].fields() == std::vector<Field>{{"v", int64_t{3}}});
  REQUIRE(p.errors.size() == 2);
  CHECK(p.errors[0].line == 4);
  CHECK(p.errors[0].column == 2);
  CHECK(p.errors[0].reason.starts_with("invalid JSON: syntax error"));
  CHECK(p.errors[1].line == 0);
  CHECK(p.errors[1].reason == "field path v: x is not an integer");

  // A pretty-printed document with an error stays one error, not one per line.
  p = parse(*parser, "{\n  \"v\": 1,\n}\n");
  CHECK(p.metrics.empty());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].line == 3);
}

TEST_CASE("a json value of the wrong type drops its metric only, a missing path is named") {
  auto parser = make_parser("json", {{"json_fields", Rules{{{"path", "#.v"}, {"type", "int"}}}}});
  Parsed p = parse(*parser, R"([{"v": 1}, {"v": "abc"}, {"v": 3.9}, {"v": {"x": 1}}])");
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"v", int64_t{1}}});
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"v", int64_t{3}}});
  REQUIRE(p.errors.size() == 2);
  CHECK(p.errors[0].line == 0);
  CHECK(p.errors[0].reason == "field path #.v: abc is not an integer");
  CHECK(p.errors[1].reason == "field path #.v: {\"x\":1} is not an integer");

  p = parse(*parser, R"({"other": 1})");
  CHECK(p.metrics.empty());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].reason == "path #.v not found in the document");

  p = parse(*parser, "[]");  // an empty array: nothing, and no error
  CHECK(p.metrics.empty());
  CHECK(p.errors.empty());
}

TEST_CASE("malformed json options are refused at creation") {
  CHECK_THROWS_WITH_AS(
      make_parser("json", {{"json_fields", Rules{{{"path", "a"}, {"type", "decimal"}}}}}),
      doctest::Contains("is not int, uint, float, bool or string"), OptionError);
  CHECK_THROWS_WITH_AS(make_parser("json", {{"json_fields", Rules{{{"pth", "a"}}}}}),
                       doctest::Contains("unknown key \"pth\""), OptionError);
  CHECK_THROWS_WITH_AS(make_parser("json", {{"json_tags", Rules{{{"path", "a..b"}}}}}),
                       doctest::Contains("empty segment"), OptionError);
  CHECK_THROWS_WITH_AS(
      make_parser("json", {{"json_object_path", S("x")}, {"json_fields", Rules{{{"path", "a"}}}}}),
      doctest::Contains("objects mode"), OptionError);
  CHECK_THROWS_WITH_AS(make_parser("json", {{"json_timezone", S("Mars/Olympus")}}),
                       doctest::Contains("Mars"), OptionError);
}
