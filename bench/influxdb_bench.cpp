// InfluxDB 1.x write throughput: sluice (pipeline -> influxdb output) against curl posting the
// same batches as pre-generated line-protocol files, each on a fresh influxd on 127.0.0.1.
// The goal is that influxd, not sluice, is the bottleneck: sluice >= 90% of curl's rate.
//
//   influxdb_bench [metrics=500000] [batch=5000] [rounds=3]
//
// curl runs as one process with one request per file (`--next`), so it keeps its connection
// alive as sluice does. Both are checked afterwards: influxd must hold every point.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/http_gzip.hpp"
#include "lineproto/serializer.hpp"
#include "pipeline/pipeline.hpp"
#include "support/influxd.hpp"

using sluice::Batch;
using sluice::Metric;
using sluice::testing::Influxd;
using Seconds = std::chrono::duration<double>;

namespace {

constexpr int64_t kBaseTime = 1'700'000'000'000'000'000;

// Metrics shaped like Telegraf's cpu input: 100 hosts x 8 cpus, five fields.
std::vector<Batch> make_batches(int64_t metrics, int64_t batch_size) {
  std::vector<Batch> batches;
  for (int64_t first = 0; first < metrics; first += batch_size) {
    Batch batch;
    for (int64_t i = first; i < std::min(metrics, first + batch_size); ++i) {
      Metric m("cpu", kBaseTime + i * 1000);
      m.set_tag("cpu", "cpu" + std::to_string(i % 8));
      m.set_tag("host", "host" + std::to_string((i / 8) % 100));
      m.set_field("usage_user", 10.0 + static_cast<double>(i % 1000) / 7.0);
      m.set_field("usage_system", 3.25 + static_cast<double>(i % 97) / 13.0);
      m.set_field("usage_idle", 80.5 - static_cast<double>(i % 50) / 3.0);
      m.set_field("usage_iowait", 0.125);
      m.set_field("seq", i);
      batch.push_back(std::move(m));
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

bool wait_for_points(const Influxd& server, const std::string& db, int64_t expected) {
  for (int i = 0; i < 600; ++i) {
    if (server.count(db, "cpu", "seq") == expected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// Posts every file with one curl process; returns the seconds taken, or a negative number if a
// request failed.
double run_curl(const Influxd& server, const std::vector<std::string>& files, bool gzip,
                const std::string& dir) {
  std::string url = server.url() + "/write?db=bench&precision=ns";
  std::string config = dir + "/curl.config";
  {
    std::ofstream out(config);
    for (size_t i = 0; i < files.size(); ++i) {
      if (i > 0) out << "next\n";
      out << "url = \"" << url << "\"\n"
          << "data-binary = \"@" << files[i] << "\"\n"
          << "header = \"Content-Type: text/plain; charset=utf-8\"\n"
          << "header = \"Expect:\"\n"
          << (gzip ? "header = \"Content-Encoding: gzip\"\n" : "")
          << "silent\noutput = \"/dev/null\"\nwrite-out = \"%{http_code} %{num_connects}\\n\"\n";
    }
  }
  auto started = std::chrono::steady_clock::now();
  auto result = sluice::testing::run_command("curl -K " + sluice::testing::shell_quote(config));
  double seconds = Seconds(std::chrono::steady_clock::now() - started).count();
  size_t ok = 0;
  size_t connects = 0;
  std::istringstream lines(result.output);
  int code = 0, opened = 0;
  while (lines >> code >> opened) {
    ok += code == 204 ? 1 : 0;
    connects += static_cast<size_t>(opened);
  }
  if (connects > 1) fmt::print("  (curl opened {} connections for {} requests)\n", connects, ok);
  if (result.exit_code != 0 || ok != files.size()) {
    fmt::print(stderr, "curl failed ({} of {} answered 204): {}\n", ok, files.size(),
               result.output.substr(0, 300));
    return -1;
  }
  return seconds;
}

// Feeds every batch to a pipeline with the influxdb output; returns the seconds until the
// output has written them all, or a negative number.
double run_sluice(const Influxd& server, const std::vector<Batch>& batches, int64_t metrics,
                  int64_t batch_size, bool gzip) {
  std::string yaml = fmt::format(
      "agent: {{flush_interval: 1s, metric_batch_size: {}, metric_buffer_limit: {},"
      " omit_hostname: true, log_level: warn}}\n"
      "outputs:\n  - influxdb: {{urls: [\"{}\"], database: bench, content_encoding: {}}}\n",
      batch_size, metrics + batch_size, server.url(), gzip ? "gzip" : "identity");
  auto config = sluice::config::load_text(yaml, "influxdb-bench.yaml");
  std::vector<Batch> copies = batches;  // the pipeline takes ownership; copy before timing
  sluice::pipeline::Pipeline pipeline(config, sluice::pipeline::SystemClock::instance(), {},
                                      static_cast<size_t>(4 * batch_size));
  pipeline.start();
  // The output's first connect (one CREATE DATABASE round trip) is inside the timed run.
  auto started = std::chrono::steady_clock::now();
  for (Batch& b : copies) pipeline.accept(std::move(b));
  auto& stats = pipeline.outputs()[0]->stats();
  auto deadline = started + std::chrono::minutes(5);
  while (stats.metrics_written < static_cast<uint64_t>(metrics) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  double seconds = Seconds(std::chrono::steady_clock::now() - started).count();
  bool complete = stats.metrics_written == static_cast<uint64_t>(metrics);
  pipeline.stop(sluice::pipeline::SystemClock::instance().now() + 5'000'000'000);
  return complete ? seconds : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t metrics = argc > 1 ? std::atoll(argv[1]) : 500'000;
  const int64_t batch_size = argc > 2 ? std::atoll(argv[2]) : 5'000;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  if (metrics <= 0 || batch_size <= 0 || rounds <= 0) {
    fmt::print(stderr, "usage: influxdb_bench [metrics=500000] [batch=5000] [rounds=3]\n");
    return 2;
  }
  if (!sluice::testing::influxd_available()) {
    fmt::print(stderr, "influxd is not installed (Debian package influxdb)\n");
    return 1;
  }
  sluice::testing::TempDir dir("influxdb-bench");
  auto batches = make_batches(metrics, batch_size);
  std::vector<std::string> plain_files, gzip_files;
  size_t bytes = 0;
  sluice::core::GzipEncoder gzip;
  for (size_t i = 0; i < batches.size(); ++i) {
    std::string text;
    sluice::lineproto::serialize_batch(batches[i], text, {.uint_support = false});
    bytes += text.size();
    std::string packed;
    gzip.compress(text, packed);
    plain_files.push_back(dir / fmt::format("batch-{:05}.lp", i));
    gzip_files.push_back(dir / fmt::format("batch-{:05}.lp.gz", i));
    std::ofstream(plain_files.back(), std::ios::binary) << text;
    std::ofstream(gzip_files.back(), std::ios::binary) << packed;
  }
  std::string version = sluice::testing::run_command("influxd version").output;
  version = version.substr(0, version.find('\n'));
  fmt::print(
      "influxdb_bench: {} metrics in {} batches of {} ({:.1f} MB of line protocol), {} on "
      "127.0.0.1, {} rounds\n",
      metrics, batches.size(), batch_size, static_cast<double>(bytes) / 1e6, version, rounds);

  // Each round runs curl and sluice on fresh servers, in alternating order, so that drift in
  // the machine's load affects both alike; the medians are the result.
  int failures = 0;
  for (bool compressed : {false, true}) {
    const char* encoding = compressed ? "gzip" : "identity";
    std::vector<double> curl_rates, sluice_rates;
    for (int round = 0; round < rounds; ++round) {
      double curl_s = -1, sluice_s = -1;
      for (int turn = 0; turn < 2; ++turn) {
        bool curl_turn = (turn == 0) == (round % 2 == 0);
        Influxd server(curl_turn ? "influxdb-bench-curl" : "influxdb-bench-sluice");
        if (!server.start() || !server.query("", "CREATE DATABASE bench").is_object()) {
          fmt::print(stderr, "influxd did not start\n");
          return 1;
        }
        double& seconds = curl_turn ? curl_s : sluice_s;
        seconds = curl_turn ? run_curl(server, compressed ? gzip_files : plain_files, compressed,
                                       dir.path())
                            : run_sluice(server, batches, metrics, batch_size, compressed);
        if (seconds > 0 && !wait_for_points(server, "bench", metrics)) seconds = -1;
      }
      if (curl_s <= 0 || sluice_s <= 0) {
        fmt::print(
            "  {:8}  round {}: a run did not deliver every metric (curl {:.2f}s, sluice "
            "{:.2f}s)\n",
            encoding, round + 1, curl_s, sluice_s);
        ++failures;
        continue;
      }
      curl_rates.push_back(static_cast<double>(metrics) / curl_s);
      sluice_rates.push_back(static_cast<double>(metrics) / sluice_s);
      fmt::print(
          "  {:8}  round {}: curl {:>8.0f} metrics/s   sluice {:>8.0f} metrics/s   "
          "sluice/curl {:.1f}%\n",
          encoding, round + 1, curl_rates.back(), sluice_rates.back(),
          100.0 * sluice_rates.back() / curl_rates.back());
    }
    if (curl_rates.empty()) continue;
    double curl_rate = median(curl_rates), sluice_rate = median(sluice_rates);
    fmt::print(
        "  {:8}  median:  curl {:>8.0f} metrics/s   sluice {:>8.0f} metrics/s   "
        "sluice/curl {:.1f}% (target >= 90%)\n",
        encoding, curl_rate, sluice_rate, 100.0 * sluice_rate / curl_rate);
  }
  return failures == 0 ? 0 : 1;
}
