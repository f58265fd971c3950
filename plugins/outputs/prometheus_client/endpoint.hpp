// The HTTP(S) server that Prometheus scrapes: binds an address, answers every request on its
// own threads through one handler, and stops on request. Keeps cpp-httplib and OpenSSL out of
// the rest of the plugin.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::outputs::prometheus_client {

struct ListenAddress {
  std::string host;  // "" for every IPv4 interface
  int port = 0;
  std::string text() const;  // as the user wrote it, for messages
};

// "host:port", ":port" (every interface) or "[v6]:port"; nullopt when it is none of these.
std::optional<ListenAddress> parse_listen(std::string_view text);

struct TlsFiles {
  std::string cert;                     // PEM chain; empty for plain HTTP
  std::string key;                      // PEM private key
  std::vector<std::string> client_cas;  // when set, clients must present a certificate
};

struct HttpRequest {
  std::string method;
  std::string path;
  std::string remote_addr;
  std::string authorization;  // the Authorization header, if any
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpEndpoint {
 public:
  HttpEndpoint();
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Binds and serves on a thread of its own. Returns "" or why it could not (the address
  // taken, a certificate that does not load, ...).
  std::string start(const ListenAddress& address, const TlsFiles& tls,
                    std::chrono::nanoseconds read_timeout, std::chrono::nanoseconds write_timeout,
                    HttpHandler handler);
  // Stops serving and waits for the thread; does nothing when not started.
  void stop();
  bool running() const;
  int port() const;  // the bound port (useful with port 0)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::outputs::prometheus_client
