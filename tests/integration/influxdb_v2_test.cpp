// The influxdb_v2 output through sluice's pipeline against a local HTTP server that checks what
// InfluxDB 2.x would (path, org, bucket, token, gzip) and answers as scripted: 503, 429 with
// Retry-After, 413 and 400, to prove what the agent does with each.
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "support/output_pipeline.hpp"
#include "support/http_test_server.hpp"
#include "support/net.hpp"
#include "support/test_plugins.hpp"

using namespace std::chrono_literals;
using sluice::Batch;
using sluice::Metric;
using sluice::pipeline::Clock;
using sluice::pipeline::ManualClock;
using sluice::pipeline::Pipeline;
using sluice::pipeline::SystemClock;
using sluice::testing::eventually;
using sluice::testing::HttpTestServer;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

// Batches of 100 on the given clock, and a 1 s last flush at the end.
struct Agent : sluice::testing::OutputPipeline {
  explicit Agent(const std::string& outputs_yaml, const Clock& clock = SystemClock::instance())
      : OutputPipeline(outputs_yaml,
                       {.agent = "flush_interval: 100ms, metric_batch_size: 100,"
                                 " metric_buffer_limit: 100000",
                        .clock = &clock,
                        .stop_grace_ns = kSecond}) {}
};

std::string v2_output(const HttpTestServer& server, const std::string& extra = "") {
  return "  - influxdb_v2: {urls: [\"" + server.url() +
         "\"], token: s3cr3t-t0ken, organization: my org, bucket: metrics, "
         "retry_initial_backoff: 50ms, retry_max_backoff: 200ms" +
         extra + "}\n";
}

Batch sequence(int64_t first, int64_t count) {
  Batch batch;
  for (int64_t i = first; i < first + count; ++i) {
    Metric m("seq", 1'700'000'000'000'000'000 + i);
    m.set_field("n", i);
    batch.push_back(std::move(m));
  }
  return batch;
}

// The expected line of sequence metric i.
std::string line(int64_t i) {
  return "seq n=" + std::to_string(i) + "i " + std::to_string(1'700'000'000'000'000'000 + i);
}

std::vector<std::string> lines(int64_t first, int64_t count) {
  std::vector<std::string> out;
  for (int64_t i = first; i < first + count; ++i) out.push_back(line(i));
  return out;
}

}  // namespace

TEST_CASE("influxdb_v2: path and organization and bucket and token and gzip body") {
  HttpTestServer server;
  {
    Agent agent(v2_output(server, ", http_headers: {X-Tenant: blue}"));
    Batch batch;
    Metric m("cpu", 1'700'000'000'000'000'001);
    m.set_tag("host", "a b");
    m.set_field("usage", 12.5);
    m.set_field("count", uint64_t{3});  // no uint support by default: written as an integer
    m.set_field("ok", true);
    m.set_field("note", std::string("hi \"there\""));
    batch.push_back(m);
    agent.send(batch);
    REQUIRE(eventually([&] { return server.accepted().size() == 1; }));
  }
  auto r = server.accepted().at(0);
  CHECK(r.method == "POST");
  CHECK(r.path == "/api/v2/write");
  CHECK(r.param("org") == "my org");
  CHECK(r.param("bucket") == "metrics");
  CHECK(r.param("precision") == "ns");
  CHECK(r.header("authorization") == "Token s3cr3t-t0ken");
  CHECK(r.header("content-encoding") == "gzip");
  CHECK(r.header("content-type") == "text/plain; charset=utf-8");
  CHECK(r.header("x-tenant") == "blue");
  CHECK(r.body ==
        "cpu,host=a\\ b usage=12.5,count=3i,ok=true,note=\"hi \\\"there\\\"\" "
        "1700000000000000001\n");
  CHECK(r.wire_bytes != r.body.size());  // it really was compressed
}

TEST_CASE("influxdb_v2: bucket_tag routes metrics to buckets and is left out of the lines") {
  HttpTestServer server;
  Agent agent(v2_output(server,
                        ", bucket_tag: bucket, exclude_bucket_tag: true, "
                        "content_encoding: identity, influx_uint_support: true"));
  Batch batch;
  for (int i = 0; i < 4; ++i) {
    Metric m("m", 100 + i);
    if (i % 2 == 1) m.set_tag("bucket", "odd");
    m.set_field("u", uint64_t(i));
    batch.push_back(m);
  }
  agent.send(batch);
  REQUIRE(eventually([&] { return server.accepted().size() == 2; }));
  auto accepted = server.accepted();
  CHECK(accepted[0].param("bucket") == "metrics");
  CHECK(accepted[0].body == "m u=0u 100\nm u=2u 102\n");
  CHECK(accepted[0].header("content-encoding").empty());
  CHECK(accepted[1].param("bucket") == "odd");
  CHECK(accepted[1].body == "m u=1u 101\nm u=3u 103\n");
}

TEST_CASE("influxdb_v2: 503 and 500 are retried with nothing lost and the order kept") {
  HttpTestServer server;
  server.script(503, {}, "{\"message\":\"unavailable\"}");
  server.script(503);
  server.script(500);
  Agent agent(v2_output(server));
  for (int i = 0; i < 5; ++i) agent.send(sequence(i * 100, 100));
  REQUIRE(eventually([&] { return server.accepted_lines().size() == 500; }, 10));
  CHECK(server.accepted_lines() == lines(0, 500));
  CHECK(server.requests().size() == 5 + 3);
  CHECK(agent.stats().retries == 3);
  CHECK(eventually(
      [&] { return agent.stats().metrics_written == 500; }));  // counted after the answer
  CHECK(agent.stats().metrics_rejected == 0);
}

TEST_CASE("influxdb_v2: Retry-After of a 429 is honoured (manual clock)") {
  HttpTestServer server;
  server.script(429, {{"Retry-After", "30"}}, "{\"message\":\"too many requests\"}");
  ManualClock clock(1'000 * kSecond);
  Agent agent(v2_output(server), clock);
  agent.send(sequence(0, 100));  // a full batch: written at once
  // The retry is counted once its time is set: only then may the clock move, or the time would
  // be counted from the moved clock.
  REQUIRE(eventually([&] { return server.request_count() == 1 && agent.stats().retries == 1; }));
  // The back-off of the host alone would be 50 ms to 200 ms; the server asked for 30 s.
  clock.advance(29 * kSecond);
  std::this_thread::sleep_for(200ms);
  CHECK(server.request_count() == 1);
  clock.advance(kSecond + kSecond / 10);
  REQUIRE(eventually([&] { return server.accepted().size() == 1; }));
  CHECK(server.accepted_lines() == lines(0, 100));
  CHECK(agent.stats().retries == 1);
}

TEST_CASE("influxdb_v2: Retry-After as an HTTP-date is honoured (real time)") {
  HttpTestServer server;
  // A date two to three seconds ahead (HTTP-dates have whole seconds).
  std::time_t when = std::time(nullptr) + 3;
  char date[64];
  std::tm parts{};
  gmtime_r(&when, &parts);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &parts);
  server.script(503, {{"Retry-After", date}});
  Agent agent(v2_output(server));
  agent.send(sequence(0, 100));
  REQUIRE(eventually([&] { return server.accepted().size() == 1; }, 10));
  auto requests = server.requests();
  REQUIRE(requests.size() == 2);
  auto waited = requests[1].at - requests[0].at;
  CHECK(waited >= 1900ms);
  CHECK(waited < 4000ms);
}

TEST_CASE("influxdb_v2: 413 splits the batch in halves until it fits") {
  HttpTestServer server;
  server.set_max_lines(30);
  Agent agent(v2_output(server));
  agent.send(sequence(0, 100));  // 100 -> 50 -> 25 fits
  REQUIRE(eventually([&] { return server.accepted_lines().size() == 100; }, 10));
  CHECK(server.accepted_lines() == lines(0, 100));
  auto accepted = server.accepted();
  REQUIRE(accepted.size() == 4);
  for (const auto& r : accepted) CHECK(r.lines().size() == 25);
  size_t too_large = 0;
  for (const auto& r : server.requests()) too_large += r.answered == 413 ? 1 : 0;
  CHECK(too_large == 3);  // the 100 and both 50s
  CHECK(agent.stats().metrics_rejected == 0);
  CHECK(eventually(
      [&] { return agent.stats().metrics_written == 100; }));  // counted after the answer
}

TEST_CASE("influxdb_v2: 400 drops the batch and counts it and the next batch goes on") {
  HttpTestServer server;
  server.script(400, {}, "{\"code\":\"invalid\",\"message\":\"unable to parse\"}");
  Agent agent(v2_output(server));
  agent.send(sequence(0, 100));
  REQUIRE(eventually([&] { return agent.stats().metrics_rejected == 100; }));
  agent.send(sequence(100, 100));
  REQUIRE(eventually([&] { return server.accepted().size() == 1; }));
  CHECK(server.accepted_lines() == lines(100, 100));
  CHECK(agent.stats().retries == 0);
  CHECK(eventually(
      [&] { return agent.stats().metrics_written == 100; }));  // counted after the answer
}

TEST_CASE("influxdb_v2: 401 is retried until the server takes the token") {
  HttpTestServer server;
  server.script(401, {}, "{\"code\":\"unauthorized\",\"message\":\"unauthorized access\"}");
  server.script(404, {},
                "{\"code\":\"not found\",\"message\":\"bucket \\\"metrics\\\" not found\"}");
  Agent agent(v2_output(server));
  agent.send(sequence(0, 100));
  REQUIRE(eventually([&] { return server.accepted().size() == 1; }, 10));
  CHECK(server.accepted_lines() == lines(0, 100));
  CHECK(agent.stats().retries == 2);
  CHECK(agent.stats().metrics_rejected == 0);
}

TEST_CASE("influxdb_v2: fail-over to the second URL when the first refuses connections") {
  HttpTestServer server;
  int dead = sluice::testing::free_port();
  Agent agent("  - influxdb_v2: {urls: [\"http://127.0.0.1:" + std::to_string(dead) + "\", \"" +
              server.url() + "\"], bucket: b, retry_initial_backoff: 1h}\n");
  agent.send(sequence(0, 100));
  // With a back-off of an hour, only the fail-over within the same write can deliver.
  REQUIRE(eventually([&] { return server.accepted().size() == 1; }, 10));
  CHECK(agent.stats().retries == 0);
}
