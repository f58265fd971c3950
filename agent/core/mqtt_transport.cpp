#include "core/mqtt_transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace sluice::core::mqtt {
namespace {

bool is_ip_literal(const std::string& host) {
  in6_addr any;
  return inet_pton(AF_INET, host.c_str(), &any) == 1 || inet_pton(AF_INET6, host.c_str(), &any) == 1;
}

void set_timeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// One TCP connection attempt to one resolved address, bounded by `timeout`.
int connect_one(const addrinfo& ai, std::chrono::milliseconds timeout, std::string& error) {
  int fd = socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, ai.ai_addr, ai.ai_addrlen);
  if (rc != 0 && errno != EINPROGRESS) {
    error = std::strerror(errno);
    close(fd);
    return -1;
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    int ready = poll(&p, 1, static_cast<int>(timeout.count()));
    int so_error = 0;
    socklen_t len = sizeof so_error;
    if (ready <= 0) {
      error = ready == 0 ? fmt::format("no connection within {}ms", timeout.count())
                         : std::strerror(errno);
      close(fd);
      return -1;
    }
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
      error = std::strerror(so_error);
      close(fd);
      return -1;
    }
  }
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int connect_tcp(const BrokerAddress& address, std::chrono::milliseconds timeout,
                std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(address.port);
  if (int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    error = fmt::format("cannot resolve {}: {}", address.host, gai_strerror(rc));
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = connect_one(*ai, timeout, error);
  }
  freeaddrinfo(found);
  return fd;
}

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(int fd) : Transport(fd) {}
  ~PlainTransport() override = default;

  Read read(char* buffer, size_t size, size_t& got, std::string& error) override {
    ssize_t n = recv(fd_, buffer, size, 0);
    if (n > 0) {
      got = static_cast<size_t>(n);
      return Read::kData;
    }
    if (n == 0) return Read::kClosed;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Read::kNothing;
    error = std::strerror(errno);
    return Read::kFailed;
  }

  bool write(std::string_view data, std::string& error) override {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        error = (errno == EAGAIN || errno == EWOULDBLOCK) ? "write timed out: the broker does not read"
                                                          : std::strerror(errno);
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
};

class TlsTransport final : public Transport {
 public:
  TlsTransport(int fd, SSL* ssl) : Transport(fd), ssl_(ssl) {}
  ~TlsTransport() override {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }

  Read read(char* buffer, size_t size, size_t& got, std::string& error) override {
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0) {
      got = static_cast<size_t>(n);
      return Read::kData;
    }
    int code = SSL_get_error(ssl_, n);
    if (code == SSL_ERROR_ZERO_RETURN) return Read::kClosed;
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) return Read::kNothing;
    if (code == SSL_ERROR_SYSCALL) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Read::kNothing;
      if (errno == 0) return Read::kClosed;
      error = std::strerror(errno);
      return Read::kFailed;
    }
    error = "TLS: " + openssl_error_text();
    return Read::kFailed;
  }

  bool write(std::string_view data, std::string& error) override {
    while (!data.empty()) {
      ERR_clear_error();
      int n = SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), INT32_MAX)));
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      int code = SSL_get_error(ssl_, n);
      if (code == SSL_ERROR_SYSCALL && errno == EINTR) continue;
      error = (code == SSL_ERROR_WANT_WRITE || code == SSL_ERROR_WANT_READ)
                  ? "write timed out: the broker does not read"
                  : "TLS: " + openssl_error_text();
      return false;
    }
    return true;
  }

  bool pending() const override { return SSL_pending(ssl_) > 0; }

 private:
  SSL* ssl_;
};

}  // namespace

void Transport::acknowledge_now() {
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

Transport::~Transport() {
  if (fd_ >= 0) close(fd_);
}

std::string BrokerAddress::text() const {
  bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}://{}{}{}:{}", tls ? "ssl" : "tcp", v6 ? "[" : "", host, v6 ? "]" : "",
                     port);
}

std::string parse_broker_address(std::string_view server, BrokerAddress& out) {
  out = BrokerAddress{};
  std::string_view rest = server;
  if (size_t sep = server.find("://"); sep != std::string_view::npos) {
    std::string_view scheme = server.substr(0, sep);
    rest = server.substr(sep + 3);
    if (scheme == "ssl" || scheme == "tls" || scheme == "mqtts") {
      out.tls = true;
    } else if (scheme != "tcp" && scheme != "mqtt") {
      return fmt::format("unknown scheme \"{}\" in \"{}\"; use tcp, mqtt, ssl, tls or mqtts",
                         scheme, server);
    }
  }
  out.port = out.tls ? 8883 : 1883;
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with('[')) {  // [v6]:port
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return fmt::format("unclosed '[' in \"{}\"", server);
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return fmt::format("expected :port after ']' in \"{}\"", server);
      port = after.substr(1);
    }
  } else if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty()) return fmt::format("no host in \"{}\"", server);
  if (host.find('/') != std::string_view::npos) {
    return fmt::format("a broker address has no path: \"{}\"", server);
  }
  if (!port.empty() || rest.ends_with(':')) {
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value < 1 || value > 65535) {
      return fmt::format("port \"{}\" in \"{}\" is not 1 to 65535", port, server);
    }
    out.port = value;
  }
  out.host = std::string(host);
  return "";
}

SslCtxPtr tls_context_for(const std::vector<BrokerAddress>& servers, const TlsClientFiles& files) {
  bool any_tls = false;
  for (const BrokerAddress& s : servers) any_tls = any_tls || s.tls;
  if (!any_tls) return nullptr;
  std::string error;
  SslCtxPtr context = make_tls_client_context(files, error);
  if (!context) throw std::invalid_argument(error);
  return context;
}

SslCtxPtr make_tls_client_context(const TlsClientFiles& files, std::string& error) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    error = "cannot create a TLS context: " + openssl_error_text();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  if (!files.ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1) {
      error = "cannot load the CA file " + files.ca + ": " + openssl_error_text();
      return nullptr;
    }
  } else {
    SSL_CTX_set_default_verify_paths(ctx.get());
  }
  if (files.cert.empty() != files.key.empty()) {
    error = "a client certificate needs both tls_cert and tls_key";
    return nullptr;
  }
  if (!files.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1) {
      error = "cannot load the certificate " + files.cert + ": " + openssl_error_text();
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
      error = "cannot load the private key " + files.key + ": " + openssl_error_text();
      return nullptr;
    }
    if (SSL_CTX_check_private_key(ctx.get()) != 1) {
      error = "the private key " + files.key + " does not match the certificate " + files.cert;
      return nullptr;
    }
  }
  SSL_CTX_set_verify(ctx.get(), files.insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                     nullptr);
  return ctx;
}

std::unique_ptr<Transport> open_transport(const BrokerAddress& address, SSL_CTX* tls,
                                          bool verify_peer, std::chrono::milliseconds timeout,
                                          std::chrono::milliseconds io_timeout,
                                          std::string& error) {
  int fd = connect_tcp(address, timeout, error);
  if (fd < 0) return nullptr;
  if (!address.tls) {
    set_timeouts(fd, io_timeout);
    return std::make_unique<PlainTransport>(fd);
  }
  if (tls == nullptr) {
    close(fd);
    error = "no TLS context for " + address.text();
    return nullptr;
  }
  set_timeouts(fd, timeout);  // the handshake has the connection's time
  SSL* ssl = SSL_new(tls);
  if (ssl == nullptr) {
    close(fd);
    error = "TLS: " + openssl_error_text();
    return nullptr;
  }
  SSL_set_fd(ssl, fd);
  if (!is_ip_literal(address.host)) SSL_set_tlsext_host_name(ssl, address.host.c_str());
  if (verify_peer) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (is_ip_literal(address.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, address.host.c_str());
    } else {
      SSL_set1_host(ssl, address.host.c_str());
    }
  }
  ERR_clear_error();
  if (SSL_connect(ssl) != 1) {
    long verify = SSL_get_verify_result(ssl);
    error = verify != X509_V_OK
                ? fmt::format("TLS handshake: certificate not trusted: {}",
                              X509_verify_cert_error_string(verify))
                : "TLS handshake: " + openssl_error_text();
    SSL_free(ssl);
    close(fd);
    return nullptr;
  }
  set_timeouts(fd, io_timeout);
  return std::make_unique<TlsTransport>(fd, ssl);
}

}  // namespace sluice::core::mqtt
