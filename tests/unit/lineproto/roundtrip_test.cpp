#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lineproto/parser.hpp"
#include "lineproto/serializer.hpp"

namespace lp = sluice::lineproto;
using sluice::Batch;
using sluice::FieldValue;
using sluice::Metric;

namespace {

// Random metrics that line protocol can carry exactly, made of the characters that need care:
// every escapable byte, backslashes (not at the end of a token), quotes, '#', '=', multi-byte
// UTF-8, and in strings also line breaks and control bytes.
class Generator {
 public:
  explicit Generator(uint64_t seed) : random_(seed) {}

  Metric metric() {
    Metric m(token(false), static_cast<int64_t>(random_()));
    if (m.name().front() == '#') m.set_name("x" + m.name());
    const int tags = pick(6);
    for (int i = 0; i < tags; ++i) m.set_tag(token(false), token(false));
    const int fields = 1 + pick(8);
    for (int i = 0; i < fields; ++i) m.set_field(token(false), value());
    return m;
  }

 private:
  int pick(int n) { return static_cast<int>(random_() % static_cast<uint64_t>(n)); }

  std::string token(bool in_string) {
    static const std::vector<std::string> kPieces = {"a",
                                                     "Z",
                                                     "9",
                                                     "_",
                                                     "-",
                                                     ".",
                                                     ",",
                                                     "=",
                                                     " ",
                                                     "\\",
                                                     "\"",
                                                     "#",
                                                     "'",
                                                     "\xc3\xa9",
                                                     "\xe2\x82\xac",
                                                     "\xf0\x9f\x98\x80",
                                                     "cpu",
                                                     "host",
                                                     "value"};
    static const std::vector<std::string> kStringOnly = {"\n", "\r\n", "\t", "\x01", "\x7f"};
    std::string s;
    const int n = 1 + pick(8);
    for (int i = 0; i < n; ++i) {
      if (in_string && pick(4) == 0) {
        s += kStringOnly[static_cast<size_t>(pick(static_cast<int>(kStringOnly.size())))];
      } else {
        s += kPieces[static_cast<size_t>(pick(static_cast<int>(kPieces.size())))];
      }
    }
    if (!in_string) {
      while (!s.empty() && s.back() == '\\') s.pop_back();
      if (s.empty()) s = "k";
    }
    return s;
  }

  FieldValue value() {
    switch (pick(6)) {
      case 0: {
        double d;
        do {
          const uint64_t bits = random_();
          std::memcpy(&d, &bits, sizeof d);
        } while (!std::isfinite(d));
        return d;
      }
      case 1:
        return static_cast<double>(static_cast<int64_t>(random_() % 2000000) - 1000000) / 100.0;
      case 2:
        return static_cast<int64_t>(random_());
      case 3:
        return static_cast<uint64_t>(random_());
      case 4:
        return pick(2) == 0;
      default:
        return pick(5) == 0 ? std::string() : token(true);
    }
  }

  std::mt19937_64 random_;
};

}  // namespace

TEST_CASE("serialize -> parse -> serialize is the identity on writable metrics") {
  Generator generator(2024);
  lp::Parser parser;
  for (int i = 0; i < 20000; ++i) {
    const Metric m = generator.metric();
    REQUIRE_FALSE(lp::unwritable_reason(m));
    std::string text;
    REQUIRE(lp::serialize(m, text) == 1);
    Batch back;
    std::vector<lp::ParseError> errors;
    parser.parse(text, back, &errors);
    INFO(text);
    REQUIRE(errors.empty());
    REQUIRE(back.size() == 1);
    CHECK(back[0] == m);
    std::string again;
    lp::serialize(back[0], again);
    CHECK(again == text);
  }
}

TEST_CASE("a batch written together reads back as the same batch, at every precision") {
  Generator generator(99);
  for (lp::Precision precision : {lp::Precision::kNanosecond, lp::Precision::kMicrosecond,
                                  lp::Precision::kMillisecond, lp::Precision::kSecond}) {
    Batch batch;
    for (int i = 0; i < 500; ++i) batch.push_back(generator.metric());
    lp::SerializeOptions write_options;
    write_options.precision = precision;
    std::string text;
    CHECK(lp::serialize_batch(batch, text, write_options) == batch.size());
    lp::ParserOptions read_options;
    read_options.precision = precision;
    Batch back;
    std::vector<lp::ParseError> errors;
    lp::Parser(read_options).parse(text, back, &errors);
    CHECK(errors.empty());
    REQUIRE(back.size() == batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      Metric want = batch[i];
      want.set_time(lp::truncate_to_precision(want.time(), precision));
      CHECK(back[i] == want);
    }
  }
}

TEST_CASE("parse -> serialize -> parse keeps every metric of hand-written input") {
  const std::string input =
      "# a comment\n"
      "cpu,host=serverA,region=us-west usage_idle=98.2,usage_user=1.5e-3,count=3i "
      "1700000000000000000\n"
      "weird\\ name\\,x,t\\=k=v\\ v s=\"a\\\"b\\\\c\nd\",b=T,u=18446744073709551615u -5\r\n"
      "m,k=\\\\ east f=.5,g=1.,h=-0,i=1E5\n";
  Batch first;
  std::vector<lp::ParseError> errors;
  lp::Parser parser;
  parser.parse(input, first, &errors);
  REQUIRE(errors.empty());
  REQUIRE(first.size() == 3);
  std::string text;
  lp::serialize_batch(first, text);
  Batch second;
  parser.parse(text, second, &errors);
  CHECK(errors.empty());
  CHECK(second == first);
  std::string again;
  lp::serialize_batch(second, again);
  CHECK(again == text);
}
