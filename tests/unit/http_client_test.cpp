// The shared HTTP client against a local test server: headers, authentication, gzip bodies,
// kept-alive connections, Retry-After, timeouts and refused connections; and its helpers.
#include "core/http_client.hpp"

#include <doctest/doctest.h>

#include "core/http_gzip.hpp"
#include "core/http_line_routing.hpp"
#include "core/http_options.hpp"
#include "core/http_url.hpp"
#include "outputs/influxdb/database.hpp"
#include "support/http_test_server.hpp"
#include "support/net.hpp"

using namespace std::chrono_literals;
using sluice::core::HttpClient;
using sluice::core::HttpClientOptions;
using sluice::core::HttpRequest;
using sluice::testing::HttpTestServer;

namespace {

HttpRequest post(const std::string& url, std::string_view body) {
  HttpRequest r;
  r.url = url;
  r.body = body;
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

}  // namespace

TEST_CASE("the client sends its headers and basic authentication and the body") {
  HttpTestServer server;
  HttpClientOptions options;
  options.username = "writer";
  options.password = "s3cret";
  options.user_agent = "sluice-test/1";
  options.headers = {{"X-Special", "yes"}};
  HttpClient client(options);
  auto response = client.send(post(server.url("/write?db=x"), "m v=1i 1\n"));
  REQUIRE(response.status == 204);
  auto requests = server.requests();
  REQUIRE(requests.size() == 1);
  const auto& r = requests[0];
  CHECK(r.method == "POST");
  CHECK(r.path == "/write");
  CHECK(r.param("db") == "x");
  CHECK(r.body == "m v=1i 1\n");
  CHECK(r.header("content-type") == "text/plain; charset=utf-8");
  CHECK(r.header("user-agent") == "sluice-test/1");
  CHECK(r.header("x-special") == "yes");
  CHECK(r.header("authorization") == "Basic d3JpdGVyOnMzY3JldA==");  // writer:s3cret
  CHECK(r.header("content-encoding").empty());
  CHECK(r.header("expect").empty());  // no 100-continue round trip
}

TEST_CASE("the default user agent names sluice and its version") {
  HttpTestServer server;
  HttpClient client({});
  client.send(post(server.url("/"), "x"));
  CHECK(server.requests().at(0).header("user-agent") == std::string("sluice/") + SLUICE_VERSION);
}

TEST_CASE("gzip bodies are compressed on the wire and decode to the original") {
  HttpTestServer server;
  HttpClientOptions options;
  options.gzip = true;
  HttpClient client(options);
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "cpu,host=a usage_idle=99." + std::to_string(i) + "\n";
  auto response = client.send(post(server.url("/write"), body));
  REQUIRE(response.status == 204);
  auto r = server.requests().at(0);
  CHECK(r.header("content-encoding") == "gzip");
  CHECK(r.body == body);
  CHECK(r.wire_bytes > 0);
  CHECK(r.wire_bytes * 5 < body.size());  // repetitive text shrinks a lot

  SUBCASE("a request may opt out (InfluxQL queries)") {
    HttpRequest plain = post(server.url("/query"), "q=SHOW DATABASES");
    plain.compress = false;
    client.send(plain);
    auto second = server.requests().at(1);
    CHECK(second.header("content-encoding").empty());
    CHECK(second.body == "q=SHOW DATABASES");
  }
}

TEST_CASE("requests reuse one kept-alive connection") {
  HttpTestServer server;
  HttpClient client({});
  for (int i = 0; i < 20; ++i) REQUIRE(client.send(post(server.url("/w"), "m v=1")).status == 204);
  auto requests = server.requests();
  REQUIRE(requests.size() == 20);
  for (const auto& r : requests) CHECK(r.remote_port == requests[0].remote_port);
}

TEST_CASE("PUT and PATCH carry the body and the answer's headers and body are returned") {
  HttpTestServer server;
  server.script(429, {{"Retry-After", "7"}}, "{\"message\":\"busy\"}");
  server.script(200, {}, "done");
  HttpClient client({});
  HttpRequest put = post(server.url("/p"), "one");
  put.method = "PUT";
  auto first = client.send(put);
  CHECK(first.status == 429);
  CHECK(first.retry_after == 7s);
  CHECK(first.body == "{\"message\":\"busy\"}");
  REQUIRE(first.header("Retry-After") != nullptr);
  CHECK(*first.header("retry-after") == "7");
  HttpRequest patch = post(server.url("/p"), "two");
  patch.method = "PATCH";
  auto second = client.send(patch);
  CHECK(second.status == 200);
  CHECK_FALSE(second.retry_after);
  CHECK(second.body == "done");
  auto requests = server.requests();
  CHECK(requests.at(0).method == "PUT");
  CHECK(requests.at(0).body == "one");
  CHECK(requests.at(1).method == "PATCH");
  CHECK(requests.at(1).body == "two");
}

TEST_CASE("an empty body is sent as an empty body") {
  HttpTestServer server;
  HttpClient client({});
  CHECK(client.send(post(server.url("/w"), "")).status == 204);
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].body.empty());
  CHECK(server.requests()[0].wire_bytes == 0);
}

TEST_CASE("a refused connection and a timeout are errors without an answer") {
  int port = sluice::testing::free_port();  // nothing listens there
  HttpClient client({});
  auto refused = client.send(post("http://127.0.0.1:" + std::to_string(port) + "/w", "x"));
  CHECK_FALSE(refused.answered());
  CHECK(refused.error.find("127.0.0.1") != std::string::npos);

  HttpTestServer server;
  sluice::testing::ScriptedAnswer slow;
  slow.delay = 1500ms;
  server.script(slow);
  HttpClientOptions options;
  options.timeout = 300ms;
  HttpClient impatient(options);
  auto started = std::chrono::steady_clock::now();
  auto timed_out = impatient.send(post(server.url("/w"), "x"));
  CHECK_FALSE(timed_out.answered());
  INFO(timed_out.error);
  CHECK(timed_out.error.find("timed out") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - started < 1400ms);
}

TEST_CASE("gzip round trip also of several members and of empty input") {
  sluice::core::GzipEncoder encoder;
  std::string packed;
  REQUIRE(encoder.compress("hello, hello, hello", packed));
  CHECK(sluice::core::gzip_decompress(packed) == "hello, hello, hello");
  std::string second;
  REQUIRE(encoder.compress("", second));  // the encoder is reused
  CHECK(sluice::core::gzip_decompress(second) == "");
  CHECK(sluice::core::gzip_decompress(packed + packed) == "hello, hello, hellohello, hello, hello");
  CHECK_FALSE(sluice::core::gzip_decompress("not gzip"));
  CHECK_FALSE(sluice::core::gzip_decompress(packed.substr(0, packed.size() - 3)));
}

TEST_CASE("URLs: encoding and joining and query parameters") {
  using namespace sluice::core;
  CHECK(url_encode("my db/ä&x=1") == "my%20db%2F%C3%A4%26x%3D1");
  CHECK(join_url("http://h:8086", "/write") == "http://h:8086/write");
  CHECK(join_url("http://h:8086/", "write") == "http://h:8086/write");
  CHECK(join_url("https://h/influx/", "/api/v2/write") == "https://h/influx/api/v2/write");
  CHECK(with_query("http://h/write", {{"db", "a b"}, {"rp", ""}, {"precision", "ns"}}) ==
        "http://h/write?db=a%20b&precision=ns");
  CHECK(is_http_url("http://127.0.0.1:8086"));
  CHECK(is_http_url("HTTPS://example.invalid"));
  CHECK_FALSE(is_http_url("udp://127.0.0.1:8089"));
  CHECK_FALSE(is_http_url("http://"));
  CHECK_FALSE(is_http_url("127.0.0.1:8086"));
}

TEST_CASE("CREATE DATABASE quotes the name") {
  using sluice::outputs::influxdb::create_database_statement;
  CHECK(create_database_statement("telegraf") == "CREATE DATABASE \"telegraf\"");
  CHECK(create_database_statement("a \"b\" \\c") == "CREATE DATABASE \"a \\\"b\\\" \\\\c\"");
}

TEST_CASE("batches are routed to destinations by tag with the tag left out on request") {
  using sluice::Metric;
  std::vector<Metric> batch;
  for (int i = 0; i < 4; ++i) {
    Metric m("m", 10 + i);
    if (i % 2 == 1) m.set_tag("db", "odd");
    m.set_tag("k", "v");
    m.set_field("v", int64_t{i});
    batch.push_back(std::move(m));
  }
  std::vector<sluice::core::RoutedBody> bodies;
  std::vector<sluice::core::RouteTag> routes = {{"db", "main", true}, {"", "autogen", false}};
  sluice::core::serialize_routed(batch, routes, {}, bodies);
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0].destination == std::vector<std::string>{"main", "autogen"});
  CHECK(bodies[0].text == "m,k=v v=0i 10\nm,k=v v=2i 12\n");
  CHECK(bodies[0].metrics == 2);
  CHECK(bodies[1].destination == std::vector<std::string>{"odd", "autogen"});
  CHECK(bodies[1].text == "m,k=v v=1i 11\nm,k=v v=3i 13\n");

  SUBCASE("kept when not excluded") {
    routes[0].exclude = false;
    sluice::core::serialize_routed(batch, routes, {}, bodies);
    REQUIRE(bodies.size() == 2);
    CHECK(bodies[1].text == "m,db=odd,k=v v=1i 11\nm,db=odd,k=v v=3i 13\n");
  }
  SUBCASE("no tag routing: one body, reused") {
    routes[0].tag.clear();
    sluice::core::serialize_routed(batch, routes, {}, bodies);
    REQUIRE(bodies.size() == 1);
    CHECK(bodies[0].destination == std::vector<std::string>{"main", "autogen"});
    CHECK(bodies[0].metrics == 4);
    CHECK(bodies[0].text.starts_with("m,k=v v=0i 10\nm,db=odd,k=v v=1i 11\n"));
  }
}

TEST_CASE("client options from plugin options: content_encoding and TLS files are checked") {
  sluice::Options o;
  o.set("timeout", std::chrono::nanoseconds(2s), true);
  o.set("content_encoding", std::string("gzip"), true);
  o.set("http_headers", sluice::StringMap{{"X-A", "1"}}, true);
  o.set("tls_ca", std::string(), false);
  auto options = sluice::core::http_client_options(o, "http_headers");
  CHECK(options.gzip);
  CHECK(options.timeout == 2s);
  CHECK(options.headers == sluice::StringMap{{"X-A", "1"}});

  o.set("content_encoding", std::string("br"), true);
  CHECK_THROWS_WITH_AS(sluice::core::http_client_options(o, "http_headers"),
                       "expected identity or gzip, got \"br\"", sluice::OptionError);
  o.set("content_encoding", std::string("identity"), true);
  o.set("tls_ca", std::string("/nonexistent/ca.pem"), true);
  CHECK_THROWS_WITH_AS(sluice::core::http_client_options(o, "http_headers"),
                       "file \"/nonexistent/ca.pem\" does not exist", sluice::OptionError);
}
