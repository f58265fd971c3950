// A small HTTP client for outputs, on libcurl: one easy handle per client, reused from request
// to request so that the connection to the server is kept alive between writes.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http_gzip.hpp"
#include "sluice/options.hpp"

namespace sluice::core {

struct HttpClientOptions {
  // The whole request, connect to last byte; 0 means no limit.
  std::chrono::nanoseconds timeout{std::chrono::seconds(5)};
  std::string tls_ca;    // PEM file of the CAs to trust (empty: the system's)
  std::string tls_cert;  // client certificate (PEM)
  std::string tls_key;   // its private key (PEM)
  bool insecure_skip_verify = false;
  std::string proxy;       // empty: libcurl's own rules (the http_proxy variables)
  std::string user_agent;  // empty: "sluice/<version>"
  // Basic authentication when username is not empty.
  std::string username;
  std::string password;
  // Sent with every request, after the client's own (so they can override Content-Type).
  StringMap headers;
  // Compress request bodies with gzip and say so in Content-Encoding.
  bool gzip = false;
  // How much of an answer's body is kept (0: all of it). Answers to writes are short; inputs
  // that read what a server answers raise it.
  size_t max_response_body = 64 * 1024;
  // Offer gzip and deflate in Accept-Encoding and decode what comes back (inputs).
  bool accept_compressed = false;
};

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::string_view body;  // must stay valid during send()
  std::string content_type;
  StringMap headers;     // for this request only
  bool compress = true;  // with HttpClientOptions::gzip; queries opt out
};

struct HttpResponse {
  long status = 0;    // 0 when no answer came (see error)
  std::string error;  // why no answer came: connection refused, timeout, TLS failure...
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;             // the first HttpClientOptions::max_response_body bytes of it
  bool body_truncated = false;  // the answer had more than that
  // From Retry-After (delay-seconds or an HTTP-date), when the server sent one.
  std::optional<std::chrono::nanoseconds> retry_after;

  bool answered() const { return status != 0; }
  bool success() const { return status >= 200 && status < 300; }
  // The value of a header (name in any case), or nullptr.
  const std::string* header(std::string_view name) const;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and waits for the whole answer (at most the timeout). Never throws for
  // network trouble: that is reported in HttpResponse::error.
  HttpResponse send(const HttpRequest& request);

  const HttpClientOptions& options() const { return options_; }

 private:
  struct Curl;
  HttpClientOptions options_;
  std::unique_ptr<Curl> curl_;
  GzipEncoder gzip_;
  std::string compressed_;  // reused between requests
};

}  // namespace sluice::core
