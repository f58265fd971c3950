// The prometheus_client output scraped by a real Prometheus server (Debian's prometheus 2.42),
// both on 127.0.0.1 with ports chosen at run time. Metrics go through sluice's pipeline; the
// series are read back through Prometheus' HTTP query API, labels, values and types compared.
#include <doctest/doctest.h>
#include <httplib.h>

#include <map>
#include <string>

#include "config/config.hpp"
#include "support/output_pipeline.hpp"
#include "support/prometheus_server.hpp"
#include "support/test_plugins.hpp"

using nlohmann::json;
using sluice::Batch;
using sluice::Metric;
using sluice::ValueType;
using sluice::pipeline::Pipeline;
using sluice::pipeline::SystemClock;
using sluice::testing::eventually;
using sluice::testing::PrometheusServer;

namespace {

int64_t now_ns() { return SystemClock::instance().now(); }

// The prometheus_client output with `options`.
struct PromAgent : sluice::testing::OutputPipeline {
  explicit PromAgent(const std::string& options)
      : OutputPipeline("  - prometheus_client: {" + options + "}\n",
                       {.agent = "flush_interval: 100ms"}) {}
};

// The labels of a query result's series, without the ones Prometheus adds (job, instance).
std::map<std::string, std::string> labels(const json& series) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : series["metric"].items()) {
    if (k != "job" && k != "instance") out[k] = v.get<std::string>();
  }
  return out;
}

std::string value(const json& series) { return series["value"][1].get<std::string>(); }

// The value of each series by the value of one label.
std::map<std::string, std::string> by_label(const json& result, const std::string& label) {
  std::map<std::string, std::string> out;
  for (const json& s : result) out[s["metric"].value(label, "")] = value(s);
  return out;
}

// The type Prometheus recorded from the TYPE line.
std::string metadata_type(const PrometheusServer& server, const std::string& name) {
  auto reply = sluice::testing::http_get(server.port(), "/api/v1/metadata?metric=" + name);
  auto j = json::parse(reply.body, nullptr, false);
  if (j.is_discarded() || !j["data"].contains(name)) return "<none>";
  return j["data"][name][0].value("type", "<none>");
}

Metric metric(const std::string& name, ValueType type) { return Metric(name, now_ns(), type); }

#define REQUIRE_PROMETHEUS()                                                     \
  if (!sluice::testing::prometheus_available()) {                                \
    MESSAGE("prometheus is not installed (Debian package prometheus); skipped"); \
    return;                                                                      \
  }

}  // namespace

TEST_CASE("prometheus: scrapes counters and gauges and untyped and histograms and summaries") {
  REQUIRE_PROMETHEUS();
  // Prometheus first (the target is down until the agent's first flush), so the series are
  // scraped soon after they are written, well within the expiration interval.
  int port = sluice::testing::free_port();
  PrometheusServer server;
  REQUIRE_MESSAGE(server.start("  - job_name: sluice\n    static_configs:\n"
                               "      - targets: ['127.0.0.1:" +
                               std::to_string(port) + "']\n"),
                  server.log());
  PromAgent agent("listen: \"127.0.0.1:" + std::to_string(port) + "\", expiration_interval: 8s");

  Batch batch;
  Metric cpu = metric("cpu", ValueType::kGauge);
  cpu.set_tag("host", "web1");
  cpu.set_tag("cpu", "cpu0");
  cpu.set_field("usage_idle", 97.5);
  cpu.set_field("usage_user", 1.25);
  batch.push_back(cpu);
  Metric net = metric("net", ValueType::kCounter);
  net.set_tag("interface", "eth0");
  net.set_field("bytes_recv", uint64_t{123456789});
  batch.push_back(net);
  Metric temp = metric("temp", ValueType::kUntyped);
  temp.set_tag("room", "a \"quoted\" room\\with\nlines");
  temp.set_field("value", 21.5);  // `value` names the family after the measurement alone
  batch.push_back(temp);
  Metric svc = metric("svc", ValueType::kGauge);
  svc.set_field("up", true);
  svc.set_field("version", std::string("1.2.3"));  // string_as_label
  batch.push_back(svc);
  Metric odd = metric("my-app.stats", ValueType::kGauge);
  odd.set_tag("dc-name", "eu");
  odd.set_field("req/s", int64_t{12});
  batch.push_back(odd);
  // A histogram and a summary as Telegraf lays them out: one metric per bucket or quantile,
  // and one with _sum and _count.
  for (auto [le, count] : {std::pair{"0.1", 3}, {"0.5", 7}, {"+Inf", 9}}) {
    Metric h = metric("http", ValueType::kHistogram);
    h.set_tag("path", "/api");
    h.set_tag("le", le);
    h.set_field("req_duration_bucket", int64_t{count});
    batch.push_back(h);
  }
  Metric hsum = metric("http", ValueType::kHistogram);
  hsum.set_tag("path", "/api");
  hsum.set_field("req_duration_sum", 2.5);
  hsum.set_field("req_duration_count", int64_t{9});
  batch.push_back(hsum);
  for (auto [q, v] : {std::pair{"0.5", 0.02}, {"0.99", 0.3}}) {
    Metric s = metric("rpc", ValueType::kSummary);
    s.set_tag("quantile", q);
    s.set_field("latency", v);
    batch.push_back(s);
  }
  Metric ssum = metric("rpc", ValueType::kSummary);
  ssum.set_field("latency_sum", 12.5);
  ssum.set_field("latency_count", uint64_t{100});
  batch.push_back(ssum);
  agent.send(batch);
  REQUIRE(sluice::testing::wait_for_port(port, 10));

  json up = server.await("up{job=\"sluice\"} == 1", 1);
  REQUIRE_MESSAGE(up.size() == 1, server.log());

  json idle = server.await("cpu_usage_idle", 1);
  REQUIRE(idle.size() == 1);
  CHECK(labels(idle[0]) == std::map<std::string, std::string>{
                               {"__name__", "cpu_usage_idle"}, {"cpu", "cpu0"}, {"host", "web1"}});
  CHECK(value(idle[0]) == "97.5");
  CHECK(value(server.await("cpu_usage_user", 1)[0]) == "1.25");
  json recv = server.await("net_bytes_recv", 1);
  REQUIRE(recv.size() == 1);
  CHECK(labels(recv[0]).at("interface") == "eth0");
  CHECK(value(recv[0]) == "123456789");
  json t = server.await("temp", 1);
  REQUIRE(t.size() == 1);
  CHECK(labels(t[0]).at("room") == "a \"quoted\" room\\with\nlines");
  CHECK(value(t[0]) == "21.5");
  json up_svc = server.await("svc_up", 1);
  REQUIRE(up_svc.size() == 1);
  CHECK(labels(up_svc[0]).at("version") == "1.2.3");
  CHECK(value(up_svc[0]) == "1");
  json sanitized = server.await("my_app_stats_req_s", 1);
  REQUIRE(sanitized.size() == 1);
  CHECK(labels(sanitized[0]).at("dc_name") == "eu");
  CHECK(value(sanitized[0]) == "12");

  json buckets = server.await("http_req_duration_bucket{path=\"/api\"}", 3);
  CHECK(by_label(buckets, "le") ==
        std::map<std::string, std::string>{{"0.1", "3"}, {"0.5", "7"}, {"+Inf", "9"}});
  CHECK(value(server.await("http_req_duration_sum", 1)[0]) == "2.5");
  CHECK(value(server.await("http_req_duration_count", 1)[0]) == "9");
  // Prometheus understands the histogram: the median falls in the (0.1, 0.5] bucket.
  json median = server.await("histogram_quantile(0.5, http_req_duration_bucket)", 1);
  REQUIRE(median.size() == 1);
  double q50 = std::stod(value(median[0]));
  CHECK(q50 > 0.1);
  CHECK(q50 <= 0.5);
  json quantiles = server.await("rpc_latency", 2);
  CHECK(by_label(quantiles, "quantile") ==
        std::map<std::string, std::string>{{"0.5", "0.02"}, {"0.99", "0.3"}});
  CHECK(value(server.await("rpc_latency_count", 1)[0]) == "100");
  CHECK(value(server.await("rpc_latency_sum", 1)[0]) == "12.5");

  // The TYPE lines reached Prometheus' metadata.
  CHECK(eventually([&] { return metadata_type(server, "cpu_usage_idle") == "gauge"; }, 10));
  CHECK(metadata_type(server, "net_bytes_recv") == "counter");
  CHECK(metadata_type(server, "temp") == "unknown");
  CHECK(metadata_type(server, "http_req_duration") == "histogram");
  CHECK(metadata_type(server, "rpc_latency") == "summary");

  // A new value replaces the old one.
  Metric again = metric("cpu", ValueType::kGauge);
  again.set_tag("host", "web1");
  again.set_tag("cpu", "cpu0");
  again.set_field("usage_idle", 50.0);
  agent.send({again});
  CHECK(eventually(
      [&] {
        json r = server.query("cpu_usage_idle");
        return r.size() == 1 && value(r[0]) == "50";
      },
      15));

  // Series not updated for expiration_interval leave the exposition, and Prometheus marks them
  // stale; the endpoint itself stays up.
  CHECK(eventually([&] { return server.query("temp").empty(); }, 20));
  CHECK(server.query("up{job=\"sluice\"} == 1").size() == 1);
  CHECK(agent.stats().metrics_written == batch.size() + 1);
}

TEST_CASE("prometheus: scraped over TLS with basic auth (wrong credentials get 401)") {
  REQUIRE_PROMETHEUS();
  PrometheusServer server;
  std::string cert = server.dir() / "cert.pem", key = server.dir() / "key.pem";
  auto made = sluice::testing::run_command(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);

  int port = sluice::testing::free_port();
  PromAgent agent("listen: \"127.0.0.1:" + std::to_string(port) + "\", tls_cert: \"" + cert +
                  "\", tls_key: \"" + key +
                  "\", basic_username: scraper, basic_password: "
                  "\"s3cret:with colon\"");
  Metric m("secure", now_ns(), ValueType::kGauge);
  m.set_field("value", 42.0);
  agent.send({m});
  REQUIRE(sluice::testing::wait_for_port(port, 10));

  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path(cert.c_str());
  client.enable_server_certificate_verification(true);
  auto without = client.Get("/metrics");
  REQUIRE(without);
  CHECK(without->status == 401);
  CHECK(without->get_header_value("WWW-Authenticate") == "Basic realm=\"sluice\"");
  client.set_basic_auth("scraper", "wrong");
  auto wrong = client.Get("/metrics");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  client.set_basic_auth("scraper", "s3cret:with colon");
  REQUIRE(eventually(
      [&] {
        auto ok = client.Get("/metrics");
        return ok && ok->status == 200 && ok->body.find("secure 42\n") != std::string::npos;
      },
      10));
  auto other = client.Get("/other");
  REQUIRE(other);
  CHECK(other->status == 404);

  REQUIRE_MESSAGE(
      server.start("  - job_name: secure\n    scheme: https\n"
                   "    tls_config: {ca_file: '" +
                   cert +
                   "'}\n"
                   "    basic_auth: {username: scraper, password: 's3cret:with colon'}\n"
                   "    static_configs:\n"
                   "      - targets: ['127.0.0.1:" +
                   std::to_string(port) + "']\n"),
      server.log());
  json result = server.await("secure", 1);
  REQUIRE_MESSAGE(result.size() == 1, server.log());
  CHECK(value(result[0]) == "42");
  CHECK(result[0]["metric"]["job"] == "secure");
}
