// influxdb_listener, influxdb_v2_listener and http_listener_v2, driven with curl: writes with
// precision, tags from the request, gzip, partial writes answered as InfluxDB does, body limits,
// authentication, TLS, and bad bodies that leave the listener serving the next request.
#include <doctest/doctest.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/http_gzip.hpp"
#include "plugins/listener_test_support.hpp"
#include "support/net.hpp"
#include "support/process.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

struct CurlResult {
  int status = 0;
  std::string body;
  std::string headers;
};

// Runs curl with `args` (the URL among them); the body to send, if any, is written to a file.
class Curl {
 public:
  Curl() : dir_("http-listener-curl") {}
  CurlResult run(const std::string& args, const std::string& body = {}, bool gzip = false) {
    std::string data_arg;
    if (!body.empty() || gzip) {
      std::string payload = body;
      if (gzip) {
        core::GzipEncoder encoder;
        REQUIRE(encoder.compress(body, payload));
      }
      std::ofstream(dir_ / "body", std::ios::binary) << payload;
      data_arg = " --data-binary @" + (dir_ / "body");
      if (gzip) data_arg += " -H 'Content-Encoding: gzip'";
    }
    auto r = run_command("curl -s -S -o " + (dir_ / "out") + " -D " + (dir_ / "headers") +
                         " -w '%{http_code}' " + args + data_arg);
    CurlResult out;
    try {
      out.status = std::stoi(r.output.substr(r.output.size() >= 3 ? r.output.size() - 3 : 0));
    } catch (...) {
      MESSAGE("curl: " << r.output);
    }
    out.body = read_text(dir_ / "out");
    out.headers = read_text(dir_ / "headers");
    return out;
  }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
};

std::string url(int port, const std::string& path) {
  return "'http://127.0.0.1:" + std::to_string(port) + path + "'";
}

std::string address(int port) { return "127.0.0.1:" + std::to_string(port); }

}  // namespace

TEST_CASE("influxdb_listener: /write with db, rp and precision, tags from the request") {
  int port = free_port();
  auto input = make_listener("influxdb_listener", {{"service_address", address(port)},
                                                   {"database_tag", std::string("database")},
                                                   {"retention_policy_tag", std::string("rp")}});
  ListenerRecorder acc;
  input->start(acc);
  REQUIRE(wait_for_port(port));
  Curl curl;
  auto r = curl.run("-XPOST " + url(port, "/write?db=mydb&rp=week&precision=s"),
                    "cpu,host=a usage=0.5 1700000000\nmem free=1i 1700000001\n");
  CHECK(r.status == 204);
  CHECK(r.headers.find("X-Influxdb-Version: ") != std::string::npos);
  r = curl.run("-XPOST " + url(port, "/write?precision=m"), "disk used=3i 2\n");
  CHECK(r.status == 204);
  r = curl.run("-XPOST " + url(port, "/write?precision=h"), "up v=1i\n");  // no time: now
  CHECK(r.status == 204);
  r = curl.run("-XPOST " + url(port, "/write?precision=fortnight"), "x v=1i 1\n");
  CHECK(r.status == 400);
  REQUIRE(acc.wait_for(4));
  CHECK(acc.lines() ==
        "cpu,database=mydb,host=a,rp=week usage=0.5 1700000000000000000\n"
        "mem,database=mydb,rp=week free=1i 1700000001000000000\n"
        "disk used=3i 120000000000\n"
        "up v=1i " +
            std::to_string(kGatherTime) + "\n");
  input->stop();
}

TEST_CASE("influxdb_listener: gzip bodies, partial writes, bad bodies, and serving on after") {
  int port = free_port();
  auto input = make_listener("influxdb_listener", {{"service_address", address(port)}});
  ListenerRecorder acc;
  input->start(acc);
  REQUIRE(wait_for_port(port));
  Curl curl;
  auto r = curl.run("-XPOST " + url(port, "/write"), "gz v=1i 1\ngz v=2i 2\n", true);
  CHECK(r.status == 204);

  r = curl.run("-XPOST " + url(port, "/write"), "ok v=1i 10\nbad line here\nok v=2i 11\nx v=\n");
  CHECK(r.status == 400);
  auto body = nlohmann::json::parse(r.body);
  std::string error = body["error"];
  CHECK(error.rfind("partial write: unable to parse 'bad line here': ", 0) == 0);
  CHECK(error.find("\nunable to parse 'x v=': ") != std::string::npos);
  CHECK(error.find(" dropped=2") != std::string::npos);

  r = curl.run("-XPOST " + url(port, "/write"), "only garbage\n");
  CHECK(r.status == 400);
  CHECK(nlohmann::json::parse(r.body)["error"].get<std::string>().rfind(
            "unable to parse 'only garbage'", 0) == 0);

  r = curl.run("-XPOST " + url(port, "/write"), std::string("\x1f\x8b\x08\x00\xff\xfe\x00\x01", 8));
  CHECK(r.status == 400);  // binary, not line protocol
  // A body that says it is gzip and is not.
  std::ofstream(curl.dir() / "notgz", std::ios::binary) << "this is not gzip";
  r = curl.run("-XPOST -H 'Content-Encoding: gzip' --data-binary @" + (curl.dir() / "notgz") + " " +
               url(port, "/write"));
  CHECK(r.status == 400);

  r = curl.run("-XPOST " + url(port, "/write"), "after v=1i 12\n");
  CHECK(r.status == 204);
  REQUIRE(acc.wait_for(5));
  CHECK(acc.lines() == "gz v=1i 1\ngz v=2i 2\nok v=1i 10\nok v=2i 11\nafter v=1i 12\n");
  CHECK(acc.rejected_copy().size() >= 5);
  input->stop();
}

TEST_CASE("influxdb_listener: max_body_size answers 413, also for gzip that decodes too large") {
  int port = free_port();
  auto input = make_listener(
      "influxdb_listener", {{"service_address", address(port)}, {"max_body_size", uint64_t{1024}}});
  ListenerRecorder acc;
  input->start(acc);
  REQUIRE(wait_for_port(port));
  Curl curl;
  std::string big;
  for (int i = 0; i < 200; ++i) big += "big v=" + std::to_string(i) + "i\n";  // > 1 KiB
  auto r = curl.run("-XPOST " + url(port, "/write"), big);
  CHECK(r.status == 413);
  CHECK(nlohmann::json::parse(r.body)["error"] == "http: request body too large");
  r = curl.run("-XPOST " + url(port, "/write"), big, true);  // small on the wire
  CHECK(r.status == 413);
  r = curl.run("-XPOST " + url(port, "/write"), "small v=1i 1\n");
  CHECK(r.status == 204);
  REQUIRE(acc.wait_for(1));
  CHECK(acc.lines() == "small v=1i 1\n");
  input->stop();
}

TEST_CASE("influxdb_listener: basic authentication, /ping and /query") {
  int port = free_port();
  auto input = make_listener("influxdb_listener", {{"service_address", address(port)},
                                                   {"basic_username", std::string("writer")},
                                                   {"basic_password", std::string("s3cret")}});
  ListenerRecorder acc;
  input->start(acc);
  REQUIRE(wait_for_port(port));
  Curl curl;
  CHECK(curl.run("-XPOST " + url(port, "/write"), "a v=1i 1\n").status == 401);
  CHECK(curl.run("-u writer:wrong -XPOST " + url(port, "/write"), "a v=1i 1\n").status == 401);
  auto r = curl.run("-u writer:s3cret -XPOST " + url(port, "/write"), "a v=2i 2\n");
  CHECK(r.status == 204);
  CHECK(curl.run("-XPOST " + url(port, "/write?u=writer&p=s3cret"), "a v=3i 3\n").status == 204);

  r = curl.run(url(port, "/ping"));
  CHECK(r.status == 204);
  CHECK(r.headers.find("X-Influxdb-Version: 1.8") != std::string::npos);
  CHECK(curl.run("-I " + url(port, "/ping")).status == 204);

  r = curl.run("-u writer:s3cret -XPOST " + url(port, "/query") +
               " --data-urlencode 'q=CREATE DATABASE \"telegraf\"'");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"results":[{"statement_id":0}]})");
  CHECK(curl.run(url(port, "/query?q=SHOW%20DATABASES")).status == 401);
  REQUIRE(acc.wait_for(2));
  CHECK(acc.lines() == "a v=2i 2\na v=3i 3\n");
  CHECK(acc.errors_copy().size() == 3);  // each failed authentication is reported
  input->stop();
}

TEST_CASE("influxdb_listener: HTTPS with a certificate made by openssl") {
  TempDir dir("influxdb-listener-tls");
  auto made = run_command(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      (dir / "s.key") + " -out " + (dir / "s.pem"));
  REQUIRE(made.exit_code == 0);
  int port = free_port();
  auto input = make_listener("influxdb_listener", {{"service_address", address(port)},
                                                   {"tls_cert", dir / "s.pem"},
                                                   {"tls_key", dir / "s.key"}});
  ListenerRecorder acc;
  input->start(acc);
  REQUIRE(wait_for_port(port));
  Curl curl;
  auto r = curl.run("--cacert " + (dir / "s.pem") +
                        " -XPOST 'https://127.0.0.1:" + std::to_string(port) + "/write'",
                    "tls v=1i 1\n");
  CHECK(r.status == 204);
  REQUIRE(acc.wait_for(1));
  CHECK(acc.lines() == "tls v=1i 1\n");
  CHECK(curl.run("-XPOST " + url(port, "/write"), "plain v=1i 1\n").status != 204);
  input->stop();
}

TEST_CASE("influxdb_v2_listener: token, bucket_tag, precision, partial writes, health") {
  int port = free_port();
  auto input = make_listener("influxdb_v2_listener", {{"service_address", address(port)},
                                                      {"token", std::string("tok-123")},
                                                      {"bucket_tag", std::string("bucket")},
                                                      {"max_body_size", uint64_t{4096}}});
  ListenerRecorder acc;
  input->start(acc);
  REQUIRE(wait_for_port(port));
  Curl curl;
  std::string auth = "-H 'Authorization: Token tok-123' ";
  auto r = curl.run(auth + "-XPOST " + url(port, "/api/v2/write?org=o&bucket=b1&precision=ms"),
                    "cpu v=1i 1700000000000\n");
  CHECK(r.status == 204);
  r = curl.run("-XPOST " + url(port, "/api/v2/write?bucket=b1"), "cpu v=2i 2\n");
  CHECK(r.status == 401);
  CHECK(nlohmann::json::parse(r.body)["code"] == "unauthorized");
  CHECK(curl.run("-H 'Authorization: Token nope' -XPOST " + url(port, "/api/v2/write"),
                 "cpu v=2i 2\n")
            .status == 401);
  r = curl.run(auth + "-XPOST " + url(port, "/api/v2/write?bucket=b2"), "good v=1i 5\nbad\n", true);
  CHECK(r.status == 400);
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["code"] == "invalid");
  CHECK(body["message"].get<std::string>().rfind(
            "partial write: 1 of 2 lines dropped: unable to parse 'bad': ", 0) == 0);
  std::string big(5000, 'x');
  r = curl.run(auth + "-XPOST " + url(port, "/api/v2/write"), "m v=\"" + big + "\"\n");
  CHECK(r.status == 413);
  CHECK(nlohmann::json::parse(r.body)["code"] == "request too large");

  r = curl.run(url(port, "/health"));
  CHECK(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["status"] == "pass");
  r = curl.run(url(port, "/ready"));
  CHECK(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["status"] == "ready");
  REQUIRE(acc.wait_for(2));
  CHECK(acc.lines() == "cpu,bucket=b1 v=1i 1700000000000000000\ngood,bucket=b2 v=1i 5\n");
  input->stop();
}

TEST_CASE("http_listener_v2: paths, methods, header tags, path tag, auth, query source, 413") {
  int port = free_port();
  auto input =
      make_listener("http_listener_v2", {{"service_address", address(port)},
                                         {"paths", std::vector<std::string>{"/telegraf", "/other"}},
                                         {"path_tag", true},
                                         {"http_header_tags", StringMap{{"X-Source", "source"}}},
                                         {"basic_username", std::string("u")},
                                         {"basic_password", std::string("p")},
                                         {"max_body_size", uint64_t{2048}}});
  ListenerRecorder acc;
  input->start(acc);
  REQUIRE(wait_for_port(port));
  Curl curl;
  auto r =
      curl.run("-u u:p -H 'X-Source: edge-1' -XPOST " + url(port, "/telegraf"), "a v=1i 1\n", true);
  CHECK(r.status == 204);
  CHECK(curl.run("-u u:p -XPUT " + url(port, "/other"), "b v=2i 2\n").status == 204);
  CHECK(curl.run("-u u:p -XPOST " + url(port, "/nowhere"), "c v=3i 3\n").status == 404);
  CHECK(curl.run("-u u:p " + url(port, "/telegraf")).status == 405);  // GET is not in methods
  CHECK(curl.run("-XPOST " + url(port, "/telegraf"), "d v=4i 4\n").status == 401);
  r = curl.run("-u u:p -XPOST " + url(port, "/telegraf"), "e v=5i 5\nnope\n");
  CHECK(r.status == 400);
  CHECK(r.body.find("data_format influx, line 2") != std::string::npos);
  CHECK(curl.run("-u u:p -XPOST " + url(port, "/telegraf"), std::string(3000, 'z')).status == 413);
  REQUIRE(acc.wait_for(3));
  CHECK(acc.lines() ==
        "a,http_listener_v2_path=/telegraf,source=edge-1 v=1i 1\n"
        "b,http_listener_v2_path=/other v=2i 2\n"
        "e,http_listener_v2_path=/telegraf v=5i 5\n");
  input->stop();

  int qport = free_port();
  auto query = make_listener("http_listener_v2", {{"service_address", address(qport)},
                                                  {"methods", std::vector<std::string>{"GET"}},
                                                  {"data_source", std::string("query")}});
  ListenerRecorder qacc;
  query->start(qacc);
  REQUIRE(wait_for_port(qport));
  CHECK(curl.run(url(qport, "/telegraf?q%20v%3D7i%207")).status == 204);
  REQUIRE(qacc.wait_for(1));
  CHECK(qacc.lines() == "q v=7i 7\n");
  query->stop();
}

TEST_CASE(
    "http_listener_v2: mutual TLS takes a client with a certificate and refuses one without") {
  TempDir dir("http-listener-mtls");
  for (const char* who : {"server", "client"}) {
    auto made = run_command(std::string("openssl req -x509 -newkey rsa:2048 -nodes -days 1 ") +
                            "-subj /CN=" + (std::string(who) == "server" ? "127.0.0.1" : "cl") +
                            " -addext subjectAltName=IP:127.0.0.1 -keyout " +
                            (dir / (std::string(who) + ".key")) + " -out " +
                            (dir / (std::string(who) + ".pem")));
    REQUIRE(made.exit_code == 0);
  }
  int port = free_port();
  auto input = make_listener(
      "http_listener_v2", {{"service_address", address(port)},
                           {"tls_cert", dir / "server.pem"},
                           {"tls_key", dir / "server.key"},
                           {"tls_allowed_cacerts", std::vector<std::string>{dir / "client.pem"}}});
  ListenerRecorder acc;
  input->start(acc);
  REQUIRE(wait_for_port(port));
  Curl curl;
  std::string https = "'https://127.0.0.1:" + std::to_string(port) + "/telegraf'";
  auto with_cert = curl.run("--cacert " + (dir / "server.pem") + " --cert " + (dir / "client.pem") +
                                " --key " + (dir / "client.key") + " -XPOST " + https,
                            "mtls v=1i 1\n");
  CHECK(with_cert.status == 204);
  auto without = curl.run("--cacert " + (dir / "server.pem") + " -XPOST " + https, "no v=1i 1\n");
  CHECK(without.status != 204);
  REQUIRE(acc.wait_for(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(acc.lines() == "mtls v=1i 1\n");
  input->stop();
}

TEST_CASE("influxdb_listener: a write waits while the pipeline is full, then succeeds") {
  int port = free_port();
  auto input = make_listener("influxdb_listener", {{"service_address", address(port)}});
  ListenerRecorder acc;
  acc.hold(true);
  input->start(acc);
  REQUIRE(wait_for_port(port));
  std::atomic<int> status{-1};
  std::thread writer([&] {
    Curl curl;
    status = curl.run("-XPOST " + url(port, "/write"), "held v=1i 1\n").status;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(status == -1);  // no answer while the metrics cannot be handed over
  acc.hold(false);
  writer.join();
  CHECK(status == 204);
  CHECK(acc.lines() == "held v=1i 1\n");
  input->stop();
}
