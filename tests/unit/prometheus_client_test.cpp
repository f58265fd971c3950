// The prometheus_client output as a whole, on loopback, with its clock driven by the test:
// what it serves, expiration, bind errors, access rules and option checks.
#include "outputs/prometheus_client/prometheus_client.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.hpp"
#include "support/net.hpp"
#include "support/prometheus_server.hpp"

using sluice::Batch;
using sluice::Metric;
using sluice::OptionError;
using sluice::ValueType;
using sluice::WriteResult;
using sluice::outputs::prometheus_client::create_output;
using sluice::testing::free_port;
using sluice::testing::http_get;

namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kStart = 1'700'000'000 * kSecond;

class QuietLogger final : public sluice::Logger {
 public:
  void log(sluice::LogLevel, std::string_view message) override { lines.emplace_back(message); }
  bool enabled(sluice::LogLevel) const override { return true; }
  std::vector<std::string> lines;
};

// An output made from YAML options, with a clock the test moves.
struct Harness {
  explicit Harness(const std::string& options)
      : config(sluice::config::load_text("outputs:\n  - prometheus_client: {" + options + "}\n",
                                         "prometheus-client-test.yaml")),
        output(create_output(sluice::PluginContext{config.outputs.at(0).options, log},
                             [this] { return now.load(); })) {}
  ~Harness() { output->close(); }

  sluice::config::Config config;
  QuietLogger log;
  std::atomic<int64_t> now{kStart};
  std::unique_ptr<sluice::Output> output;
};

std::string listen_on(int port) { return "listen: \"127.0.0.1:" + std::to_string(port) + "\""; }

Metric gauge(const std::string& name, double value) {
  Metric m(name, kStart, ValueType::kGauge);
  m.set_field("value", value);
  return m;
}

const std::string kHeader = "# HELP up sluice collected metric\n# TYPE up gauge\n";

}  // namespace

TEST_CASE("prometheus_client: serves the latest values and forgets them after the interval") {
  int port = free_port();
  Harness h(listen_on(port) + ", expiration_interval: 60s");
  REQUIRE(h.output->connect().status == WriteResult::Status::kOk);
  CHECK(h.log.lines.at(0) ==
        "serving metrics at http://127.0.0.1:" + std::to_string(port) + "/metrics");

  auto empty = http_get(port, "/metrics");
  CHECK(empty.status == 200);
  CHECK(empty.body.empty());
  CHECK(empty.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");

  REQUIRE(h.output->write(Batch{gauge("up", 1)}).status == WriteResult::Status::kOk);
  CHECK(http_get(port, "/metrics").body == kHeader + "up 1\n");

  h.now += 30 * kSecond;
  REQUIRE(h.output->write(Batch{gauge("up", 2)}).status == WriteResult::Status::kOk);
  h.now += 60 * kSecond;  // 60 s after the last update: still served
  CHECK(http_get(port, "/metrics").body == kHeader + "up 2\n");
  h.now += 1;  // past it: expired at the scrape, no write needed
  CHECK(http_get(port, "/metrics").body.empty());

  CHECK(http_get(port, "/other").status == 404);
  httplib::Client client("127.0.0.1", port);
  auto post = client.Post("/metrics", "x", "text/plain");
  REQUIRE(post);
  CHECK(post->status == 405);
  CHECK(post->get_header_value("Allow") == "GET, HEAD");

  // close() stops the server; connect() starts it again.
  h.output->close();
  CHECK_FALSE(sluice::testing::wait_for_port(port, 0.2));
  REQUIRE(h.output->connect().status == WriteResult::Status::kOk);
  CHECK(http_get(port, "/metrics").status == 200);
}

TEST_CASE("prometheus_client: a taken address is retried with a message naming it") {
  int port = free_port();
  int blocker = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(bind(blocker, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(blocker, 1) == 0);

  Harness h(listen_on(port));
  WriteResult r = h.output->connect();
  CHECK(r.status == WriteResult::Status::kRetry);
  CHECK(r.error ==
        "cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
  close(blocker);
  CHECK(h.output->connect().status == WriteResult::Status::kOk);
  CHECK(http_get(port, "/metrics").status == 200);
}

TEST_CASE("prometheus_client: basic auth and ip_range guard the metrics") {
  int port = free_port();
  Harness h(listen_on(port) + ", basic_username: u, basic_password: p");
  REQUIRE(h.output->connect().status == WriteResult::Status::kOk);
  REQUIRE(h.output->write(Batch{gauge("up", 1)}).status == WriteResult::Status::kOk);
  auto denied = http_get(port, "/metrics");
  CHECK(denied.status == 401);
  CHECK(denied.header("WWW-Authenticate") == "Basic realm=\"sluice\"");
  CHECK(http_get(port, "/metrics", {{"Authorization", "Basic dTp4"}}).status == 401);  // u:x
  auto allowed = http_get(port, "/metrics", {{"Authorization", "Basic dTpw"}});        // u:p
  CHECK(allowed.status == 200);
  CHECK(allowed.body == kHeader + "up 1\n");

  int other = free_port();
  Harness elsewhere(listen_on(other) + ", ip_range: [10.0.0.0/8, \"fd00::/8\"]");
  REQUIRE(elsewhere.output->connect().status == WriteResult::Status::kOk);
  CHECK(http_get(other, "/metrics").status == 403);
  int local = free_port();
  Harness loopback(listen_on(local) + ", ip_range: [10.0.0.0/8, 127.0.0.0/8]");
  REQUIRE(loopback.output->connect().status == WriteResult::Status::kOk);
  CHECK(http_get(local, "/metrics").status == 200);
}

TEST_CASE("prometheus_client: unacceptable options are refused with the option's name") {
  auto refused = [](const std::string& options) -> std::string {
    try {
      Harness h(options);
    } catch (const OptionError& e) {
      return e.option() + ": " + e.what();
    }
    return "accepted";
  };
  CHECK(refused("metric_version: 1") == "metric_version: only metric_version 2 is supported");
  CHECK(refused("listen: \"9273\"") ==
        "listen: expected host:port, :port or [v6]:port, got \"9273\"");
  CHECK(refused("listen: \"localhost:99999\"").rfind("listen:", 0) == 0);
  CHECK(refused("path: metrics") == "path: must start with '/', got \"metrics\"");
  CHECK(refused("basic_username: u") ==
        "basic_password: basic_username and basic_password must be set together");
  CHECK(refused("tls_cert: /x.pem") == "tls_key: tls_cert and tls_key must be set together");
  CHECK(refused("ip_range: [10.0.0.0/40]") ==
        "ip_range: \"10.0.0.0/40\" is not an IP address or CIDR");
  CHECK(refused("listen: \"[::1]:9273\"") == "accepted");
  CHECK(refused("listen: \":9273\"") == "accepted");
}

TEST_CASE("prometheus_client: a certificate that does not load is reported at connect") {
  Harness h(listen_on(free_port()) + ", tls_cert: /nonexistent/cert.pem, tls_key: /nonexistent/k");
  WriteResult r = h.output->connect();
  CHECK(r.status == WriteResult::Status::kRetry);
  CHECK(r.error.find("cannot load the certificate /nonexistent/cert.pem") != std::string::npos);
}
