// The prometheus input scraping a real exporter: Debian's prometheus-node-exporter on
// 127.0.0.1, serving known values from a textfile, and its own build_info.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "config/config.hpp"
#include "pipeline/pipeline.hpp"
#include "plugins/input_test_support.hpp"
#include "plugins/plugin_test_support.hpp"
#include "support/http_test_server.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/test_plugins.hpp"

using namespace sluice;
using sluice::testing::BackgroundProcess;
using sluice::testing::input_from_yaml;
using sluice::testing::LockedAccumulator;
using sluice::testing::TempDir;

namespace {

constexpr const char* kNodeExporter = "/usr/bin/prometheus-node-exporter";

const char* kTextfile = R"(# HELP sluice_test_temperature_celsius A known gauge.
# TYPE sluice_test_temperature_celsius gauge
sluice_test_temperature_celsius{room="kitchen"} 21.5
sluice_test_temperature_celsius{room="hall \"north\""} -3
# HELP sluice_test_jobs_total A known counter.
# TYPE sluice_test_jobs_total counter
sluice_test_jobs_total{queue="mail"} 1027
)";

class NodeExporter {
 public:
  NodeExporter() : dir_("node-exporter"), port_(testing::free_port()) {
    std::ofstream(dir_ / "known.prom") << kTextfile;
    process_ = std::make_unique<BackgroundProcess>(
        std::string(kNodeExporter) + " --web.listen-address=127.0.0.1:" + std::to_string(port_) +
        " --collector.disable-defaults --collector.textfile --collector.textfile.directory=" +
        dir_.path().string() + " > " + (dir_ / "log") + " 2>&1");
  }
  bool ready() const { return testing::wait_for_port(port_, 20); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/metrics"; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<BackgroundProcess> process_;
};

const Metric* find(const Batch& batch, std::string_view name, std::string_view tag,
                   std::string_view value) {
  for (const Metric& m : batch) {
    if (m.name() == name && m.tag(tag) == value) return &m;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("prometheus input: scrapes node_exporter, metric_version 1 and 2 with exact values") {
  if (!std::filesystem::exists(kNodeExporter)) {
    MESSAGE("prometheus-node-exporter is not installed (scripts/install-deps.sh); skipped");
    return;
  }
  NodeExporter exporter;
  REQUIRE(exporter.ready());
  testing::NullLogger log;
  const std::string url = exporter.url();

  auto v1 = input_from_yaml("prometheus", "urls: ['" + url + "']", log);
  LockedAccumulator acc(1'000);
  v1->gather(acc);
  CHECK(acc.errors().empty());
  CHECK(acc.rejected().empty());
  Batch got = acc.metrics();
  const Metric* kitchen = find(got, "sluice_test_temperature_celsius", "room", "kitchen");
  REQUIRE(kitchen != nullptr);
  Metric want("sluice_test_temperature_celsius", 1'000, ValueType::kGauge);
  want.set_tag("room", "kitchen");
  want.set_tag("url", url);
  want.set_field("gauge", 21.5);
  CHECK(*kitchen == want);
  const Metric* hall = find(got, "sluice_test_temperature_celsius", "room", "hall \"north\"");
  REQUIRE(hall != nullptr);
  CHECK(hall->fields() == std::vector<Field>{{"gauge", -3.0}});
  const Metric* jobs = find(got, "sluice_test_jobs_total", "queue", "mail");
  REQUIRE(jobs != nullptr);
  CHECK(jobs->type() == ValueType::kCounter);
  CHECK(jobs->fields() == std::vector<Field>{{"counter", 1027.0}});
  // node_exporter's own metrics come along: its build info and the textfile's mtime.
  const Metric* build = find(got, "node_exporter_build_info", "url", url);
  REQUIRE(build != nullptr);
  CHECK(build->fields() == std::vector<Field>{{"gauge", 1.0}});
  CHECK(build->tag("version").has_value());
  // The Go runtime's summary, grouped into one metric with quantiles, sum and count.
  const Metric* gc = find(got, "go_gc_duration_seconds", "url", url);
  REQUIRE(gc != nullptr);
  CHECK(gc->type() == ValueType::kSummary);
  CHECK(gc->field("0.5") != nullptr);
  CHECK(gc->field("count") != nullptr);
  CHECK(gc->field("sum") != nullptr);

  auto v2 =
      input_from_yaml("prometheus", "urls: ['" + url + "'], metric_version: 2, url_tag: ''", log);
  LockedAccumulator acc2(2'000);
  v2->gather(acc2);
  CHECK(acc2.errors().empty());
  Batch got2 = acc2.metrics();
  const Metric* k2 = find(got2, "prometheus", "room", "kitchen");
  REQUIRE(k2 != nullptr);
  Metric want2("prometheus", 2'000, ValueType::kGauge);
  want2.set_tag("room", "kitchen");
  want2.set_field("sluice_test_temperature_celsius", 21.5);
  CHECK(*k2 == want2);

  // A new value in the textfile is seen on the next interval.
  std::ofstream(exporter.dir() / "known.prom.tmp")
      << "# TYPE sluice_test_temperature_celsius gauge\n"
         "sluice_test_temperature_celsius{room=\"kitchen\"} 22.25\n";
  std::filesystem::rename(exporter.dir() / "known.prom.tmp", exporter.dir() / "known.prom");
  acc2.clear();
  v2->gather(acc2);
  got2 = acc2.metrics();
  k2 = find(got2, "prometheus", "room", "kitchen");
  REQUIRE(k2 != nullptr);
  CHECK(k2->fields() == std::vector<Field>{{"sluice_test_temperature_celsius", 22.25}});
}

TEST_CASE("prometheus input: sluice test prints what node_exporter serves") {
  if (!std::filesystem::exists(kNodeExporter)) {
    MESSAGE("prometheus-node-exporter is not installed (scripts/install-deps.sh); skipped");
    return;
  }
  NodeExporter exporter;
  REQUIRE(exporter.ready());
  std::ofstream(exporter.dir() / "sluice.yaml")
      << "inputs:\n  - prometheus: {urls: ['" << exporter.url() << "'], metric_version: 2}\n";
  auto result = testing::run_command(std::string(SLUICE_BINARY) + " test --config " +
                                     (exporter.dir() / "sluice.yaml"));
  CHECK(result.exit_code == 0);
  CAPTURE(result.output);
  // The agent adds its host tag, which sorts first.
  CHECK(result.output.find(",room=kitchen,url=" + exporter.url() +
                           " sluice_test_temperature_celsius=21.5 ") != std::string::npos);
  CHECK(result.output.find(",queue=mail,url=" + exporter.url() + " sluice_test_jobs_total=1027 ") !=
        std::string::npos);
}

TEST_CASE("prometheus input: Accept header, bearer token, 500 and garbage, then recovery") {
  testing::HttpTestServer server;
  testing::NullLogger log;
  const std::string url = server.url("/metrics");
  auto input = input_from_yaml(
      "prometheus", "urls: ['" + url + "'], bearer_token_string: abc, metric_version: 2", log);
  LockedAccumulator acc(5);

  server.script(500, {}, "exporter broke");
  input->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0] == "scrape " + url + ": HTTP 500: exporter broke");

  acc.clear();
  server.script(200, {}, "garbage here\n# TYPE ok gauge\nok 1\n");
  input->gather(acc);
  CHECK(acc.errors().empty());
  REQUIRE(acc.rejected().size() == 1);
  CHECK(acc.rejected()[0] ==
        url + ": data_format prometheus, line 1, column 9: invalid value \"here\"");
  CHECK(acc.sorted_lines() == std::vector<std::string>{"prometheus,url=" + url + " ok=1 5"});

  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[1].method == "GET");
  CHECK(requests[1].header("accept").starts_with("text/plain;version=0.0.4"));
  CHECK(requests[1].header("authorization") == "Bearer abc");
}

TEST_CASE("prometheus input: scrapes sluice's prometheus_client over TLS with basic auth") {
  TempDir dir("prometheus-input-tls");
  std::string cert = dir / "cert.pem", key = dir / "key.pem";
  auto made = testing::run_command(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  int port = testing::free_port();
  // An agent whose prometheus_client output serves what it is given.
  auto config = config::load_text(
      "agent: {flush_interval: 100ms, omit_hostname: true}\noutputs:\n  - prometheus_client: "
      "{listen: \"127.0.0.1:" +
          std::to_string(port) + "\", tls_cert: \"" + cert + "\", tls_key: \"" + key +
          "\", basic_username: scraper, basic_password: s3cret}\n",
      "tls.yaml");
  pipeline::Pipeline agent(config, pipeline::SystemClock::instance());
  agent.start();
  Metric depth("queue", pipeline::SystemClock::instance().now(), ValueType::kGauge);
  depth.set_tag("name", "mail");
  depth.set_field("depth", 42.0);
  REQUIRE(agent.accept({depth}));
  REQUIRE(testing::wait_for_port(port, 10));
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/metrics";

  testing::NullLogger log;
  auto input = input_from_yaml("prometheus",
                               "urls: ['" + url + "'], tls_ca: '" + cert +
                                   "', username: scraper, password: s3cret, metric_version: 2",
                               log);
  LockedAccumulator acc(9);
  const Metric* got = nullptr;
  Batch batch;
  // The output serves the metric once its first flush (100 ms) is done.
  REQUIRE(testing::eventually(
      [&] {
        acc.clear();
        input->gather(acc);
        batch = acc.metrics();
        got = find(batch, "prometheus", "name", "mail");
        return got != nullptr;
      },
      10));
  CHECK(acc.errors().empty());
  CHECK(got->type() == ValueType::kGauge);
  CHECK(got->fields() == std::vector<Field>{{"queue_depth", 42.0}});
  CHECK(got->tag("url") == url);

  // Wrong credentials: the server's 401 is the error, nothing is added.
  auto wrong = input_from_yaml(
      "prometheus",
      "urls: ['" + url + "'], tls_ca: '" + cert + "', username: scraper, password: wrong", log);
  acc.clear();
  wrong->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0].starts_with("scrape " + url + ": HTTP 401"));
  CHECK(acc.metrics().empty());

  // Without the CA the certificate is not trusted.
  auto untrusting = input_from_yaml(
      "prometheus", "urls: ['" + url + "'], username: scraper, password: s3cret", log);
  acc.clear();
  untrusting->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0].starts_with("scrape " + url + ": "));
  CHECK(acc.metrics().empty());
  agent.stop(pipeline::SystemClock::instance().now() + 2'000'000'000);
}

TEST_CASE("prometheus input: several URLs at once, one of them down, each tagged with its own") {
  testing::HttpTestServer a;
  testing::HttpTestServer b;
  a.script(
      testing::ScriptedAnswer{200, "# TYPE up gauge\nup 1\n", {}, std::chrono::milliseconds(600)});
  b.script(
      testing::ScriptedAnswer{200, "# TYPE up gauge\nup 2\n", {}, std::chrono::milliseconds(600)});
  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/metrics";
  testing::NullLogger log;
  auto input = input_from_yaml("prometheus",
                               "urls: ['" + a.url("/metrics") + "', '" + dead + "', '" +
                                   b.url("/metrics") + "'], response_timeout: 3s",
                               log);
  LockedAccumulator acc(4);
  auto start = std::chrono::steady_clock::now();
  input->gather(acc);
  // Asked one after the other, the two slow answers alone would take 1.2 s.
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1100));
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0].starts_with("scrape " + dead + ": "));
  std::vector<std::string> want = {"up,url=" + a.url("/metrics") + " gauge=1 4",
                                   "up,url=" + b.url("/metrics") + " gauge=2 4"};
  std::sort(want.begin(), want.end());
  CHECK(acc.sorted_lines() == want);
}
