// The csv data format: header rows, typed, tag, measurement and time columns, RFC 4180 quoting,
// and the header remembered across the messages of a stream.
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

}  // namespace

TEST_CASE("the csv parser reads a header and guesses the value types") {
  auto parser = make_named_parser("csv",
                                  {{"csv_header_row_count", int64_t{1}},
                                   {"csv_tag_columns", L{"host"}},
                                   {"csv_timestamp_column", S("time")},
                                   {"csv_timestamp_format", S("unix")}},
                                  "cpu");
  CHECK(parser->splits_on_lines());
  Parsed p = parse(*parser,
                   "host,usage,count,up,note,time\r\n"
                   "a,1.5,3,true,hi there,1700000000\r\n"
                   "b,-2e3,-7,f,,1700000001\n");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 2);
  const Metric& m = p.metrics[0];
  CHECK(m.name() == "cpu");
  CHECK(m.time() == kT);
  CHECK(m.tags() == std::vector<Tag>{{"host", "a"}});
  CHECK(m.fields() ==
        std::vector<Field>{
            {"usage", 1.5}, {"count", int64_t{3}}, {"up", true}, {"note", S("hi there")}});
  CHECK(p.metrics[1].time() == kT + kSecond);
  CHECK(p.metrics[1].fields() ==
        std::vector<Field>{
            {"usage", -2000.0}, {"count", int64_t{-7}}, {"up", false}, {"note", S("")}});
}

TEST_CASE("csv column names, types, measurement column, skips and trimming") {
  auto parser =
      make_parser("csv", {{"csv_column_names", L{"skipme", "name", "id", "v", "flag"}},
                          {"csv_column_types", L{"string", "string", "string", "float", "bool"}},
                          {"csv_measurement_column", S("name")},
                          {"csv_skip_rows", int64_t{1}},
                          {"csv_skip_values", L{"NA"}},
                          {"csv_delimiter", S(";")},
                          {"csv_comment", S("#")},
                          {"csv_trim_space", true}});
  Parsed p = parse(*parser,
                   "this first row is skipped\n"
                   "# a comment\n"
                   "x; disk ; 42 ; 7 ; 1\n"
                   "\n"
                   "x;mem;43;NA;0\n");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0].name() == "disk");
  CHECK(p.metrics[0].fields() ==
        std::vector<Field>{{"skipme", S("x")}, {"id", S("42")}, {"v", 7.0}, {"flag", true}});
  CHECK(p.metrics[1].name() == "mem");
  CHECK(p.metrics[1].fields() ==
        std::vector<Field>{{"skipme", S("x")}, {"id", S("43")}, {"flag", false}});
}

TEST_CASE("csv quoted fields follow RFC 4180: delimiters, doubled quotes and line breaks") {
  auto parser =
      make_parser("csv", {{"csv_header_row_count", int64_t{1}}, {"csv_skip_columns", int64_t{1}}});
  Parsed p = parse(*parser,
                   "idx,\"the, name\",text\n"
                   "0,\"a,b\",\"say \"\"hi\"\"\"\n"
                   "1,\"two\nlines\",x\n"
                   "2,plain,\"\"\n");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 3);
  CHECK(p.metrics[0].name() == "csv");
  CHECK(p.metrics[0].fields() ==
        std::vector<Field>{{"the, name", S("a,b")}, {"text", S("say \"hi\"")}});
  CHECK(p.metrics[1].fields() ==
        std::vector<Field>{{"the, name", S("two\nlines")}, {"text", S("x")}});
  CHECK(p.metrics[2].fields() == std::vector<Field>{{"the, name", S("plain")}, {"text", S("")}});
}

TEST_CASE("the csv header is remembered across messages unless csv_reset_mode is always") {
  auto parser = make_parser("csv", {{"csv_header_row_count", int64_t{2}}});
  Parsed p = parse(*parser, "mem,mem\n_free,_used\n");
  CHECK(p.metrics.empty());
  CHECK(p.errors.empty());
  p = parse(*parser, "1,2\n");
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].fields() ==
        std::vector<Field>{{"mem_free", int64_t{1}}, {"mem_used", int64_t{2}}});
  p = parse(*parser, "3,4\n5,6\n");
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[1].fields() ==
        std::vector<Field>{{"mem_free", int64_t{5}}, {"mem_used", int64_t{6}}});

  auto always =
      make_parser("csv", {{"csv_header_row_count", int64_t{1}}, {"csv_reset_mode", S("always")}});
  p = parse(*always, "a,b\n1,2\n");
  REQUIRE(p.metrics.size() == 1);
  p = parse(*always, "c,d\n3,4\n");
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"c", int64_t{3}}, {"d", int64_t{4}}});
}

TEST_CASE("csv without header names columns column1, column2 and reads times with a layout") {
  auto parser = make_parser("csv", {{"csv_timestamp_column", S("column1")},
                                    {"csv_timestamp_format", S("2006-01-02T15:04:05")},
                                    {"csv_timezone", S("UTC")}});
  Parsed p = parse(*parser, "2023-11-14T22:13:20,5\n");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].time() == kT);
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"column2", int64_t{5}}});
}

TEST_CASE("bad csv rows are reported with line and column, the other rows kept") {
  auto parser = make_parser("csv", {{"csv_header_row_count", int64_t{1}},
                                    {"csv_column_types", L{"int", "float"}},
                                    {"csv_timestamp_column", S("t")},
                                    {"csv_timestamp_format", S("unix_ms")}});
  Parsed p = parse(*parser,
                   "i,f,t\n"
                   "1,2.5,1700000000000\n"
                   "x,2.5,1700000000000\n"
                   "1,y,1700000000000\n"
                   "1,2,3,4\n"
                   "1,2,yesterday\n"
                   "1,ab\"c,1\n"
                   "1,\"ab\"c,1\n"
                   "\x01\xff\xfe,\x00\x02,\x7f\n"sv
                   "2,3.5,1700000001000\n"
                   "3,\"never closed,1\n");
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"i", int64_t{1}}, {"f", 2.5}});
  CHECK(p.metrics[0].time() == kT);
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"i", int64_t{2}}, {"f", 3.5}});
  CHECK(p.metrics[1].time() == kT + kSecond);
  REQUIRE(p.errors.size() == 8);
  CHECK(p.errors[0].line == 3);
  CHECK(p.errors[0].column == 1);
  CHECK(p.errors[0].reason == "column i: \"x\" is not an integer");
  CHECK(p.errors[1].line == 4);
  CHECK(p.errors[1].column == 3);
  CHECK(p.errors[1].reason == "column f: \"y\" is not a float");
  CHECK(p.errors[2].line == 5);
  CHECK(p.errors[2].reason == "the row has 4 columns, the header 3");
  CHECK(p.errors[3].line == 6);
  CHECK(p.errors[3].column == 5);
  CHECK(p.errors[3].reason ==
        "column t: \"yesterday\" is not a time in the format csv_timestamp_format");
  CHECK(p.errors[4].line == 7);
  CHECK(p.errors[4].column == 5);
  CHECK(p.errors[4].reason == "bare quote in an unquoted field");
  CHECK(p.errors[5].line == 8);
  CHECK(p.errors[5].column == 7);
  CHECK(p.errors[6].line == 9);
  CHECK(p.errors[7].line == 11);
  CHECK(p.errors[7].column == 3);
  CHECK(p.errors[7].reason == "quoted field is not closed");
}

TEST_CASE("malformed csv options are refused at creation") {
  CHECK_THROWS_WITH_AS(make_parser("csv", {{"csv_column_types", L{"decimal"}}}),
                       doctest::Contains("is not int, float, bool or string"), OptionError);
  CHECK_THROWS_WITH_AS(make_parser("csv", {{"csv_delimiter", S(",,")}}),
                       doctest::Contains("single character"), OptionError);
  CHECK_THROWS_WITH_AS(make_parser("csv", {{"csv_reset_mode", S("sometimes")}}),
                       doctest::Contains("none or always"), OptionError);
  CHECK_THROWS_WITH_AS(
      make_parser("csv", {{"csv_header_row_count", int64_t{1}}, {"csv_timestamp_column", S("t")}}),
      doctest::Contains("is needed with csv_timestamp_column"), OptionError);
}
