// The prometheus parser: samples per second and ns per sample on a generated exposition shaped
// like a busy exporter's (counters and gauges with labels, histograms with 12 buckets, and
// summaries), in both metric layouts.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "parsers/prometheus/text_parser.hpp"

namespace {

std::string exposition(int families, size_t& samples) {
  std::string out;
  samples = 0;
  const char* bounds[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                          "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  for (int f = 0; f < families; ++f) {
    std::string n = "app_requests_" + std::to_string(f);
    out += "# HELP " + n + "_total Requests served.\n# TYPE " + n + "_total counter\n";
    for (int s = 0; s < 4; ++s) {
      out += n + "_total{method=\"GET\",code=\"" + std::to_string(200 + s) +
             "\",handler=\"/api/v1/" + std::to_string(s) + "\"} " + std::to_string(1000 * f + s) +
             "\n";
      ++samples;
    }
    out += "# TYPE " + n + "_inflight gauge\n" + n + "_inflight " + std::to_string(f % 7) + "\n";
    ++samples;
    out += "# TYPE " + n + "_seconds histogram\n";
    for (int b = 0; b < 12; ++b) {
      out += n + "_seconds_bucket{handler=\"/api\",le=\"" + bounds[b] + "\"} " +
             std::to_string(b * 10 + f) + "\n";
      ++samples;
    }
    out +=
        n + "_seconds_sum{handler=\"/api\"} 53.25\n" + n + "_seconds_count{handler=\"/api\"} 130\n";
    samples += 2;
    out += "# TYPE " + n + "_gc summary\n";
    for (const char* q : {"0", "0.25", "0.5", "0.75", "1"}) {
      out += n + "_gc{quantile=\"" + q + "\"} 1.5e-05\n";
      ++samples;
    }
    out += n + "_gc_sum 0.5\n" + n + "_gc_count 1000\n";
    samples += 2;
  }
  return out;
}

}  // namespace

int main() {
  size_t samples = 0;
  const std::string text = exposition(400, samples);
  std::printf("exposition: %zu bytes, %zu samples\n", text.size(), samples);
  for (int version : {1, 2}) {
    sluice::parsers::prometheus::TextParser parser({version, false});
    constexpr int kRounds = 50;
    size_t metrics = 0;
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kRounds; ++i) {
      sluice::Batch out;
      std::vector<sluice::ParseError> errors;
      parser.parse(text, 1, out, errors);
      metrics += out.size();
      if (!errors.empty()) return 1;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double per_round = secs / kRounds;
    std::printf(
        "metric_version %d: %.1f ms per scrape, %.0f ns per sample, %.2f M samples/s, "
        "%.1f MB/s, %zu metrics per scrape\n",
        version, per_round * 1e3, per_round * 1e9 / static_cast<double>(samples),
        static_cast<double>(samples) / per_round / 1e6,
        static_cast<double>(text.size()) / per_round / 1e6, metrics / kRounds);
  }
  return 0;
}
