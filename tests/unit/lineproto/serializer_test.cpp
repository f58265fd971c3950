#include "lineproto/serializer.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "lineproto/parser.hpp"

namespace lp = sluice::lineproto;
using sluice::Metric;

namespace {

std::string write(const Metric& m, lp::SerializeOptions options = {}, size_t* lines = nullptr) {
  std::string out;
  const size_t n = lp::serialize(m, out, options);
  if (lines) *lines = n;
  return out;
}

Metric cpu() {
  Metric m("cpu", 1'700'000'000'123'456'789);
  m.set_tag("host", "a");
  m.set_field("usage_idle", 98.2);
  return m;
}

}  // namespace

TEST_CASE("a metric becomes one line with typed fields and the timestamp") {
  Metric m("cpu", 1'700'000'000'000'000'000);
  m.set_tag("region", "west");
  m.set_tag("host", "a");
  m.set_field("f", 1.5);
  m.set_field("i", int64_t{-3});
  m.set_field("u", uint64_t{7});
  m.set_field("t", true);
  m.set_field("b", false);
  m.set_field("s", std::string("hi"));
  size_t lines = 0;
  CHECK(write(m, {}, &lines) ==
        "cpu,host=a,region=west f=1.5,i=-3i,u=7u,t=true,b=false,s=\"hi\" 1700000000000000000\n");
  CHECK(lines == 1);
}

TEST_CASE("escaping follows the spec per token") {
  Metric m("c,p u=x", 0);
  m.set_tag("k,e y=", "v,a l=ue");
  m.set_field("f,i e=ld", std::string("q\"uo\\te\nnew line"));
  CHECK(write(m) ==
        "c\\,p\\ u=x,k\\,e\\ y\\==v\\,a\\ l\\=ue f\\,i\\ e\\=ld=\"q\\\"uo\\\\te\nnew line\" 0\n");
  // A backslash inside a token is written as it is.
  Metric b("a\\b", 0);
  b.set_tag("k", "\\,,=east");
  b.set_field("x", 1.0);
  CHECK(write(b) == "a\\b,k=\\\\,\\,\\=east x=1 0\n");
}

TEST_CASE("floats shortest, integers with i, unsigned with u or clipped") {
  Metric m("m", 0);
  m.set_field("a", 6632243.0);
  m.set_field("b", 0.1 + 0.2);
  m.set_field("c", -0.0);
  m.set_field("d", std::numeric_limits<double>::max());
  m.set_field("u", std::numeric_limits<uint64_t>::max());
  m.set_field("v", uint64_t{5});
  CHECK(write(m) ==
        "m a=6.632243e+06,b=0.30000000000000004,c=-0,d=1.7976931348623157e+308,"
        "u=18446744073709551615u,v=5u 0\n");
  lp::SerializeOptions clip;
  clip.uint_support = false;
  CHECK(write(m, clip) ==
        "m a=6.632243e+06,b=0.30000000000000004,c=-0,d=1.7976931348623157e+308,"
        "u=9223372036854775807i,v=5i 0\n");
}

TEST_CASE("precision rounds the timestamp down, omit_timestamp leaves it out") {
  lp::SerializeOptions options;
  options.precision = lp::Precision::kSecond;
  CHECK(write(cpu(), options) == "cpu,host=a usage_idle=98.2 1700000000\n");
  options.precision = lp::Precision::kMillisecond;
  CHECK(write(cpu(), options) == "cpu,host=a usage_idle=98.2 1700000000123\n");
  options.precision = lp::Precision::kMicrosecond;
  CHECK(write(cpu(), options) == "cpu,host=a usage_idle=98.2 1700000000123456\n");
  Metric before_epoch = cpu();
  before_epoch.set_time(-1);
  options.precision = lp::Precision::kSecond;
  CHECK(write(before_epoch, options) == "cpu,host=a usage_idle=98.2 -1\n");
  lp::SerializeOptions omit;
  omit.omit_timestamp = true;
  CHECK(write(cpu(), omit) == "cpu,host=a usage_idle=98.2\n");
}

TEST_CASE("sort_fields writes fields by key") {
  Metric m("m", 1);
  m.set_field("b", 2.0);
  m.set_field("c", 3.0);
  m.set_field("a", 1.0);
  CHECK(write(m) == "m b=2,c=3,a=1 1\n");
  lp::SerializeOptions sorted;
  sorted.sort_fields = true;
  CHECK(write(m, sorted) == "m a=1,b=2,c=3 1\n");
  Metric wide("w", 1);
  for (int i = 99; i >= 0; --i) wide.set_field("f" + std::to_string(1000 + i), int64_t{i});
  const std::string text = write(wide, sorted);
  CHECK(text.find("f1000=0i,f1001=1i") != std::string::npos);
  CHECK(text.find("f1099=99i 1") != std::string::npos);
}

TEST_CASE("what cannot be written is left out, and the rest written") {
  Metric m("m", 1);
  m.set_tag("", "v");
  m.set_tag("empty", "");
  m.set_tag("ok", "yes");
  m.set_tag("bad\tkey", "v");
  m.set_tag("trailing\\", "v");
  m.set_field("nan", std::nan(""));
  m.set_field("inf", std::numeric_limits<double>::infinity());
  m.set_field("", 1.0);
  m.set_field("ctl\x01", 1.0);
  m.set_field("bad\xff", 1.0);
  m.set_field("x", 1.0);
  CHECK(write(m) == "m,ok=yes x=1 1\n");

  Metric only_nan("m", 1);
  only_nan.set_field("nan", std::nan(""));
  size_t lines = 7;
  CHECK(write(only_nan, {}, &lines).empty());
  CHECK(lines == 0);
  CHECK(write(Metric("no_fields", 1)).empty());
  Metric comment("#hash", 1);
  comment.set_field("x", 1.0);
  CHECK(write(comment).empty());
  Metric empty("", 1);
  empty.set_field("x", 1.0);
  CHECK(write(empty).empty());
}

TEST_CASE("names and tag values are rewritten where line protocol cannot carry them") {
  Metric m("tab\there\\\\", 1);
  m.set_tag("k",
            "a\nb\rc\fd\x01"
            "e\xff"
            "f\\");
  m.set_tag("z", "\\\\");  // nothing left after the trailing backslashes: left out
  m.set_field("s", std::string("bad \xc3( utf8, ctl \x01 ok"));
  const std::string text = write(m);
  CHECK(text ==
        "tab\\there,k=a\\nb\\rc\\fd\xEF\xBF\xBD"
        "e\xEF\xBF\xBD"
        "f s=\"bad \xEF\xBF\xBD( utf8, ctl \x01 ok\" 1\n");
  // The rewritten line reads back.
  sluice::Batch back;
  std::vector<lp::ParseError> errors;
  lp::Parser().parse(text, back, &errors);
  CHECK(errors.empty());
  CHECK(back.size() == 1);
}

TEST_CASE("strict mode writes a metric exactly or not at all, and says why") {
  lp::SerializeOptions strict;
  strict.strict = true;
  CHECK(write(cpu(), strict) == "cpu,host=a usage_idle=98.2 1700000000123456789\n");
  CHECK_FALSE(lp::unwritable_reason(cpu()));

  auto reason = [&](const Metric& m) {
    CHECK(write(m, strict).empty());
    return lp::unwritable_reason(m).value_or("");
  };
  Metric m = cpu();
  m.set_tag("something", "");
  CHECK(reason(m) == "invalid tag value \"something\"=\"\"");
  m = cpu();
  m.set_field("nan", std::nan(""));
  CHECK(reason(m) == "field \"nan\" is NaN");
  m = cpu();
  m.set_field("inf", -std::numeric_limits<double>::infinity());
  CHECK(reason(m) == "field \"inf\" is infinite");
  CHECK(reason(Metric("m", 0)) == "no fields");
  m = cpu();
  m.set_name("ends\\");
  CHECK(reason(m).find("invalid measurement") == 0);
  m = cpu();
  m.set_name("#comment");
  CHECK(reason(m).find("invalid measurement") == 0);
  m = cpu();
  m.set_tag("k\n", "v");
  CHECK(reason(m).find("invalid tag key") == 0);
  m = cpu();
  m.set_field("f\x7f", 1.0);
  CHECK(reason(m).find("invalid field key") == 0);
  m = cpu();
  m.set_field("s", std::string("\xff"));
  CHECK(reason(m).find("invalid UTF-8 in string field") == 0);
  m = cpu();
  m.set_tag("ok", "tab\tvalue");
  CHECK(reason(m).find("invalid tag value") == 0);
}

TEST_CASE("max_line_bytes splits the fields over lines with the same header") {
  Metric m("cpu", 1);
  m.set_tag("host", "a");
  m.set_field("alpha", int64_t{1});
  m.set_field("beta", int64_t{22});
  m.set_field("gamma", int64_t{333});
  m.set_field("delta", std::string("four"));
  lp::SerializeOptions options;
  // "cpu,host=a alpha=1i,beta=22i 1\n" is 31 bytes.
  options.max_line_bytes = 31;
  size_t lines = 0;
  CHECK(write(m, options, &lines) ==
        "cpu,host=a alpha=1i,beta=22i 1\n"
        "cpu,host=a gamma=333i 1\n"
        "cpu,host=a delta=\"four\" 1\n");
  CHECK(lines == 3);
  options.max_line_bytes = 30;
  CHECK(write(m, options, &lines) ==
        "cpu,host=a alpha=1i 1\n"
        "cpu,host=a beta=22i 1\n"
        "cpu,host=a gamma=333i 1\n"
        "cpu,host=a delta=\"four\" 1\n");
  CHECK(lines == 4);
  // A field that fits on no line is left out; the others are written.
  options.max_line_bytes = 22;
  CHECK(write(m, options, &lines) ==
        "cpu,host=a alpha=1i 1\n"
        "cpu,host=a beta=22i 1\n");
  CHECK(lines == 2);
  options.max_line_bytes = 5;
  CHECK(write(m, options, &lines).empty());
  CHECK(lines == 0);
  // No split needed.
  options.max_line_bytes = 1000;
  CHECK(write(m, options, &lines) == "cpu,host=a alpha=1i,beta=22i,gamma=333i,delta=\"four\" 1\n");
  CHECK(lines == 1);
  // In strict mode a field too long for any line refuses the metric.
  options.max_line_bytes = 22;
  options.strict = true;
  CHECK(write(m, options).empty());
  CHECK(lp::unwritable_reason(m, options).value_or("").find("does not fit") != std::string::npos);
}

TEST_CASE("max_line_bytes with many fields and a long header keeps every field") {
  Metric m("a_rather_long_measurement_name", 1'700'000'000'000'000'000);
  m.set_tag("host", "server-number-one.example.com");
  for (int i = 0; i < 200; ++i) m.set_field("field_" + std::to_string(i), int64_t{i * 1000});
  lp::SerializeOptions options;
  options.max_line_bytes = 200;
  std::string text;
  const size_t lines = lp::serialize(m, text, options);
  CHECK(lines > 10);
  sluice::Batch back;
  std::vector<lp::ParseError> errors;
  lp::Parser().parse(text, back, &errors);
  CHECK(errors.empty());
  REQUIRE(back.size() == lines);
  size_t fields = 0;
  size_t start = 0;
  for (const Metric& part : back) {
    const size_t end = text.find('\n', start);
    CHECK(end - start + 1 <= 200);
    start = end + 1;
    CHECK(part.name() == m.name());
    CHECK(part.tags() == m.tags());
    CHECK(part.time() == m.time());
    for (const auto f : part.fields()) CHECK(f == m.fields()[fields++]);
  }
  CHECK(fields == 200);
}

TEST_CASE("escaping beyond the size estimate grows the output by this metric's share only") {
  std::string out(1 << 20, 'x');
  Metric m("m", 0);
  m.set_field("s", std::string(10000, '"'));
  m.set_tag("k", std::string(5000, ','));
  CHECK(lp::serialize(m, out) == 1);
  std::string escaped_commas;
  for (int i = 0; i < 5000; ++i) escaped_commas += "\\,";
  std::string escaped_quotes;
  for (int i = 0; i < 10000; ++i) escaped_quotes += "\\\"";
  const std::string expected = "m,k=" + escaped_commas + " s=\"" + escaped_quotes + "\" 0\n";
  CHECK(out.size() == (1u << 20) + expected.size());
  CHECK(out.compare(1 << 20, std::string::npos, expected) == 0);
  CHECK(out.capacity() < 3u << 20);
}

TEST_CASE("serialize appends to what is already there") {
  std::string out = "existing\n";
  CHECK(lp::serialize(cpu(), out) == 1);
  CHECK(out == "existing\ncpu,host=a usage_idle=98.2 1700000000123456789\n");
  Metric nothing("m", 0);
  CHECK(lp::serialize(nothing, out) == 0);
  CHECK(out == "existing\ncpu,host=a usage_idle=98.2 1700000000123456789\n");
  sluice::Batch batch{cpu(), nothing, cpu()};
  std::string all;
  CHECK(lp::serialize_batch(batch, all) == 2);
  CHECK(all ==
        "cpu,host=a usage_idle=98.2 1700000000123456789\ncpu,host=a usage_idle=98.2 "
        "1700000000123456789\n");
}

TEST_CASE("serialize_batch writes what serialize writes for each metric, whatever the batch") {
  // One writer serves the whole batch, its room guessed from the first metric: small first
  // metrics followed by wide ones, unwritable ones in between, and lines split by length must
  // all come out as they do metric by metric.
  Metric tiny("t", 1);
  tiny.set_field("v", int64_t{1});
  Metric wide("wide", 2);
  for (int i = 0; i < 200; ++i) wide.set_field("field_" + std::to_string(i), i * 0.5);
  wide.set_tag("host", "a host with spaces, and commas");
  Metric nothing("m", 3);  // no fields: nothing written
  Metric bad_float("f", 4);
  bad_float.set_field("nan", std::nan(""));
  bad_float.set_field("ok", 1.5);
  sluice::Batch batch{tiny, wide, nothing, bad_float, tiny, wide};
  for (size_t max_line : {size_t{0}, size_t{256}}) {
    lp::SerializeOptions options;
    options.max_line_bytes = max_line;
    std::string one_by_one = "prefix\n";
    size_t lines = 0;
    for (const Metric& m : batch) lines += lp::serialize(m, one_by_one, options);
    std::string at_once = "prefix\n";
    CHECK(lp::serialize_batch(batch, at_once, options) == lines);
    CHECK(at_once == one_by_one);
  }
}
