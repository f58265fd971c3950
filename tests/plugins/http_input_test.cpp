// The http input against a cpp-httplib server: method, body, headers, authentication, status
// codes, the url tag, and answers it cannot use.
#include <doctest/doctest.h>

#include <fstream>

#include "input_test_support.hpp"
#include "plugin_test_support.hpp"
#include "support/http_test_server.hpp"
#include "support/net.hpp"

using namespace sluice;
using sluice::testing::HttpTestServer;
using sluice::testing::input_from_yaml;
using sluice::testing::LockedAccumulator;
using sluice::testing::NullLogger;
using sluice::testing::ScriptedAnswer;
using sluice::testing::TempDir;

TEST_CASE("http input: GET each interval, parsed and tagged with the url") {
  HttpTestServer server;
  server.script(200, {}, "cpu,host=a usage=1.5 10\ncpu,host=b,url=mine usage=2 20\n");
  NullLogger log;
  auto input = input_from_yaml("http",
                               "urls: ['" + server.url("/metrics") +
                                   "'], headers: {X-Scope: team1}, username: u, password: p",
                               log);
  LockedAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors().empty());
  const std::string url = server.url("/metrics");
  // A metric with its own url tag keeps it.
  CHECK(acc.sorted_lines() == std::vector<std::string>{
                                  "cpu,host=a,url=" + url + " usage=1.5 10",
                                  "cpu,host=b,url=mine usage=2 20",
                              });
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].path == "/metrics");
  CHECK(requests[0].header("x-scope") == "team1");
  CHECK(requests[0].header("authorization") == "Basic dTpw");  // u:p
  // Compressed answers are asked for (cpp-httplib then gzips its text answers, and the body
  // above was read through libcurl's decoding).
  CHECK(requests[0].header("accept-encoding").find("gzip") != std::string::npos);
}

TEST_CASE("http input: POST with a body, a bearer token from a file, another data format") {
  HttpTestServer server;
  TempDir dir("http-input");
  std::ofstream(dir / "token") << "  s3cret\n";
  server.script(200, {}, "# TYPE queue_depth gauge\nqueue_depth{queue=\"mail\"} 12\n");
  NullLogger log;
  auto input = input_from_yaml("http",
                               "urls: ['" + server.url("/q") +
                                   "'], method: post, body: '{\"all\": true}', bearer_token: '" +
                                   (dir / "token") + "', data_format: prometheus, url_tag: source",
                               log);
  LockedAccumulator acc(7);
  input->gather(acc);
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() == std::vector<std::string>{"prometheus,queue=mail,source=" +
                                                       server.url("/q") + " queue_depth=12 7"});
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].body == "{\"all\": true}");
  CHECK(requests[0].header("authorization") == "Bearer s3cret");
}

TEST_CASE("http input: 500, garbage and a dead server are errors, the next interval works") {
  HttpTestServer server;
  NullLogger log;
  const std::string url = server.url("/m");
  auto input = input_from_yaml("http", "urls: ['" + url + "'], url_tag: ''", log);
  LockedAccumulator acc;

  server.script(500, {}, "{\"error\":\"database down\"}");
  input->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0] == "GET " + url + ": HTTP 500: {\"error\":\"database down\"}");
  CHECK(acc.metrics().empty());

  acc.clear();
  server.script(200, {}, "<html>not metrics</html>\nm v=1 1\n");
  input->gather(acc);
  CHECK(acc.errors().empty());
  REQUIRE(acc.rejected().size() == 1);
  CHECK(acc.rejected()[0].starts_with(url + ": data_format influx, line 1"));
  CHECK(acc.sorted_lines() == std::vector<std::string>{"m v=1 1"});

  acc.clear();
  server.script(200, {}, "m v=2 2\n");
  input->gather(acc);
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() == std::vector<std::string>{"m v=2 2"});

  // Nobody listens on this port.
  const std::string dead = "http://127.0.0.1:" + std::to_string(testing::free_port()) + "/m";
  auto gone = input_from_yaml("http", "urls: ['" + dead + "'], timeout: 2s", log);
  acc.clear();
  gone->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0].starts_with("GET " + dead + ": "));
}

TEST_CASE("http input: success_status_codes and content_length_limit") {
  HttpTestServer server;
  NullLogger log;
  const std::string url = server.url("/m");
  auto input = input_from_yaml(
      "http", "urls: ['" + url + "'], success_status_codes: [200, 202], content_length_limit: 20",
      log);
  LockedAccumulator acc(3);
  server.script(202, {}, "m v=1\n");
  input->gather(acc);
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() == std::vector<std::string>{"m,url=" + url + " v=1 3"});

  acc.clear();
  server.script(200, {}, "m v=1\nm v=2\nm v=3\nm v=4\n");
  input->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0] ==
        "GET " + url + ": the answer is longer than content_length_limit (20 bytes)");
  CHECK(acc.metrics().empty());
}

TEST_CASE("http input: several URLs are polled at once, each with its own parser") {
  HttpTestServer a;
  HttpTestServer b;
  a.script(ScriptedAnswer{200, "# TYPE x gauge\nx 1\n", {}, std::chrono::milliseconds(800)});
  b.script(ScriptedAnswer{200, "# TYPE y gauge\ny 2\n", {}, std::chrono::milliseconds(800)});
  NullLogger log;
  auto input = input_from_yaml(
      "http",
      "urls: ['" + a.url("/") + "', '" + b.url("/") + "'], data_format: prometheus, url_tag: ''",
      log);
  LockedAccumulator acc(1);
  auto start = std::chrono::steady_clock::now();
  input->gather(acc);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() == std::vector<std::string>{"prometheus x=1 1", "prometheus y=2 1"});
}

TEST_CASE("http input: options are checked when it is created") {
  NullLogger log;
  CHECK_THROWS_WITH_AS(input_from_yaml("http", "urls: ['ftp://x/']", log),
                       doctest::Contains("is not an http:// or https:// URL"), std::exception);
  CHECK_THROWS_WITH_AS(input_from_yaml("http", "urls: ['http://127.0.0.1/'], method: FETCH", log),
                       doctest::Contains("expected GET, POST"), std::exception);
  CHECK_THROWS_WITH_AS(
      input_from_yaml("http", "urls: ['http://127.0.0.1/'], success_status_codes: [abc]", log),
      doctest::Contains("is not an HTTP status code"), std::exception);
  CHECK_THROWS_WITH_AS(input_from_yaml("http", "urls: ['http://127.0.0.1/'], body: x", log),
                       doctest::Contains("a GET request has no body"), std::exception);
}
