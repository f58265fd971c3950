// The HTTP(S) server of the listener inputs (influxdb_listener, influxdb_v2_listener,
// http_listener_v2): binds "host:port", reads each request body whole (gzip undone, bounded by
// max_body_size after decoding), and hands method, path, query, headers and body to one handler
// on the server's worker threads. Keeps cpp-httplib and OpenSSL out of the plugins.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bind_retry.hpp"
#include "core/tls_server.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

struct HttpListenerOptions {
  std::string address;  // "host:port", ":port" (every interface) or "[v6]:port"
  TlsServerFiles tls;
  std::chrono::nanoseconds read_timeout{std::chrono::seconds(10)};
  std::chrono::nanoseconds write_timeout{std::chrono::seconds(10)};
  uint64_t max_body_size = 32 << 20;  // bytes of the decoded body
  size_t threads = 0;                 // 0: the library's default
};

struct HttpListenerRequest {
  enum class Body {
    kRead,        // `body` holds the whole decoded body
    kTooLarge,    // over max_body_size: answer 413
    kUnreadable,  // truncated, or a Content-Encoding that cannot be decoded
  };
  std::string method;
  std::string path;
  std::string raw_query;  // after '?', still percent-encoded
  std::multimap<std::string, std::string> query;
  std::vector<std::pair<std::string, std::string>> headers;  // as sent
  std::string remote;                                        // "addr:port"
  std::string body;
  Body body_state = Body::kRead;
  std::string body_error;  // why the body is unreadable

  // The first value of a header, compared without case; "" when absent.
  std::string header(std::string_view name) const;
  // The first value of a query parameter; "" when absent.
  std::string param(const std::string& name) const;
};

struct HttpListenerResponse {
  int status = 204;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpListener {
 public:
  // Decides on a request from its headers alone, before the body is read: an answer refuses
  // it (a failed authentication), nullopt lets it through to the handler.
  using Gate = std::function<std::optional<HttpListenerResponse>(const HttpListenerRequest&)>;
  using Handler = std::function<HttpListenerResponse(HttpListenerRequest&)>;

  HttpListener();
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds and serves on threads of its own. Returns "" or why it could not (a bad address, the
  // port taken, a certificate that does not load).
  std::string start(const HttpListenerOptions& options, Gate gate, Handler handler);
  // As start(), for a service input (`options` must outlive the listener): once listening it
  // says where in `log`; a failure goes to
  // `report` and is retried in the background (a reload may still hold the port) until it
  // binds or stop() is called.
  void serve(const HttpListenerOptions& options, Gate gate, Handler handler, Logger& log,
             BindRetry::Report report);
  // Stops serving (and retrying) and waits for the threads; does nothing when not started.
  void stop();
  int port() const;  // the bound port

 private:
  void stop_server();

  struct Impl;
  std::unique_ptr<Impl> impl_;
  BindRetry binder_;
};

// Splits "host:port", ":port" or "[v6]:port"; false when it is none of these.
bool split_host_port(std::string_view text, std::string& host, int& port);

}  // namespace sluice::core
