// Parser throughput: the data formats as inputs use them (through the registry), on generated
// messages; influx as the reference. Prints MB/s and metrics/s per format.
#define DOCTEST_CONFIG_DISABLE  // the tests' helpers, without a test runner
#include <openssl/evp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "plugins/plugin_test_support.hpp"
#include "support/net.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

void run(const char* label, Parser& parser, const std::vector<std::string>& messages, int rounds) {
  size_t bytes = 0, metrics = 0, errors = 0;
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < rounds; ++r) {
    for (const std::string& m : messages) {
      Batch out;
      std::vector<ParseError> errs;
      parser.parse(m, kGatherTime, out, errs);
      bytes += m.size();
      metrics += out.size();
      errors += errs.size();
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-28s %8.1f MB/s %12.0f metrics/s  (%zu metrics, %zu errors, %.2f s)\n", label,
              bytes / s / 1e6, metrics / s, metrics, errors, s);
}

std::string lines(size_t n, const std::function<std::string(size_t)>& line) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += line(i);
  return out;
}

void be16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}
void be64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}
void string_part(std::string& out, uint16_t type, std::string_view s) {
  be16(out, type);
  be16(out, static_cast<uint16_t>(4 + s.size() + 1));
  out += s;
  out += '\0';
}

// A packet as collectd's network plugin fills one (about 1.4 KB): if_octets of many interfaces.
std::string collectd_packet() {
  std::string out;
  string_part(out, 0x0000, "web01.example.com");
  be16(out, 0x0008);
  be16(out, 12);
  be64(out, uint64_t{1'700'000'000} << 30);
  string_part(out, 0x0002, "interface");
  string_part(out, 0x0004, "if_octets");
  for (int i = 0; out.size() < 1380; ++i) {
    string_part(out, 0x0003, "eth" + std::to_string(i));
    be16(out, 0x0006);
    be16(out, 4 + 2 + 2 * 9);
    be16(out, 2);
    out += '\x02';
    out += '\x02';
    be64(out, 1000 + i);
    be64(out, 2000 + i);
  }
  return out;
}

std::string collectd_encrypted(const std::string& packet, const std::string& user,
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
  std::string out;
  be16(out, 0x0210);
  be16(out, static_cast<uint16_t>(4 + 2 + user.size() + 16 + cipher.size()));
  be16(out, static_cast<uint16_t>(user.size()));
  out += user + iv + cipher;
  return out;
}

}  // namespace

int main() {
  const size_t kLines = 1000;  // per message, as a stream input hands them over
  const int kRounds = 200;

  auto influx = make_parser("influx");
  run("influx (reference)", *influx,
      {lines(kLines,
             [](size_t i) {
               return "cpu,host=web" + std::to_string(i % 50) +
                      ",cpu=cpu0 usage_user=1.5,usage_system=" + std::to_string(i) +
                      " 1700000000000000000\n";
             })},
      kRounds);

  auto graphite = make_parser(
      "graphite", {{"separator", std::string("_")},
                   {"templates", std::vector<std::string>{"servers.* .host.measurement.field",
                                                          "stats.* .host.measurement*"}}});
  run("graphite (templates)", *graphite,
      {lines(kLines,
             [](size_t i) {
               return "servers.web" + std::to_string(i % 50) + ".cpu.usage_user " +
                      std::to_string(i) + ".5 1700000000\n";
             })},
      kRounds);

  auto csv = make_parser("csv", {{"csv_header_row_count", int64_t{1}},
                                 {"csv_tag_columns", std::vector<std::string>{"host"}},
                                 {"csv_timestamp_column", std::string("time")},
                                 {"csv_timestamp_format", std::string("unix")}});
  {
    Batch b;
    std::vector<ParseError> e;
    csv->parse("host,usage_user,usage_system,count,time\n", 0, b, e);  // the header, once
  }
  run("csv (header remembered)", *csv,
      {lines(kLines,
             [](size_t i) {
               return "web" + std::to_string(i % 50) + ",1.5," + std::to_string(i) +
                      ".25,42,1700000000\n";
             })},
      kRounds);

  auto json_paths =
      make_parser("json", {{"json_fields", std::vector<StringMap>{{{"path", "readings.#.temp"}},
                                                                  {{"path", "readings.#.hum"}}}},
                           {"json_tags", std::vector<StringMap>{{{"path", "station"}}}},
                           {"json_timestamp_path", std::string("readings.#.t")}});
  std::string doc = "{\"station\": \"s1\", \"readings\": [";
  for (size_t i = 0; i < kLines; ++i) {
    if (i > 0) doc += ',';
    doc += "{\"t\": 1700000000, \"temp\": 21." + std::to_string(i % 10) +
           ", \"hum\": " + std::to_string(i % 100) + "}";
  }
  doc += "]}";
  run("json (paths with #)", *json_paths, {doc}, kRounds / 4);

  auto json_objects = make_parser("json", {{"json_object_path", std::string("readings")},
                                           {"json_object_timestamp_key", std::string("t")}});
  run("json (objects)", *json_objects, {doc}, kRounds / 4);

  auto value = make_parser("value", {{"data_type", std::string("float")}});
  std::vector<std::string> values;
  for (int i = 0; i < 10000; ++i) values.push_back(std::to_string(i) + ".5\n");
  run("value (one per message)", *value, values, kRounds / 4);

  const std::string types = std::string(SLUICE_FIXTURES_DIR) + "/collectd/types.db";
  auto collectd = make_parser("collectd", {{"collectd_typesdb", std::vector<std::string>{types}}});
  const std::string packet = collectd_packet();
  run("collectd (1.4 KB packets)", *collectd, std::vector<std::string>(1000, packet), kRounds / 4);

  TempDir dir("parsers-bench");
  std::ofstream(dir / "auth") << "alice: secret\n";
  auto encrypted = make_parser("collectd", {{"collectd_typesdb", std::vector<std::string>{types}},
                                            {"collectd_security_level", std::string("encrypt")},
                                            {"collectd_auth_file", dir / "auth"}});
  run("collectd (encrypted)", *encrypted,
      std::vector<std::string>(1000, collectd_encrypted(packet, "alice", "secret")), kRounds / 4);
  return 0;
}
