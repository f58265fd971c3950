// The collectd data format: packets built here with a small encoder of collectd's network
// protocol, plain, signed (HMAC-SHA256) and encrypted (AES-256-OFB), and broken ones.
#include <doctest/doctest.h>
#include <openssl/evp.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "../support/net.hpp"
#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

constexpr int64_t kT = 1'700'000'000LL * kSecond;
using S = std::string;

// Writes packets of collectd's binary protocol.
class Encoder {
 public:
  Encoder& string(uint16_t type, std::string_view s) {
    header(type, 4 + s.size() + 1);
    out_ += s;
    out_ += '\0';
    return *this;
  }
  Encoder& number(uint16_t type, uint64_t v) {
    header(type, 12);
    be64(v);
    return *this;
  }
  // Values as (data type, raw 64 bits): 0 counter, 1 gauge (a double), 2 derive, 3 absolute.
  Encoder& values(const std::vector<std::pair<uint8_t, uint64_t>>& vs) {
    header(0x0006, 4 + 2 + vs.size() * 9);
    be16(static_cast<uint16_t>(vs.size()));
    for (const auto& v : vs) out_ += static_cast<char>(v.first);
    for (const auto& v : vs) {
      if (v.first == 1) {
        for (int i = 0; i < 8; ++i) out_ += static_cast<char>((v.second >> (8 * i)) & 0xff);
      } else {
        be64(v.second);
      }
    }
    return *this;
  }
  Encoder& raw(std::string_view bytes) {
    out_ += bytes;
    return *this;
  }
  const std::string& bytes() const { return out_; }

  static uint64_t gauge(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    return bits;
  }

  void header(uint16_t type, size_t length) {
    be16(type);
    be16(static_cast<uint16_t>(length));
  }
  void be16(uint16_t v) {
    out_ += static_cast<char>(v >> 8);
    out_ += static_cast<char>(v & 0xff);
  }
  void be64(uint64_t v) {
    for (int i = 7; i >= 0; --i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }

 private:
  std::string out_;
};

std::string sign(const std::string& packet, const std::string& user, const std::string& password) {
  std::string data = user + packet;
  unsigned char mac[32];
  size_t len = 0;
  REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, password.data(), password.size(),
                    reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
                    sizeof mac, &len) != nullptr);
  Encoder e;
  e.header(0x0200, 4 + 32 + user.size());
  e.raw(std::string_view(reinterpret_cast<const char*>(mac), 32)).raw(user).raw(packet);
  return e.bytes();
}

std::string encrypt(const std::string& packet, const std::string& user,
                    const std::string& password) {
  unsigned char key[32], sha1[20];
  unsigned int len = 0;
  EVP_Digest(password.data(), password.size(), key, &len, EVP_sha256(), nullptr);
  EVP_Digest(packet.data(), packet.size(), sha1, &len, EVP_sha1(), nullptr);
  std::string plain = std::string(reinterpret_cast<const char*>(sha1), 20) + packet;
  std::string iv = "0123456789abcdef";
  std::string cipher(plain.size(), '\0');
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int out_len = 0;
  EVP_EncryptInit_ex(ctx, EVP_aes_256_ofb(), nullptr, key,
                     reinterpret_cast<const unsigned char*>(iv.data()));
  EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(cipher.data()), &out_len,
                    reinterpret_cast<const unsigned char*>(plain.data()),
                    static_cast<int>(plain.size()));
  EVP_CIPHER_CTX_free(ctx);
  Encoder e;
  e.header(0x0210, 4 + 2 + user.size() + 16 + cipher.size());
  e.be16(static_cast<uint16_t>(user.size()));
  e.raw(user).raw(iv).raw(cipher);
  return e.bytes();
}

// A packet with three value lists: load (3 gauges), interface if_octets (2 derives), cpu (1
// derive, its own time), and one of a type not in types.db.
std::string sample_packet() {
  Encoder e;
  e.string(0x0000, "web1")
      .number(0x0008, (uint64_t{1'700'000'000} << 30) | (uint64_t{1} << 29))  // +0.5 s
      .number(0x0009, uint64_t{10} << 30)
      .string(0x0002, "load")
      .string(0x0004, "load")
      .values({{1, Encoder::gauge(0.5)}, {1, Encoder::gauge(1.0)}, {1, Encoder::gauge(1.5)}})
      .string(0x0002, "interface")
      .string(0x0003, "eth0")
      .string(0x0004, "if_octets")
      .values({{2, 100}, {2, 200}})
      .number(0x0001, 1'700'000'001)
      .string(0x0002, "cpu")
      .string(0x0003, "0")
      .string(0x0004, "cpu")
      .string(0x0005, "user")
      .values({{2, 12345}})
      .string(0x0002, "x")
      .string(0x0003, "")
      .string(0x0004, "mystery")
      .string(0x0005, "")
      .values({{0, 7}, {3, 9}});
  return e.bytes();
}

struct Parsed {
  Batch metrics;
  std::vector<ParseError> errors;
};

Parsed parse(Parser& parser, std::string_view data) {
  Parsed p;
  parser.parse(data, kGatherTime, p.metrics, p.errors);
  return p;
}

OptionOverrides with_types(OptionOverrides more = {}) {
  more.emplace_back("collectd_typesdb", std::vector<std::string>{fixture("collectd/types.db")});
  return more;
}

std::string auth_file(const TempDir& dir, const std::string& text) {
  std::string path = dir / "auth";
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("collectd packets split into one metric per value, named plugin_dsname") {
  auto parser = make_parser("collectd", with_types());
  CHECK_FALSE(parser->splits_on_lines());
  Parsed p = parse(*parser, sample_packet());
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 8);
  const int64_t t = kT + 500'000'000;
  const std::vector<Tag> load_tags{{"host", "web1"}, {"type", "load"}};
  CHECK(p.metrics[0].name() == "load_shortterm");
  CHECK(p.metrics[0].tags() == load_tags);
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"value", 0.5}});
  CHECK(p.metrics[0].time() == t);
  CHECK(p.metrics[0].type() == ValueType::kGauge);
  CHECK(p.metrics[1].name() == "load_midterm");
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"value", 1.0}});
  CHECK(p.metrics[2].name() == "load_longterm");
  CHECK(p.metrics[2].fields() == std::vector<Field>{{"value", 1.5}});
  CHECK(p.metrics[3].name() == "interface_rx");
  CHECK(p.metrics[3].tags() ==
        std::vector<Tag>{{"host", "web1"}, {"instance", "eth0"}, {"type", "if_octets"}});
  CHECK(p.metrics[3].fields() == std::vector<Field>{{"value", 100.0}});
  CHECK(p.metrics[3].type() == ValueType::kCounter);
  CHECK(p.metrics[4].name() == "interface_tx");
  CHECK(p.metrics[4].fields() == std::vector<Field>{{"value", 200.0}});
  CHECK(p.metrics[5].name() == "cpu_value");
  CHECK(p.metrics[5].tags() ==
        std::vector<Tag>{
            {"host", "web1"}, {"instance", "0"}, {"type", "cpu"}, {"type_instance", "user"}});
  CHECK(p.metrics[5].fields() == std::vector<Field>{{"value", 12345.0}});
  CHECK(p.metrics[5].time() == kT + kSecond);
  CHECK(p.metrics[6].name() == "x_0");  // not in types.db: named by index
  CHECK(p.metrics[6].tags() == std::vector<Tag>{{"host", "web1"}, {"type", "mystery"}});
  CHECK(p.metrics[6].fields() == std::vector<Field>{{"value", 7.0}});
  CHECK(p.metrics[7].name() == "x_1");
  CHECK(p.metrics[7].fields() == std::vector<Field>{{"value", 9.0}});
  CHECK(p.metrics[7].type() == ValueType::kUntyped);
}

TEST_CASE("collectd join makes one metric per value list with a field per data source") {
  auto parser = make_parser("collectd", with_types({{"collectd_parse_multivalue", S("join")}}));
  Parsed p = parse(*parser, sample_packet());
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 4);
  CHECK(p.metrics[0].name() == "load");
  CHECK(p.metrics[0].fields() ==
        std::vector<Field>{{"shortterm", 0.5}, {"midterm", 1.0}, {"longterm", 1.5}});
  CHECK(p.metrics[1].name() == "interface");
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"rx", 100.0}, {"tx", 200.0}});
  CHECK(p.metrics[2].name() == "cpu");
  CHECK(p.metrics[2].fields() == std::vector<Field>{{"value", 12345.0}});
  CHECK(p.metrics[3].name() == "x");
  CHECK(p.metrics[3].fields() == std::vector<Field>{{"0", 7.0}, {"1", 9.0}});
}

TEST_CASE("collectd signed packets are verified with the user's password") {
  TempDir dir("collectd-sign");
  std::string auth = auth_file(dir, "# users\nalice: secret\nbob:  other \n");
  auto parser = make_parser("collectd", with_types({{"collectd_security_level", S("sign")},
                                                    {"collectd_auth_file", auth}}));
  Parsed p = parse(*parser, sign(sample_packet(), "alice", "secret"));
  CHECK(p.errors.empty());
  CHECK(p.metrics.size() == 8);

  p = parse(*parser, sign(sample_packet(), "alice", "wrong"));
  CHECK(p.metrics.empty());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].reason ==
        "part 0x0200 (signature) at offset 0: signature mismatch for user \"alice\"; the rest "
        "is dropped");

  p = parse(*parser, sign(sample_packet(), "mallory", "x"));
  CHECK(p.metrics.empty());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].reason ==
        "part 0x0200 (signature) at offset 0: unknown user \"mallory\" (collectd_auth_file)");

  // Unsigned data is refused at this level, part by part.
  p = parse(*parser, sample_packet());
  CHECK(p.metrics.empty());
  REQUIRE(p.errors.size() == 4);
  CHECK(p.errors[0].reason.find("values not signed, but collectd_security_level is sign") !=
        std::string::npos);

  // An encrypted packet is also accepted at the sign level; bob's password has blanks trimmed.
  p = parse(*parser, encrypt(sample_packet(), "bob", "other"));
  CHECK(p.errors.empty());
  CHECK(p.metrics.size() == 8);
}

TEST_CASE("collectd encrypted packets are decrypted and their checksum checked") {
  TempDir dir("collectd-encrypt");
  std::string auth = auth_file(dir, "alice: secret\n");
  auto parser = make_parser("collectd", with_types({{"collectd_security_level", S("encrypt")},
                                                    {"collectd_auth_file", auth}}));
  Parsed p = parse(*parser, encrypt(sample_packet(), "alice", "secret"));
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 8);
  CHECK(p.metrics[5].name() == "cpu_value");
  CHECK(p.metrics[5].fields() == std::vector<Field>{{"value", 12345.0}});

  p = parse(*parser, encrypt(sample_packet(), "alice", "guess"));
  CHECK(p.metrics.empty());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].reason ==
        "part 0x0210 (encryption) at offset 0: checksum mismatch after decryption (wrong "
        "password for user \"alice\", or a corrupt packet)");

  p = parse(*parser, sign(sample_packet(), "alice", "secret"));  // signed is not enough
  CHECK(p.metrics.empty());
  CHECK(p.errors.size() == 4);

  // A corrupt payload inside the encryption names the part inside it.
  Encoder broken;
  broken.string(0x0002, "load").raw(std::string("\x00\x06\x00\x30", 4));
  p = parse(*parser, encrypt(broken.bytes(), "alice", "secret"));
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].reason ==
        "part 0x0006 (values) at offset 9 in the encrypted part at offset 0, payload: length 48 "
        "runs past the end of the packet (4 bytes left)");
}

TEST_CASE("truncated and corrupt collectd packets give errors with the part and offset") {
  auto parser = make_parser("collectd", with_types());
  const std::string packet = sample_packet();
  // Every truncation: never a read out of bounds, the complete parts before the cut still count.
  size_t previous = 0;
  for (size_t n = 0; n < packet.size(); ++n) {
    Parsed p = parse(*parser, std::string_view(packet).substr(0, n));
    CHECK(p.metrics.size() >= previous);
    CHECK(p.metrics.size() < 8);
    previous = p.metrics.size();
  }
  CHECK(previous == 6);  // all but the last value list
  Parsed p = parse(*parser, std::string_view(packet).substr(0, 2));
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].reason == "truncated part header at offset 0: 2 of 4 bytes");

  // The load values cut short: the host, time and strings before it were read.
  Encoder e;
  e.string(0x0000, "h").string(0x0002, "load").string(0x0004, "load");
  const size_t values_offset = e.bytes().size();
  e.values({{1, Encoder::gauge(1)}, {1, Encoder::gauge(2)}, {1, Encoder::gauge(3)}});
  p = parse(*parser, std::string_view(e.bytes()).substr(0, e.bytes().size() - 5));
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].reason == "part 0x0006 (values) at offset " + std::to_string(values_offset) +
                                  ": length 33 runs past the end of the packet (28 bytes left)");

  Encoder bad;
  bad.string(0x0002, "load")
      .string(0x0004, "load")
      .raw(std::string("\x00\x00\x00\x07host", 7))               // host without its NUL: skipped
      .values({{1, Encoder::gauge(1)}, {1, Encoder::gauge(2)}})  // load has 3 data sources
      .raw(std::string("\x00\x06\x00\x0f\x00\x01\x09\0\0\0\0\0\0\0\0", 15))  // type 9
      .raw(std::string("\x00\x06\x00\x0d\x00\x01\x01\0\0\0\0\0\0", 13))      // 6 of 8 bytes
      .values({{1, Encoder::gauge(std::nan(""))}, {1, Encoder::gauge(2)}, {1, Encoder::gauge(3)}})
      .raw(std::string("\x00\x01\x00\x02", 4));  // length below the header's
  p = parse(*parser, bad.bytes());
  REQUIRE(p.errors.size() == 5);
  CHECK(p.errors[0].reason == "part 0x0000 (host) at offset 18: the string is not NUL-terminated");
  CHECK(
      p.errors[1].reason ==
      "part 0x0006 (values) at offset 25: type load has 3 data sources in types.db, the packet 2");
  CHECK(p.errors[2].reason ==
        "part 0x0006 (values) at offset 49: value 0 has the unknown data type 9");
  CHECK(p.errors[3].reason ==
        "part 0x0006 (values) at offset 64: 1 values need 11 bytes, the part has 9");
  CHECK(p.errors[4].reason ==
        "part 0x0001 (time) at offset 110: length 2 is shorter than the part header");
  // The NaN gauge (collectd's "unknown") is dropped, the two others kept.
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0].name() == "load_midterm");
  CHECK(p.metrics[1].name() == "load_longterm");
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"value", 3.0}});
  CHECK(p.metrics[1].time() == kGatherTime);  // no time part: the time it was read

  // Binary garbage: never a crash, and something to say about it.
  uint32_t seed = 12345;
  std::string garbage(1400, '\0');
  for (int round = 0; round < 200; ++round) {
    for (char& c : garbage) {
      seed = seed * 1664525u + 1013904223u;
      c = static_cast<char>(seed >> 24);
    }
    Parsed g = parse(*parser, garbage);
    CHECK(g.errors.size() + g.metrics.size() > 0);
  }
}

TEST_CASE("malformed collectd options are refused at creation") {
  CHECK_THROWS_WITH_AS(
      make_parser("collectd", with_types({{"collectd_security_level", S("paranoid")}})),
      doctest::Contains("is not none, sign or encrypt"), OptionError);
  CHECK_THROWS_WITH_AS(
      make_parser("collectd", with_types({{"collectd_security_level", S("sign")}})),
      doctest::Contains("is needed with collectd_security_level sign"), OptionError);
  CHECK_THROWS_WITH_AS(
      make_parser("collectd", with_types({{"collectd_parse_multivalue", S("merge")}})),
      doctest::Contains("is not split or join"), OptionError);
  CHECK_THROWS_WITH_AS(
      make_parser("collectd",
                  {{"collectd_typesdb", std::vector<std::string>{"/nonexistent/types.db"}}}),
      doctest::Contains("cannot read /nonexistent/types.db"), OptionError);
}
