#include "lineproto/parser.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace lp = sluice::lineproto;
using sluice::Batch;
using sluice::FieldValue;
using sluice::Metric;

namespace {

struct Result {
  Batch metrics;
  std::vector<lp::ParseError> errors;
};

Result parse(std::string_view text, lp::ParserOptions options = {}) {
  Result r;
  lp::Parser parser(options);
  const size_t n = parser.parse(text, r.metrics, &r.errors);
  REQUIRE(n == r.metrics.size());
  return r;
}

// Parses one line that must be valid.
Metric one(std::string_view text, lp::ParserOptions options = {}) {
  Result r = parse(text, options);
  INFO(text);
  REQUIRE(r.errors.empty());
  REQUIRE(r.metrics.size() == 1);
  return r.metrics[0];
}

// Parses text that must be rejected; returns the first error.
lp::ParseError bad(std::string_view text, lp::ParserOptions options = {}) {
  Result r = parse(text, options);
  INFO(text);
  REQUIRE(r.metrics.empty());
  REQUIRE(r.errors.size() == 1);
  return r.errors[0];
}

}  // namespace

TEST_CASE("a full line: measurement, tags, fields of every type, timestamp") {
  const Metric m =
      one("cpu,host=a,region=west f=1.5,i=-3i,u=7u,b=true,s=\"hi\" 1700000000000000000");
  CHECK(m.name() == "cpu");
  REQUIRE(m.tags().size() == 2);
  CHECK(m.tag("host") == "a");
  CHECK(m.tag("region") == "west");
  REQUIRE(m.fields().size() == 5);
  CHECK(m.fields()[0] == sluice::Field{"f", 1.5});
  CHECK(m.fields()[1] == sluice::Field{"i", int64_t{-3}});
  CHECK(m.fields()[2] == sluice::Field{"u", uint64_t{7}});
  CHECK(m.fields()[3] == sluice::Field{"b", true});
  CHECK(m.fields()[4] == sluice::Field{"s", std::string("hi")});
  CHECK(m.time() == 1700000000000000000);
}

TEST_CASE("tags are sorted, a repeated tag key is an error") {
  const Metric m = one("m,z=1,a=2,m=3 x=1");
  REQUIRE(m.tags().size() == 3);
  CHECK(m.tags()[0].key == "a");
  CHECK(m.tags()[1].key == "m");
  CHECK(m.tags()[2].key == "z");
  CHECK(bad("m,b=2,c=3,b=1 x=1").reason.find("duplicate tag key") != std::string::npos);
  // Out of order, the repeat is found after sorting and reported where it occurs the second time.
  const lp::ParseError e = bad("m,c=1,b=2,a=3,b=4 x=1");
  CHECK(e.reason == "duplicate tag key \"b\"");
  CHECK(e.column == 15);
  CHECK(bad("m,a=1,a=2 x=1").column == 7);
}

TEST_CASE("very wide lines stay linear: many tags in reverse order, many similar field keys") {
  std::string line = "m";
  for (int i = 20000; i > 0; --i) line += ",tag" + std::to_string(100000 + i) + "=v";
  line += " ";
  for (int i = 0; i < 20000; ++i) line += "prefix_" + std::to_string(100000 + i) + "_suffix=1i,";
  line.pop_back();
  const Metric m = one(line);
  REQUIRE(m.tags().size() == 20000);
  CHECK(m.tags().front().key == "tag100001");
  CHECK(m.tags().back().key == "tag120000");
  CHECK(m.fields().size() == 20000);
  CHECK(bad(line + ",prefix_110000_suffix=2").reason.find("duplicate field key") !=
        std::string::npos);
  std::string repeated_tag = line;
  repeated_tag.insert(1, ",tag100500=w");
  CHECK(bad(repeated_tag).reason == "duplicate tag key \"tag100500\"");
}

TEST_CASE("fields keep their order, a repeated field key is an error, also on wide lines") {
  const Metric m = one("m z=1,a=2,m=3");
  CHECK(m.fields()[0].key == "z");
  CHECK(m.fields()[2].key == "m");
  CHECK(bad("m a=1,b=2,a=3").reason.find("duplicate field key \"a\"") != std::string::npos);
  std::string wide = "m ";
  for (int i = 0; i < 300; ++i)
    wide += "field_" + std::to_string(i) + "=" + std::to_string(i) + "i,";
  wide.pop_back();
  CHECK(one(wide).fields().size() == 300);
  CHECK(bad(wide + ",field_123=1").reason.find("duplicate field key \"field_123\"") !=
        std::string::npos);
  CHECK(bad(wide + ",field_0=1").reason.find("duplicate") != std::string::npos);
  CHECK(bad(wide + ",field_299=1").reason.find("duplicate") != std::string::npos);

  // Around the width where the check moves from comparing keys to hashing them: a repeat of a
  // key read before or after that point is found at every width.
  for (int width = 1; width <= 20; ++width) {
    std::string line = "m ";
    for (int i = 0; i < width; ++i) line += "k" + std::to_string(i) + "=1,";
    line.pop_back();
    CAPTURE(width);
    CHECK(one(line).fields().size() == static_cast<size_t>(width));
    for (int repeat = 0; repeat < width; ++repeat) {
      CAPTURE(repeat);
      CHECK(bad(line + ",k" + std::to_string(repeat) + "=2").reason ==
            "duplicate field key \"k" + std::to_string(repeat) + "\"");
    }
  }
}

TEST_CASE("escapes in measurement, tag keys, tag values and field keys") {
  Metric m = one(R"(c\,p\ u,ta\ g\=1=v\,a\ l\=ue fi\,e\ ld\==1)");
  CHECK(m.name() == "c,p u");
  CHECK(m.tag("ta g=1") == "v,a l=ue");
  CHECK(m.fields()[0].key == "fi,e ld=");
  // '=' is not escaped in a measurement: the backslash stays.
  CHECK(one(R"(a\=b x=1)").name() == "a\\=b");
  CHECK(one("cpu=load x=1").name() == "cpu=load");
  // A backslash before anything not escapable is an ordinary character.
  m = one(R"(m\x,k=v\t f\a=1)");
  CHECK(m.name() == "m\\x");
  CHECK(m.tag("k") == "v\\t");
  CHECK(m.fields()[0].key == "f\\a");
  // A double backslash is a backslash followed by whatever the second one does.
  CHECK(one(R"(m,k=a\\ b x=1)").tag("k") == "a\\ b");
  CHECK(one(R"(m,s=\\,\,\t e=1)").tag("s") == "\\,,\\t");
}

TEST_CASE("string values: escaped quote and backslash, any other byte as it is, across lines") {
  CHECK(one(R"(m s="a\"b")").fields()[0].value == FieldValue(std::string("a\"b")));
  CHECK(one(R"(m s="a\\b")").fields()[0].value == FieldValue(std::string("a\\b")));
  CHECK(one(R"(m s="a\nb\t")").fields()[0].value == FieldValue(std::string("a\\nb\\t")));
  CHECK(one("m s=\"a,b c=d\"").fields()[0].value == FieldValue(std::string("a,b c=d")));
  CHECK(one("m s=\"\"").fields()[0].value == FieldValue(std::string()));
  CHECK(one("m s=\"caf\xc3\xa9\"").fields()[0].value == FieldValue(std::string("caf\xc3\xa9")));
  Result r = parse("m s=\"two\nlines\",x=1 5\nn y=2 6\nbad\n");
  REQUIRE(r.metrics.size() == 2);
  CHECK(r.metrics[0].fields()[0].value == FieldValue(std::string("two\nlines")));
  CHECK(r.metrics[1].name() == "n");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 4);  // the string's line break counts
  CHECK(bad("m s=\"open").reason.find("unterminated string") != std::string::npos);
  CHECK(bad(R"(m s="ends in backslash\")").reason.find("unterminated") != std::string::npos);
  CHECK(bad("m s=\"a\"b").reason.find("after field value") != std::string::npos);
}

TEST_CASE("every boolean spelling, and nothing else") {
  for (const char* t : {"t", "T", "true", "True", "TRUE"}) {
    CHECK(one(std::string("m b=") + t).fields()[0].value == FieldValue(true));
  }
  for (const char* f : {"f", "F", "false", "False", "FALSE"}) {
    CHECK(one(std::string("m b=") + f).fields()[0].value == FieldValue(false));
  }
  for (const char* x : {"tru", "TRue", "fals", "truee", "true\t", "yes"}) {
    CAPTURE(x);
    CHECK(parse(std::string("m b=") + x).errors.size() == 1);
  }
}

TEST_CASE("numbers: floats in every layout, integer and unsigned ranges") {
  auto value = [](std::string v) { return one("m x=" + v).fields()[0].value; };
  CHECK(value("1") == FieldValue(1.0));
  CHECK(value("1.") == FieldValue(1.0));
  CHECK(value(".5") == FieldValue(0.5));
  CHECK(value("-1.5e3") == FieldValue(-1500.0));
  CHECK(value("1E4") == FieldValue(1e4));
  CHECK(value("05") == FieldValue(5.0));
  CHECK(value("9223372036854775807i") == FieldValue(std::numeric_limits<int64_t>::max()));
  CHECK(value("-9223372036854775808i") == FieldValue(std::numeric_limits<int64_t>::min()));
  CHECK(value("18446744073709551615u") == FieldValue(std::numeric_limits<uint64_t>::max()));
  CHECK(bad("m x=9223372036854775808i").reason.find("integer out of range") != std::string::npos);
  CHECK(bad("m x=18446744073709551616u").reason.find("out of range") != std::string::npos);
  CHECK(bad("m x=-1u").reason.find("invalid unsigned integer") != std::string::npos);
  CHECK(bad("m x=1e400").reason.find("float out of range") != std::string::npos);
  for (const char* x : {"NaN", "nan", "Inf", "-Inf", "+1", "1.5i", "1x", "1e", "0x10", "1_0", "--1",
                        "-", ".", "i", "u", "1\t", "1i\t"}) {
    CAPTURE(x);
    CHECK(parse(std::string("m x=") + x).errors.size() == 1);
  }
}

TEST_CASE("timestamps: optional, signed, scaled by the precision") {
  CHECK(one("m x=1 -9").time() == -9);
  CHECK(one("m x=1 000000").time() == 0);
  CHECK(one("m x=1    123   ").time() == 123);
  CHECK(one("m x=1 9223372036854775807").time() == std::numeric_limits<int64_t>::max());
  CHECK(bad("m x=1 9223372036854775808").reason.find("out of range") != std::string::npos);
  CHECK(bad("m x=1 +5").reason.find("invalid timestamp") != std::string::npos);
  CHECK(bad("m x=1 1-2").reason.find("invalid timestamp") != std::string::npos);
  CHECK(bad("m x=1 -").reason.find("invalid timestamp") != std::string::npos);
  CHECK(bad("m x=1 12a").reason.find("invalid timestamp") != std::string::npos);
  CHECK(bad("m x=1 1 2").reason.find("after timestamp") != std::string::npos);
  CHECK(bad("m x=1 1\t").reason.find("invalid timestamp") != std::string::npos);

  lp::ParserOptions seconds;
  seconds.precision = lp::Precision::kSecond;
  seconds.default_time = 1'500'000'000'999'999'999;
  CHECK(one("m x=1 1700000000", seconds).time() == 1'700'000'000'000'000'000);
  CHECK(one("m x=1", seconds).time() == 1'500'000'000'000'000'000);  // rounded down
  CHECK(bad("m x=1 9300000000", seconds).reason.find("out of range") != std::string::npos);
  lp::ParserOptions micro;
  micro.precision = lp::Precision::kMicrosecond;
  CHECK(one("m x=1 5", micro).time() == 5000);
  lp::ParserOptions default_time;
  default_time.default_time = 42;
  CHECK(one("m x=1", default_time).time() == 42);
  CHECK(one("m x=1 7", default_time).time() == 7);
}

TEST_CASE("blank lines, leading spaces, comments, CRLF, and a CR at the very end") {
  Result r = parse(
      "\n  \n# a comment, with \xff bytes\n   # indented\r\n  m x=1\r\nn y=2 3\r\n\r\no z=3\r");
  CHECK(r.errors.empty());
  REQUIRE(r.metrics.size() == 3);
  CHECK(r.metrics[0].name() == "m");
  CHECK(r.metrics[1].time() == 3);
  CHECK(r.metrics[2].name() == "o");
  CHECK(parse("").metrics.empty());
  CHECK(parse("\n\n\r\n").errors.empty());
  // A lone CR inside a line is not a line end; nor may a comment hold a control byte.
  CHECK(parse("m x=1\ry=2").errors.size() == 1);
  CHECK(parse("\rm x=1").errors.size() == 1);
  CHECK(bad("# tab\tin comment").reason.find("in comment") != std::string::npos);
}

TEST_CASE("malformed lines: an error each, with line and column, and the rest still parsed") {
  const std::string text =
      "good a=1\n"
      "cpu,host=serverA,region value=1i\n"
      "good b=2\n"
      "\tm x=1\n"
      "m\n"
      "m x=\n"
      "m, x=1\n"
      "m,=v x=1\n"
      "m,k= x=1\n"
      "m =1\n"
      "m x=1,\n"
      "m x\n"
      "m x=1 2 3\n"
      "good c=3\n";
  Result r = parse(text);
  REQUIRE(r.metrics.size() == 3);
  CHECK(r.metrics[2].fields()[0].key == "c");
  REQUIRE(r.errors.size() == 11);
  CHECK(r.errors[0].line == 2);
  CHECK(r.errors[0].column == 24);
  CHECK(r.errors[0].reason == "expected '=' after tag key \"region\", found white space");
  CHECK(r.errors[0].message() ==
        "line 2, column 24: expected '=' after tag key \"region\", found white space");
  CHECK(r.errors[1].line == 4);
  CHECK(r.errors[1].column == 1);
  CHECK(r.errors[1].reason == "invalid character '\\t' at start of measurement");
  for (size_t i = 2; i < r.errors.size(); ++i) CHECK(r.errors[i].line == i + 3);
}

TEST_CASE("names, keys and strings must be valid UTF-8, control bytes end tokens") {
  CHECK(one("caf\xc3\xa9,t\xc3\xa9=v\xc3\xa9 f\xc3\xa9=1").name() == "caf\xc3\xa9");
  CHECK(bad("m\x80 x=1").reason.find("invalid UTF-8 in measurement") != std::string::npos);
  CHECK(bad("m,k\xff=v x=1").reason.find("invalid UTF-8 in tag key") != std::string::npos);
  CHECK(bad("m,k=\xc3 x=1").reason.find("invalid UTF-8 in tag value") != std::string::npos);
  CHECK(bad("m \xed\xa0\x80=1").reason.find("invalid UTF-8 in field key") != std::string::npos);
  CHECK(bad("m s=\"\xc0\xaf\"").reason.find("invalid UTF-8 in string") != std::string::npos);
  CHECK(parse("m\x0b x=1").errors.size() == 1);
  CHECK(parse("m,k=v\x0bw x=1").errors.size() == 1);
  CHECK(parse("m \x01x=1").errors.size() == 1);
  // Long tokens take the 16-byte path: a bad byte late in one is still found.
  CHECK(bad("measurement_with_a_long_name\x80 x=1").reason.find("UTF-8") != std::string::npos);
  CHECK(parse("measurement_with_a_long_name\x01 x=1").errors.size() == 1);
  // A non-ASCII byte after a token does not make the token invalid.
  CHECK(one("averyveryverylongmeasurement s=\"\xc3\xa9\"").name() ==
        "averyveryverylongmeasurement");
}

TEST_CASE("max_line_bytes rejects longer lines and keeps the rest") {
  lp::ParserOptions options;
  options.max_line_bytes = 10;
  Result r = parse("m x=1 1234\nm x=1 12345\r\nm x=2\n", options);
  REQUIRE(r.metrics.size() == 2);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 2);
  CHECK(r.errors[0].column == 11);
  CHECK(r.errors[0].reason.find("longer than the limit of 10") != std::string::npos);
}

TEST_CASE("visit gives zero-copy views, unescaped into scratch only where needed") {
  const std::string text = "m,k=v,e=a\\ b x=1,s=\"q\\\"\" 5\nn y=\"plain\"";
  lp::Parser parser;
  std::vector<std::string> seen;
  size_t calls = 0;
  const size_t n = parser.visit(text, [&](const lp::MetricView& m) {
    ++calls;
    const char* begin = text.data();
    const char* end = begin + text.size();
    auto inside = [&](std::string_view v) {
      return v.data() >= begin && v.data() + v.size() <= end;
    };
    if (m.name == "m") {
      CHECK(m.line == 1);
      CHECK(inside(m.name));
      REQUIRE(m.tags.size() == 2);
      CHECK(m.tags[0].key == "e");
      CHECK(m.tags[0].value == "a b");
      CHECK_FALSE(inside(m.tags[0].value));  // unescaped copy
      CHECK(inside(m.tags[1].value));
      CHECK(m.fields[1].type == lp::FieldType::kString);
      CHECK(m.fields[1].string_value == "q\"");
      CHECK(m.time == 5);
      CHECK(m.field("x")->float_value == 1.0);
      CHECK(m.field("nope") == nullptr);
    } else {
      CHECK(m.line == 2);
      CHECK(inside(m.fields[0].string_value));
      CHECK(m.fields[0].string_value == "plain");
    }
    seen.emplace_back(m.name);
  });
  CHECK(n == 2);
  CHECK(calls == 2);
  CHECK(seen == std::vector<std::string>{"m", "n"});
}

TEST_CASE("many escaped tokens in one line survive the scratch buffer growing") {
  std::string line = "m";
  std::vector<std::string> values;
  for (int i = 0; i < 200; ++i) {
    const std::string v = "value\\ number\\," + std::to_string(i) + std::string(i % 7 * 10, 'x');
    line += ",t" + std::to_string(1000 + i) + "=" + v;
  }
  line += " ";
  for (int i = 0; i < 200; ++i) {
    line += "f\\ " + std::to_string(i) + "=\"s\\\"" + std::string(i % 5 * 30, 'y') + "\",";
  }
  line.pop_back();
  const Metric m = one(line);
  REQUIRE(m.tags().size() == 200);
  for (int i = 0; i < 200; ++i) {
    CHECK(m.tags()[i].key == "t" + std::to_string(1000 + i));
    CHECK(m.tags()[i].value == "value number," + std::to_string(i) + std::string(i % 7 * 10, 'x'));
    CHECK(m.fields()[i].key == "f " + std::to_string(i));
    CHECK(m.fields()[i].value == FieldValue("s\"" + std::string(i % 5 * 30, 'y')));
  }
}

TEST_CASE("a parser is reused across calls and inputs") {
  lp::Parser parser;
  Batch out;
  CHECK(parser.parse("a x=1\n", out) == 1);
  CHECK(parser.parse("b,k=v\\ w y=2i\nc z=\"s\"\n", out) == 2);
  CHECK(parser.parse("garbage\n", out) == 0);
  REQUIRE(out.size() == 3);
  CHECK(out[1].tag("k") == "v w");
  CHECK(out[2].fields()[0].value == FieldValue(std::string("s")));
}
