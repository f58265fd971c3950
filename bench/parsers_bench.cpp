// Parser throughput: the data formats as inputs use them (through the registry), on generated
// messages; influx as the reference. Prints MB/s and metrics/s per format.
#define DOCTEST_CONFIG_DISABLE  // the tests' helpers, without a test runner
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

#include "plugins/plugin_test_support.hpp"

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
  return 0;
}
