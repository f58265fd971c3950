// The shared HTTP client over TLS: trusting a CA file, skipping verification, and presenting a
// client certificate, against cpp-httplib's TLS server with certificates made by openssl.
#include <doctest/doctest.h>
#include <httplib.h>

#include <thread>

#include "core/http_client.hpp"
#include "support/net.hpp"
#include "support/process.hpp"

using sluice::core::HttpClient;
using sluice::core::HttpClientOptions;
using sluice::core::HttpRequest;
using sluice::testing::run_command;
using sluice::testing::TempDir;

namespace {

// A self-signed certificate for `name` (its own CA) at dir/<file>.pem, dir/<file>.key.
bool make_certificate(const TempDir& dir, const std::string& file, const std::string& name) {
  auto r = run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + name +
                       " -addext subjectAltName=IP:127.0.0.1 -keyout " + (dir / (file + ".key")) +
                       " -out " + (dir / (file + ".pem")));
  if (r.exit_code != 0) MESSAGE(r.output);
  return r.exit_code == 0;
}

// Serves 204 on every POST over TLS until destroyed.
class TlsServer {
 public:
  TlsServer(const TempDir& dir, bool require_client_cert)
      : server_((dir / "server.pem").c_str(), (dir / "server.key").c_str(),
                require_client_cert ? (dir / "client.pem").c_str() : nullptr) {
    server_.Post(".*", [](const httplib::Request&, httplib::Response& res) { res.status = 204; });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~TlsServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_) + "/write"; }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
};

long post(const HttpClientOptions& options, const std::string& url, std::string* error = nullptr) {
  HttpClient client(options);
  HttpRequest request;
  request.url = url;
  request.body = "m v=1";
  auto response = client.send(request);
  if (error != nullptr) *error = response.error;
  return response.status;
}

}  // namespace

TEST_CASE("TLS: the server is verified against tls_ca or not at all with insecure_skip_verify") {
  TempDir dir("http-tls");
  REQUIRE(make_certificate(dir, "server", "127.0.0.1"));
  TlsServer server(dir, false);

  HttpClientOptions trusting;
  trusting.tls_ca = dir / "server.pem";
  CHECK(post(trusting, server.url()) == 204);

  std::string error;
  CHECK(post({}, server.url(), &error) == 0);  // the system's CAs do not know it
  CHECK(error.find("certificate") != std::string::npos);

  HttpClientOptions insecure;
  insecure.insecure_skip_verify = true;
  CHECK(post(insecure, server.url()) == 204);
}

TEST_CASE("TLS: a client certificate for servers that ask for one") {
  TempDir dir("http-mtls");
  REQUIRE(make_certificate(dir, "server", "127.0.0.1"));
  REQUIRE(make_certificate(dir, "client", "sluice"));
  TlsServer server(dir, true);

  HttpClientOptions with_cert;
  with_cert.tls_ca = dir / "server.pem";
  with_cert.tls_cert = dir / "client.pem";
  with_cert.tls_key = dir / "client.key";
  CHECK(post(with_cert, server.url()) == 204);

  HttpClientOptions without_cert;
  without_cert.tls_ca = dir / "server.pem";
  std::string error;
  CHECK(post(without_cert, server.url(), &error) == 0);  // the handshake fails
  CHECK_FALSE(error.empty());
}
