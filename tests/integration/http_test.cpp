// The http output through sluice's pipeline against a local HTTP server: formats, methods,
// authentication, gzip, one request per metric, and the delivery rules (retry, split, reject,
// non_retryable_statuscodes).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "support/output_pipeline.hpp"
#include "support/http_test_server.hpp"
#include "support/net.hpp"
#include "support/test_plugins.hpp"

using namespace std::chrono_literals;
using sluice::Batch;
using sluice::Metric;
using sluice::pipeline::Pipeline;
using sluice::pipeline::SystemClock;
using sluice::testing::eventually;
using sluice::testing::HttpTestServer;

namespace {

// Batches of 100, and a 1 s last flush at the end.
struct Agent : sluice::testing::OutputPipeline {
  explicit Agent(const std::string& outputs_yaml)
      : OutputPipeline(outputs_yaml,
                       {.agent = "flush_interval: 100ms, metric_batch_size: 100,"
                                 " metric_buffer_limit: 100000",
                        .stop_grace_ns = 1'000'000'000}) {}
};

std::string http_output(const HttpTestServer& server, const std::string& extra = "") {
  return "  - http: {url: \"" + server.url("/ingest") +
         "\", retry_initial_backoff: 50ms, retry_max_backoff: 200ms" + extra + "}\n";
}

Batch sequence(int64_t first, int64_t count) {
  Batch batch;
  for (int64_t i = first; i < first + count; ++i) {
    Metric m("seq", 1'000 + i);
    m.set_tag("k", "v");
    m.set_field("n", i);
    batch.push_back(std::move(m));
  }
  return batch;
}

std::vector<std::string> lines(int64_t first, int64_t count) {
  std::vector<std::string> out;
  for (int64_t i = first; i < first + count; ++i) {
    out.push_back("seq,k=v n=" + std::to_string(i) + "i " + std::to_string(1'000 + i));
  }
  return out;
}

}  // namespace

TEST_CASE("http: influx line protocol by POST with one request per batch and basic auth") {
  HttpTestServer server;
  Agent agent(http_output(server, ", username: agent, password: pw"));
  agent.send(sequence(0, 100));
  agent.send(sequence(100, 50));
  REQUIRE(eventually([&] { return server.accepted_lines().size() == 150; }));
  auto accepted = server.accepted();
  REQUIRE(accepted.size() == 2);
  CHECK(accepted[0].method == "POST");
  CHECK(accepted[0].path == "/ingest");
  CHECK(accepted[0].header("content-type") == "text/plain; charset=utf-8");
  CHECK(accepted[0].header("authorization") == "Basic YWdlbnQ6cHc=");  // agent:pw
  CHECK(accepted[0].header("content-encoding").empty());               // identity by default
  CHECK(server.accepted_lines() == lines(0, 150));
}

TEST_CASE("http: json batches by PUT with a bearer token and gzip and custom headers") {
  HttpTestServer server;
  Agent agent(http_output(server,
                          ", method: PUT, data_format: json, token: abc123, content_encoding: "
                          "gzip, headers: {X-Source: sluice}"));
  Batch batch;
  Metric m("cpu", 1'700'000'000'000'000'000);
  m.set_tag("host", "web1");
  m.set_field("idle", 97.5);
  m.set_field("busy", int64_t{2});
  batch.push_back(m);
  agent.send(batch);
  REQUIRE(eventually([&] { return server.accepted().size() == 1; }));
  auto r = server.accepted()[0];
  CHECK(r.method == "PUT");
  CHECK(r.header("content-type") == "application/json");
  CHECK(r.header("authorization") == "Bearer abc123");
  CHECK(r.header("content-encoding") == "gzip");
  CHECK(r.header("x-source") == "sluice");
  auto doc = nlohmann::json::parse(r.body);
  // use_batch_format (the default): one document with all the batch's metrics.
  REQUIRE(doc["metrics"].is_array());
  REQUIRE(doc["metrics"].size() == 1);
  auto& metric = doc["metrics"][0];
  CHECK(metric["name"] == "cpu");
  CHECK(metric["tags"]["host"] == "web1");
  CHECK(metric["fields"]["idle"] == 97.5);
  CHECK(metric["fields"]["busy"] == 2);
}

TEST_CASE("http: use_batch_format false sends one request per metric") {
  HttpTestServer server;
  Agent agent(http_output(server, ", use_batch_format: false, method: patch"));
  agent.send(sequence(0, 5));
  REQUIRE(eventually([&] { return server.accepted().size() == 5; }));
  auto accepted = server.accepted();
  for (size_t i = 0; i < accepted.size(); ++i) {
    CHECK(accepted[i].method == "PATCH");
    CHECK(accepted[i].lines() == lines(static_cast<int64_t>(i), 1));
  }
}

TEST_CASE("http: 5xx and 429 are retried in order then 413 splits and 400 drops and counts") {
  HttpTestServer server;
  server.script(502);
  server.script(429, {{"Retry-After", "0"}});
  Agent agent(http_output(server));
  agent.send(sequence(0, 100));
  agent.send(sequence(100, 100));
  REQUIRE(eventually([&] { return server.accepted_lines().size() == 200; }, 10));
  CHECK(server.accepted_lines() == lines(0, 200));
  CHECK(agent.stats().retries == 2);

  server.set_max_lines(60);
  agent.send(sequence(200, 100));
  REQUIRE(eventually([&] { return server.accepted_lines().size() == 300; }, 10));
  CHECK(server.accepted_lines() == lines(0, 300));

  server.script(400, {}, "bad line");
  agent.send(sequence(300, 10));
  REQUIRE(eventually([&] { return agent.stats().metrics_rejected == 10; }, 10));
  agent.send(sequence(310, 10));
  REQUIRE(eventually([&] { return server.accepted_lines().size() == 310; }, 10));
  auto all = server.accepted_lines();
  CHECK(std::vector<std::string>(all.begin() + 300, all.end()) == lines(310, 10));
}

TEST_CASE("http: non_retryable_statuscodes drop the batch instead of retrying") {
  HttpTestServer server;
  server.script(409, {}, "conflict");
  server.script(409, {}, "conflict");
  Agent agent(http_output(server, ", non_retryable_statuscodes: [409]"));
  agent.send(sequence(0, 10));
  REQUIRE(eventually([&] { return agent.stats().metrics_rejected == 10; }));
  CHECK(agent.stats().retries == 0);

  SUBCASE("without the option, 409 is retried") {
    HttpTestServer other;
    other.script(409, {}, "conflict");
    Agent retrying(http_output(other));
    retrying.send(sequence(0, 10));
    REQUIRE(eventually([&] { return other.accepted().size() == 1; }, 10));
    CHECK(retrying.stats().retries == 1);
    CHECK(retrying.stats().metrics_rejected == 0);
  }
}

TEST_CASE("http: a server that appears late gets everything") {
  int port = sluice::testing::free_port();
  Agent agent("  - http: {url: \"http://127.0.0.1:" + std::to_string(port) +
              "/late\", retry_initial_backoff: 50ms, retry_max_backoff: 200ms}\n");
  agent.send(sequence(0, 100));
  REQUIRE(eventually([&] { return agent.stats().retries >= 2; }, 10));
  // httplib cannot be told a port before it exists, so the late server is a fresh one on the
  // port the agent was pointed at.
  httplib::Server late;
  late.set_keep_alive_max_count(1);  // closes after each answer, so stop() need not wait
  std::mutex mutex;
  std::vector<std::string> bodies;
  late.Post("/late", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    bodies.push_back(req.body);
    res.status = 204;
  });
  REQUIRE(late.bind_to_port("127.0.0.1", port));
  std::thread serving([&] { late.listen_after_bind(); });
  bool delivered = eventually(
      [&] {
        std::lock_guard lock(mutex);
        return bodies.size() == 1;
      },
      10);
  late.stop();
  serving.join();
  REQUIRE(delivered);
  std::vector<std::string> got;
  {
    std::string body = bodies[0];
    size_t start = 0;
    while (start < body.size()) {
      size_t end = body.find('\n', start);
      got.push_back(body.substr(start, end - start));
      start = end + 1;
    }
  }
  CHECK(got == lines(0, 100));
}
