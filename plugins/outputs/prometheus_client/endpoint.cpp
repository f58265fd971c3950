#include "endpoint.hpp"

#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "core/http_server_thread.hpp"

namespace sluice::outputs::prometheus_client {
namespace {

// The oldest error OpenSSL queued (the cause), and clears the queue.
std::string openssl_error() {
  unsigned long first = ERR_get_error();
  while (ERR_get_error() != 0) {
  }
  if (first == 0) return "unknown OpenSSL error";
  char buffer[256];
  ERR_error_string_n(first, buffer, sizeof buffer);
  return buffer;
}

// cpp-httplib only says that binding failed; binding once more ourselves tells why.
std::string bind_failure(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return gai_strerror(rc);
  }
  std::string reason = "the address cannot be bound";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    int rc = bind(fd, a->ai_addr, a->ai_addrlen);
    int error = errno;
    close(fd);
    if (rc != 0) {
      reason = std::strerror(error);
      break;
    }
  }
  freeaddrinfo(found);
  return reason;
}

bool setup_tls(SSL_CTX& ctx, const TlsFiles& tls, std::string& error) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(&ctx, tls.cert.c_str()) != 1) {
    error = "cannot load the certificate " + tls.cert + ": " + openssl_error();
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(&ctx, tls.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "cannot load the private key " + tls.key + ": " + openssl_error();
    return false;
  }
  if (SSL_CTX_check_private_key(&ctx) != 1) {
    error = "the private key " + tls.key + " does not match the certificate " + tls.cert;
    return false;
  }
  if (tls.client_cas.empty()) return true;
  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  for (const std::string& ca : tls.client_cas) {
    if (SSL_CTX_load_verify_locations(&ctx, ca.c_str(), nullptr) != 1 ||
        SSL_add_file_cert_subjects_to_stack(names, ca.c_str()) != 1) {
      error = "cannot load the client CA file " + ca + ": " + openssl_error();
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      return false;
    }
  }
  SSL_CTX_set_client_CA_list(&ctx, names);  // takes ownership
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  return true;
}

std::pair<time_t, time_t> seconds_and_micros(std::chrono::nanoseconds d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return {static_cast<time_t>(us / 1'000'000), static_cast<time_t>(us % 1'000'000)};
}

}  // namespace

std::string ListenAddress::text() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::optional<ListenAddress> parse_listen(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  std::string_view port = text.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') return std::nullopt;
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;  // an IPv6 address needs brackets
  }
  ListenAddress out;
  out.host = std::string(host);
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || out.port < 0 ||
      out.port > 65535) {
    return std::nullopt;
  }
  return out;
}

struct HttpEndpoint::Impl {
  core::HttpServerThread runner;
};

HttpEndpoint::HttpEndpoint() : impl_(std::make_unique<Impl>()) {}

HttpEndpoint::~HttpEndpoint() { stop(); }

std::string HttpEndpoint::start(const ListenAddress& address, const TlsFiles& tls,
                                std::chrono::nanoseconds read_timeout,
                                std::chrono::nanoseconds write_timeout, HttpHandler handler) {
  stop();
  std::unique_ptr<httplib::Server> server;
  if (tls.cert.empty()) {
    server = std::make_unique<httplib::Server>();
  } else {
    std::string error;
    auto secure = std::make_unique<httplib::SSLServer>(
        [&](SSL_CTX& ctx) { return setup_tls(ctx, tls, error); });
    if (!secure->is_valid()) {
      return "cannot set up TLS for " + address.text() + ": " +
             (error.empty() ? openssl_error() : error);
    }
    server = std::move(secure);
  }
  // Scrapes are few; a small pool is plenty. A short keep-alive lets stop() return quickly.
  server->new_task_queue = [] { return new httplib::ThreadPool(2); };
  server->set_keep_alive_timeout(1);
  auto [rs, rus] = seconds_and_micros(read_timeout);
  auto [ws, wus] = seconds_and_micros(write_timeout);
  server->set_read_timeout(rs, rus);
  server->set_write_timeout(ws, wus);
  // Every request goes to the one handler, which decides on paths and methods itself.
  server->set_pre_routing_handler(
      [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
        HttpRequest request{req.method, req.path, req.remote_addr,
                            req.get_header_value("Authorization")};
        HttpResponse response = handler(request);
        res.status = response.status;
        for (const auto& [name, value] : response.headers) res.set_header(name, value);
        res.set_content(std::move(response.body), response.content_type);
        return httplib::Server::HandlerResponse::Handled;
      });

  std::string host = address.host.empty() ? "0.0.0.0" : address.host;
  if (!impl_->runner.start(std::move(server), host, address.port)) {
    return "cannot listen on " + address.text() + ": " + bind_failure(host, address.port);
  }
  return "";
}

void HttpEndpoint::stop() { impl_->runner.stop(); }

bool HttpEndpoint::running() const { return impl_->runner.running(); }

int HttpEndpoint::port() const { return impl_->runner.port(); }

}  // namespace sluice::outputs::prometheus_client
