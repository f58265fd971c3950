#include <doctest/doctest.h>

#include "processor_test_support.hpp"
#include "processors/strings/transforms.hpp"

using sluice::testing::make_processor;
using sluice::testing::run_lines;

TEST_CASE("strings: case changes on tags, fields and the measurement") {
  auto p = make_processor("strings", R"({
    lowercase: [{tag: method}, {measurement: "*"}],
    uppercase: [{field: uri_stem}],
    titlecase: [{field: status}]})");
  CHECK(run_lines(*p,
                  "IIS_Log,method=GET,s-computername=MIXEDcase uri_stem=\"/api/healthcheck\","
                  "status=\"hello world-foo_bar\",n=5i 1\n") ==
        "iis_log,method=get,s-computername=MIXEDcase uri_stem=\"/API/HEALTHCHECK\","
        "status=\"Hello World-Foo_bar\",n=5i 1\n");
}

TEST_CASE("strings: trimming") {
  auto p = make_processor("strings", R"({
    trim: [{field: a}],
    trim_left: [{field: b, cutset: "xy"}],
    trim_right: [{field: c, cutset: "!"}],
    trim_prefix: [{field: d, prefix: my_}],
    trim_suffix: [{field: e, suffix: _count}, {tag: t, suffix: ".example.com"}]})");
  CHECK(run_lines(*p,
                  "m,t=web.example.com a=\"  pad \t\",b=\"xyxhi\",c=\"hi!!\",d=\"my_value\","
                  "e=\"read_count\" 1\n") ==
        "m,t=web a=\"pad\",b=\"hi\",c=\"hi\",d=\"value\",e=\"read\" 1\n");
}

TEST_CASE("strings: replace, left, base64decode") {
  auto p = make_processor("strings", R"({
    replace: [{measurement: "*", old: ":", new: "_"}, {tag_key: "*", old: "-", new: "_"}],
    left: [{field: msg, width: 3}],
    base64decode: [{field: "b*"}]})");
  CHECK(run_lines(*p,
                  "a:b:c,s-computername=x msg=\"h\xC3\xA9llo\",b1=\"aGVsbG8=\",b2=\"not base64\","
                  "b3=\"/w==\" 1\n") ==
        "a_b_c,s_computername=x msg=\"h\xC3\xA9l\",b1=\"hello\",b2=\"not base64\",b3=\"/w==\" 1\n");
}

TEST_CASE("strings: dest writes a new tag or field and keeps the source") {
  auto p = make_processor("strings", R"({
    uppercase: [{tag: host, dest: host_upper}, {field: f, dest: g}],
    lowercase: [{field_key: "F*"}]})");
  CHECK(run_lines(*p, "m,host=web v=1i,f=\"abc\",Foo=2i 1\n") ==
        "m,host=web,host_upper=WEB v=1i,f=\"abc\",foo=2i,g=\"ABC\" 1\n");
}

TEST_CASE("strings: valid_utf8 replaces each run of invalid bytes") {
  auto p = make_processor("strings", R"({valid_utf8: [{field: msg, replacement: "?"}]})");
  sluice::Metric m("m", 1);
  m.set_field("msg", std::string("ok\xFF\xFEok\xC3"));
  sluice::Batch batch;
  batch.push_back(m);
  batch = p->process(std::move(batch));
  CHECK(std::get<std::string>(*batch[0].field("msg")) == "ok?ok?");
}

TEST_CASE("strings: missing keys and non-string fields are left alone, empty batch") {
  auto p = make_processor("strings", "{uppercase: [{field: f}, {tag: t}]}");
  CHECK(run_lines(*p, "m,x=a f=1i,g=\"x\" 1\n") == "m,x=a f=1i,g=\"x\" 1\n");
  CHECK(p->process({}).empty());
}

TEST_CASE("strings: option errors") {
  CHECK_THROWS_WITH_AS(make_processor("strings", "{replace: [{field: a, new: b}]}"),
                       doctest::Contains("\"old\" is required"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("strings", "{left: [{field: a}]}"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("strings", "{lowercase: [{tag_key: a, dest: b}]}"),
                  sluice::OptionError);
  CHECK_THROWS_AS(make_processor("strings", "{lowercase: [{tag: a, field: b}]}"),
                  sluice::OptionError);
  CHECK_THROWS_WITH_AS(make_processor("strings", "{lowercase: [{tag: a, cutset: b}]}"),
                       doctest::Contains("rule 1: unknown key \"cutset\""), sluice::OptionError);
}

TEST_CASE("strings: base64 decoding rules") {
  std::string out;
  CHECK(sluice::processors::strings::base64_decode("aGk=", out));
  CHECK(out == "hi");
  CHECK(sluice::processors::strings::base64_decode("aGk", out) == false);  // padding required
  CHECK(sluice::processors::strings::base64_decode("a=Gk", out) ==
        false);  // padding at the end only
  CHECK(sluice::processors::strings::base64_decode("aG\nk=", out));
  CHECK(out == "hi");
}
