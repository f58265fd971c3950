#include "core/http_listener.hpp"

#include "core/http_server_thread.hpp"

#include <httplib.h>
#include <strings.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace sluice::core {
namespace {

std::pair<time_t, time_t> seconds_and_micros(std::chrono::nanoseconds d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  if (us <= 0) us = 10'000'000;  // 0 would make every read time out at once
  return {static_cast<time_t>(us / 1'000'000), static_cast<time_t>(us % 1'000'000)};
}

HttpListenerRequest request_of(const httplib::Request& req) {
  HttpListenerRequest out;
  out.method = req.method;
  out.path = req.path;
  size_t q = req.target.find('?');
  if (q != std::string::npos) out.raw_query = req.target.substr(q + 1);
  for (const auto& [k, v] : req.params) out.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) out.headers.emplace_back(k, v);
  out.remote = req.remote_addr + ":" + std::to_string(req.remote_port);
  return out;
}

void apply(const HttpListenerResponse& from, httplib::Response& res) {
  res.status = from.status;
  for (const auto& [name, value] : from.headers) res.set_header(name, value);
  if (!from.body.empty()) res.set_content(from.body, from.content_type);
}

}  // namespace

std::string HttpListenerRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return "";
}

std::string HttpListenerRequest::param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

bool split_host_port(std::string_view text, std::string& host, int& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = text.substr(0, colon);
  std::string_view p = text.substr(colon + 1);
  if (!h.empty() && h.front() == '[') {
    if (h.size() < 2 || h.back() != ']') return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string_view::npos) {
    return false;  // an IPv6 address needs brackets
  }
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (p.empty() || ec != std::errc() || end != p.data() + p.size() || port < 0 || port > 65535) {
    return false;
  }
  host = std::string(h);
  return true;
}

struct HttpListener::Impl {
  HttpServerThread runner;
};

HttpListener::HttpListener() : impl_(std::make_unique<Impl>()) {}

HttpListener::~HttpListener() { stop(); }

std::string HttpListener::start(const HttpListenerOptions& options, Gate gate, Handler handler) {
  stop_server();
  std::string host;
  int port = 0;
  if (!split_host_port(options.address, host, port)) {
    return "\"" + options.address + "\" is not host:port, :port or [v6]:port";
  }
  std::unique_ptr<httplib::Server> server;
  if (!options.tls.enabled()) {
    server = std::make_unique<httplib::Server>();
  } else {
    std::string error;
    auto secure = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
      error = configure_tls_server(ctx, options.tls);
      return error.empty();
    });
    if (!secure->is_valid()) {
      return "cannot set up TLS: " + (error.empty() ? openssl_error_text() : error);
    }
    server = std::move(secure);
  }
  if (options.threads > 0) {
    size_t n = options.threads;
    server->new_task_queue = [n] { return new httplib::ThreadPool(n); };
  }
  // Writers keep their connection for many requests; a short idle wait lets stop() end soon.
  server->set_keep_alive_max_count(100000);
  server->set_keep_alive_timeout(2);
  auto [rs, rus] = seconds_and_micros(options.read_timeout);
  auto [ws, wus] = seconds_and_micros(options.write_timeout);
  server->set_read_timeout(rs, rus);
  server->set_write_timeout(ws, wus);
  // The library refuses a Content-Length over the limit with 413 without reading the body;
  // decoded and chunked bodies are counted below.
  server->set_payload_max_length(options.max_body_size);

  const uint64_t limit = options.max_body_size;
  auto with_body = [gate, handler, limit](const httplib::Request& req, httplib::Response& res,
                                          const httplib::ContentReader& reader) {
    HttpListenerRequest request = request_of(req);
    if (gate) {
      if (auto refusal = gate(request)) {
        // Read and drop the body so that the connection stays in step, then close it.
        reader([](const char*, size_t) { return true; });
        apply(*refusal, res);
        res.set_header("Connection", "close");
        return;
      }
    }
    bool too_large = false;
    bool read = reader([&](const char* data, size_t n) {
      if (request.body.size() + n > limit) {
        too_large = true;
        return false;
      }
      request.body.append(data, n);
      return true;
    });
    if (!read) {
      if (too_large || res.status == 413) {
        request.body_state = HttpListenerRequest::Body::kTooLarge;
      } else {
        request.body_state = HttpListenerRequest::Body::kUnreadable;
        request.body_error = res.status == 415 ? "unsupported Content-Encoding \"" +
                                                     req.get_header_value("Content-Encoding") + "\""
                                               : "the body is truncated or its encoding broken";
      }
      request.body.clear();
    }
    apply(handler(request), res);
    if (!read) res.set_header("Connection", "close");
  };
  auto without_body = [gate, handler](const httplib::Request& req, httplib::Response& res) {
    HttpListenerRequest request = request_of(req);
    if (gate) {
      if (auto refusal = gate(request)) {
        apply(*refusal, res);
        return;
      }
    }
    apply(handler(request), res);
  };
  server->Post(".*", with_body);
  server->Put(".*", with_body);
  server->Patch(".*", with_body);
  server->Delete(".*", with_body);
  server->Get(".*", without_body);
  server->Options(".*", without_body);

  if (!impl_->runner.start(std::move(server), host.empty() ? "0.0.0.0" : host, port)) {
    return "cannot listen on " + options.address + ": " + std::strerror(errno);
  }
  return "";
}

void HttpListener::serve(const HttpListenerOptions& options, Gate gate, Handler handler,
                         Logger& log, BindRetry::Report report) {
  binder_.start(
      [this, &options, gate = std::move(gate), handler = std::move(handler), &log] {
        std::string error = start(options, gate, handler);
        if (error.empty()) {
          log.info(fmt::format("listening on {}{} (port {})", options.address,
                               options.tls.enabled() ? " with TLS" : "", port()));
        }
        return error;
      },
      std::move(report));
}

void HttpListener::stop() {
  binder_.stop();
  stop_server();
}

void HttpListener::stop_server() { impl_->runner.stop(); }

int HttpListener::port() const { return impl_->runner.port(); }

}  // namespace sluice::core
