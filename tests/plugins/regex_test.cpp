#include <doctest/doctest.h>

#include <string>

#include "processor_test_support.hpp"
#include "processors/regex/pattern.hpp"

using sluice::processors::regex::Pattern;
using sluice::testing::make_processor;
using sluice::testing::run_lines;

namespace {

std::string replace(const char* pattern, const char* text, const char* replacement) {
  Pattern p(pattern);
  std::string out = "(no match)";
  p.replace_all(text, replacement, out);
  return out;
}

}  // namespace

TEST_CASE("regex: Telegraf's nginx example (tag value, named groups into new fields)") {
  auto p = make_processor("regex", R"({
    tags: [{key: resp_code, pattern: '^(\d)\d\d$', replacement: '$${1}xx'}],
    fields: [
      {key: request, pattern: '^/api(?P<method>/[\w/]+)\S*', replacement: '$${method}', result_key: method},
      {key: request, pattern: '.*category=(\w+).*', replacement: '$1', result_key: search_category}]})");
  CHECK(run_lines(*p,
                  "nginx_requests,verb=GET,resp_code=200 "
                  "request=\"/api/search/?category=plugins&q=regex&sort=asc\",referrer=\"-\","
                  "resp_bytes=270i 1519652321000000000\n") ==
        "nginx_requests,resp_code=2xx,verb=GET "
        "request=\"/api/search/?category=plugins&q=regex&sort=asc\",referrer=\"-\","
        "resp_bytes=270i,method=\"/search/\",search_category=\"plugins\" 1519652321000000000\n");
}

TEST_CASE("regex: no match leaves the value, non-string fields are not touched") {
  auto p = make_processor("regex", R"({
    tags: [{key: code, pattern: '^(\d)\d\d$', replacement: '$${1}xx', result_key: class}],
    fields: [{key: "*", pattern: '^(\d+)$', replacement: 'n$1'}]})");
  CHECK(run_lines(*p, "m,code=abc a=\"12\",b=12i,c=\"x1\" 1\n") ==
        "m,code=abc a=\"n12\",b=12i,c=\"x1\" 1\n");
}

TEST_CASE("regex: append adds to an existing result tag") {
  auto p = make_processor("regex", R"({tags: [
      {key: host, pattern: '^([a-z]+)\d*$', replacement: '-$1', result_key: group, append: true}]})");
  CHECK(run_lines(*p, "m,group=web,host=app12 v=1i 1\nm,host=db3 v=1i 2\n") ==
        "m,group=web-app,host=app12 v=1i 1\nm,group=-db,host=db3 v=1i 2\n");
}

TEST_CASE("regex: renaming tags, fields and measurements, keep or overwrite") {
  auto p = make_processor("regex", R"({
    tag_rename: [{pattern: '^(\w+)_tag$', replacement: '$1'}],
    field_rename: [{pattern: '^search_(\w+)$', replacement: '$1', result_key: keep},
                   {pattern: '^old_', replacement: 'new_'}],
    metric_rename: [{pattern: '^(\w+)_metrics$', replacement: '$1'}]})");
  CHECK(run_lines(*p,
                  "nginx_metrics,host_tag=a,host=b,zone_tag=z search_hits=1i,hits=5i,"
                  "search_misses=2i,old_x=3i,new_x=4i 1\n") ==
        "nginx,host=a,zone=z search_hits=1i,hits=5i,misses=2i,new_x=3i 1\n");
  auto keep = make_processor(
      "regex", R"({tag_rename: [{pattern: '^host_tag$', replacement: 'host', result_key: keep}]})");
  CHECK(run_lines(*keep, "m,host=b,host_tag=a v=1i 1\n") == "m,host=b,host_tag=a v=1i 1\n");
}

TEST_CASE("regex: case-insensitive flag and escapes inside brackets") {
  auto p = make_processor("regex", R"({
    tags: [{key: t, pattern: '(?i)^ERROR[\s:\-]+(.*)$', replacement: '$1'}]})");
  CHECK(run_lines(*p, "m,t=error:\\ disk v=1i 1\n") == "m,t=disk v=1i 1\n");
}

TEST_CASE("regex: Go's replacement rules") {
  CHECK(replace("a*", "baaac", "X") == "XbXcX");  // empty matches next to a match are skipped
  CHECK(replace("(a)(b)?", "ac", "[$1|$2]") == "[a|]c");
  CHECK(replace("(\\w+)", "abc", "$1x") == "");  // $1x names group "1x", which is empty
  CHECK(replace("(\\w+)", "abc", "${1}x") == "abcx");
  CHECK(replace("b", "abc", "$$") == "a$c");
  CHECK(replace("b", "abc", "$") == "a$c");
  CHECK(replace("(?P<first>\\w)(?:\\w)(\\w)", "xyz", "$first-$2") == "x-z");
  CHECK(replace("o", "foo boo", "0") == "f00 b00");
  CHECK(replace("^o", "oo", "0") == "0o");  // ^ holds only at the start
  CHECK(replace("x", "abc", "y") == "(no match)");
  CHECK(replace("\\d{2,3}", "a1234b", "#") == "a#4b");
  CHECK(replace("a{b", "xa{by", "-") == "x-y");  // a brace that is not a repetition
  CHECK(replace("[^\\]]+", "ab]c", "X") == "X]X");
  CHECK(replace("[\\d-]+", "tel: 12-34", "N") == "tel: N");
  CHECK(replace("\\x41", "zAz", "a") == "zaz");
  CHECK(replace("é", "café", "e") == "cafe");
}

TEST_CASE("regex: patterns POSIX cannot run are refused") {
  CHECK_THROWS_AS(Pattern(".*?"), std::invalid_argument);
  CHECK_THROWS_AS(Pattern("a(?=b)"), std::invalid_argument);
  CHECK_THROWS_AS(Pattern("\\pL"), std::invalid_argument);
  CHECK_THROWS_AS(Pattern("(unclosed"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(make_processor("regex", "{tags: [{key: a, pattern: 'x+?'}]}"),
                       doctest::Contains("rule 1: pattern \"x+?\""), sluice::OptionError);
  CHECK_THROWS_WITH_AS(make_processor("regex", "{tags: [{pattern: x}]}"),
                       doctest::Contains("\"key\" is required"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("regex", "{fields: [{key: a, pattern: x, append: true}]}"),
                  sluice::OptionError);
  CHECK_THROWS_AS(
      make_processor("regex", "{tag_rename: [{pattern: x, replacement: y, result_key: maybe}]}"),
      sluice::OptionError);
  CHECK_THROWS_AS(make_processor("regex", "{metric_rename: [{replacement: y}]}"),
                  sluice::OptionError);
}
