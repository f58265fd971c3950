// The prometheus data format: the text exposition format 0.0.4 in both of Telegraf's layouts.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "plugin_test_support.hpp"

using sluice::Batch;
using sluice::Metric;
using sluice::ParseError;
using sluice::ValueType;
using sluice::testing::make_parser;

namespace {

constexpr int64_t kNow = 1'700'000'000'000'000'000;

struct Parsed {
  Batch metrics;
  std::vector<ParseError> errors;
};

Parsed parse(std::string_view text, int64_t version = 2, bool ignore_timestamp = false) {
  auto parser = make_parser("prometheus", {{"prometheus_metric_version", version},
                                           {"prometheus_ignore_timestamp", ignore_timestamp}});
  Parsed p;
  parser->parse(text, kNow, p.metrics, p.errors);
  return p;
}

Metric metric(std::string name, std::vector<std::pair<std::string, std::string>> tags,
              std::vector<std::pair<std::string, double>> fields, ValueType type,
              int64_t time = kNow) {
  Metric m(std::move(name), time, type);
  for (auto& [k, v] : tags) m.set_tag(k, v);
  for (auto& [k, v] : fields) m.append_field(k, v);
  return m;
}

const char* kExposition = R"(# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# A plain comment
# TYPE temperature gauge
temperature{room="kitchen"} 21.5
metric_without_type_or_labels 12.47
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
)";

}  // namespace

TEST_CASE("prometheus parser: metric_version 2, one metric per sample, named prometheus") {
  Parsed p = parse(kExposition, 2);
  CHECK(p.errors.empty());
  const int64_t ts = 1395066363000LL * 1'000'000;
  Batch want = {
      metric("prometheus", {{"method", "post"}, {"code", "200"}}, {{"http_requests_total", 1027}},
             ValueType::kCounter, ts),
      metric("prometheus", {{"method", "post"}, {"code", "400"}}, {{"http_requests_total", 3}},
             ValueType::kCounter, ts),
      metric("prometheus", {{"room", "kitchen"}}, {{"temperature", 21.5}}, ValueType::kGauge),
      metric("prometheus", {}, {{"metric_without_type_or_labels", 12.47}}, ValueType::kUntyped),
      metric("prometheus", {},
             {{"rpc_duration_seconds_count", 2693}, {"rpc_duration_seconds_sum", 1.7560473e+07}},
             ValueType::kSummary),
      metric("prometheus", {{"quantile", "0.5"}}, {{"rpc_duration_seconds", 4773}},
             ValueType::kSummary),
      metric("prometheus", {{"quantile", "0.99"}}, {{"rpc_duration_seconds", 76656}},
             ValueType::kSummary),
      metric("prometheus", {},
             {{"http_request_duration_seconds_count", 144320},
              {"http_request_duration_seconds_sum", 53423}},
             ValueType::kHistogram),
      metric("prometheus", {{"le", "0.05"}}, {{"http_request_duration_seconds_bucket", 24054}},
             ValueType::kHistogram),
      metric("prometheus", {{"le", "0.5"}}, {{"http_request_duration_seconds_bucket", 129389}},
             ValueType::kHistogram),
      metric("prometheus", {{"le", "+Inf"}}, {{"http_request_duration_seconds_bucket", 144320}},
             ValueType::kHistogram),
  };
  REQUIRE(p.metrics.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(p.metrics[i] == want[i]);
  }
}

TEST_CASE("prometheus parser: metric_version 1, measurement per metric, one per histogram") {
  Parsed p = parse(kExposition, 1);
  CHECK(p.errors.empty());
  const int64_t ts = 1395066363000LL * 1'000'000;
  Batch want = {
      metric("http_requests_total", {{"method", "post"}, {"code", "200"}}, {{"counter", 1027}},
             ValueType::kCounter, ts),
      metric("http_requests_total", {{"method", "post"}, {"code", "400"}}, {{"counter", 3}},
             ValueType::kCounter, ts),
      metric("temperature", {{"room", "kitchen"}}, {{"gauge", 21.5}}, ValueType::kGauge),
      metric("metric_without_type_or_labels", {}, {{"value", 12.47}}, ValueType::kUntyped),
      metric("rpc_duration_seconds", {},
             {{"0.5", 4773}, {"0.99", 76656}, {"count", 2693}, {"sum", 1.7560473e+07}},
             ValueType::kSummary),
      metric(
          "http_request_duration_seconds", {},
          {{"0.05", 24054}, {"0.5", 129389}, {"+Inf", 144320}, {"count", 144320}, {"sum", 53423}},
          ValueType::kHistogram),
  };
  REQUIRE(p.metrics.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(p.metrics[i] == want[i]);
  }
}

TEST_CASE("prometheus parser: histograms are grouped by their labels, interleaved or not") {
  Parsed p = parse(R"(# TYPE lat histogram
lat_bucket{path="/a",le="1"} 1
lat_bucket{path="/b",le="1"} 5
lat_bucket{le="+Inf",path="/a"} 2
lat_bucket{path="/b",le="+Inf"} 7
lat_count{path="/a"} 2
lat_sum{path="/a"} 1.5
lat_count{path="/b"} 7
lat_sum{path="/b"} 9
)",
                   1);
  CHECK(p.errors.empty());
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0] == metric("lat", {{"path", "/a"}},
                               {{"1", 1}, {"+Inf", 2}, {"count", 2}, {"sum", 1.5}},
                               ValueType::kHistogram));
  CHECK(p.metrics[1] == metric("lat", {{"path", "/b"}},
                               {{"1", 5}, {"+Inf", 7}, {"count", 7}, {"sum", 9}},
                               ValueType::kHistogram));
}

TEST_CASE("prometheus parser: escaped label values, NaN and infinities, timestamps") {
  Parsed p = parse(
      "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find "
      "file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
      "a{x=\"1\",} +Inf -5\n"
      "b -Inf 1700000000123\n"
      "c NaN\n"
      "d\t\t42\t\n"
      "e{} 1e3\n"
      "f{empty=\"\",k=\"v\"} 0\n"
      "g 1e400\n"
      "h -1e-400\n");
  CHECK(p.errors.empty());
  REQUIRE(p.metrics.size() == 9);
  CHECK(p.metrics[0] ==
        metric("prometheus",
               {{"path", "C:\\DIR\\FILE.TXT"}, {"error", "Cannot find file:\n\"FILE.TXT\""}},
               {{"msdos_file_access_time_seconds", 1.458255915e9}}, ValueType::kUntyped));
  CHECK(p.metrics[1] == metric("prometheus", {{"x", "1"}},
                               {{"a", std::numeric_limits<double>::infinity()}},
                               ValueType::kUntyped, -5'000'000));
  CHECK(p.metrics[2] == metric("prometheus", {}, {{"b", -std::numeric_limits<double>::infinity()}},
                               ValueType::kUntyped, 1700000000123LL * 1'000'000));
  CHECK(p.metrics[3].name() == "prometheus");
  REQUIRE(p.metrics[3].field("c") != nullptr);
  CHECK(std::isnan(std::get<double>(*p.metrics[3].field("c"))));
  CHECK(p.metrics[4] == metric("prometheus", {}, {{"d", 42}}, ValueType::kUntyped));
  CHECK(p.metrics[5] == metric("prometheus", {}, {{"e", 1000}}, ValueType::kUntyped));
  // An empty label value is no label, as in Prometheus.
  CHECK(p.metrics[6] == metric("prometheus", {{"k", "v"}}, {{"f", 0}}, ValueType::kUntyped));
  // Out of the double's range: infinity, and (the nearest to) zero.
  CHECK(p.metrics[7] == metric("prometheus", {}, {{"g", std::numeric_limits<double>::infinity()}},
                               ValueType::kUntyped));
  REQUIRE(p.metrics[8].field("h") != nullptr);
  CHECK(std::get<double>(*p.metrics[8].field("h")) == 0.0);
}

TEST_CASE("prometheus parser: prometheus_ignore_timestamp stamps the time of parsing") {
  Parsed p = parse("# TYPE up gauge\nup{job=\"x\"} 1 1395066363000\n", 2, true);
  CHECK(p.errors.empty());
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0] == metric("prometheus", {{"job", "x"}}, {{"up", 1}}, ValueType::kGauge));
}

TEST_CASE("prometheus parser: bad lines are reported with line and column, the rest goes on") {
  Parsed p = parse(R"(good 1
bad{label="x} 1
# TYPE thing weird
9starts_with_digit 1
x{a="1"} notanumber
y 1 12.5
z{a="\q"} 1
# TYPE h histogram
h_bucket{x="1"} 3
h_bucket{le="one"} 3
w{a="1",a="2"} 1
v{a="1" b="2"} 1
also_good{k="v"} 2
)");
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0] == metric("prometheus", {}, {{"good", 1}}, ValueType::kUntyped));
  CHECK(p.metrics[1] ==
        metric("prometheus", {{"k", "v"}}, {{"also_good", 2}}, ValueType::kUntyped));
  REQUIRE(p.errors.size() == 10);
  auto at = [&](size_t i, size_t line, size_t column, std::string_view reason_part) {
    CAPTURE(i);
    CAPTURE(p.errors[i].reason);
    CHECK(p.errors[i].line == line);
    CHECK(p.errors[i].column == column);
    CHECK(p.errors[i].reason.find(reason_part) != std::string::npos);
  };
  at(0, 2, 16, "label value without its closing");
  at(1, 3, 14, "unknown metric type \"weird\"");
  at(2, 4, 1, "expected a metric name");
  at(3, 5, 10, "invalid value \"notanumber\"");
  at(4, 6, 5, "invalid timestamp \"12.5\"");
  at(5, 7, 6, "invalid escape");
  at(6, 9, 1, "without its le label");
  at(7, 10, 1, "invalid le \"one\"");
  at(8, 11, 9, "label a given twice");
  at(9, 12, 9, "expected ',' or '}'");
}

TEST_CASE("prometheus parser: a bad metric_version is an option error") {
  CHECK_THROWS_AS(make_parser("prometheus", {{"prometheus_metric_version", int64_t{3}}}),
                  sluice::OptionError);
}

TEST_CASE(
    "prometheus parser: garbage made of the format's own pieces is reported, never read past") {
  // Fragments of valid and broken syntax, glued in a fixed pseudo-random order: the parser must
  // point each error inside its line and never stop early.
  const char* pieces[] = {"m",    "{",        "}",    "a=\"x\"",    ",",       " ",
                          "\t",   "1",        "-Inf", "NaN",        "1e400",   "\"",
                          "\\",   "# TYPE",   "h",    " histogram", "_bucket", "le=\"1\"",
                          "_sum", "quantile", "=",    "123",        ":x",      "\r"};
  std::string text;
  std::vector<size_t> lengths;
  uint32_t state = 12345;
  for (int line = 0; line < 2000; ++line) {
    std::string l;
    int n = 1 + static_cast<int>(state % 9);
    for (int i = 0; i < n; ++i) {
      state = state * 1103515245u + 12345u;
      l += pieces[(state >> 16) % std::size(pieces)];
    }
    lengths.push_back(l.size());
    text += l + "\n";
  }
  Parsed p = parse(text, 2);
  CHECK(!p.errors.empty());
  CHECK(!p.metrics.empty());
  for (const ParseError& e : p.errors) {
    REQUIRE(e.line >= 1);
    REQUIRE(e.line <= lengths.size());
    CHECK(e.column >= 1);
    CHECK(e.column <= lengths[e.line - 1] + 1);
  }
  // Every line is accounted for once at most.
  for (size_t i = 1; i < p.errors.size(); ++i) CHECK(p.errors[i].line > p.errors[i - 1].line);
}
