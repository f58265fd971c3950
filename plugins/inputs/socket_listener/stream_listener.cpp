#include "stream_listener.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "batching_accumulator.hpp"
#include "gzip_stream.hpp"
#include "line_framer.hpp"
#include "plugin/parse_into.hpp"

namespace sluice::inputs::socket_listener {
namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Metrics handed to the pipeline at once at most, when a sender keeps the socket busy.
constexpr size_t kBurstMetrics = 8'192;

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

void set_receive_timeout(int fd, std::chrono::nanoseconds timeout) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  timeval tv{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

}  // namespace

StreamListener::StreamListener(const Settings& settings, ParserFactory parsers, Logger& log)
    : settings_(settings), parsers_(std::move(parsers)), log_(log) {
  if (settings_.tls.enabled()) {
    std::string error;
    tls_ = core::make_tls_server_context(settings_.tls, error);
    if (!tls_) throw OptionError("tls_cert", error);
  }
}

StreamListener::~StreamListener() { stop(); }

void StreamListener::start(int listen_fd, Accumulator& acc) {
  listen_fd_ = listen_fd;
  acc_ = &acc;
  stopping_ = false;
  acceptor_ = std::thread([this] { accept_loop(); });
}

size_t StreamListener::open_connections() {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const Connection& c : connections_) n += c.finished ? 0 : 1;
  return n;
}

void StreamListener::reap_finished() {
  std::list<Connection> done;
  {
    std::lock_guard lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      auto next = std::next(it);
      if (it->finished) done.splice(done.end(), connections_, it);
      it = next;
    }
  }
  for (Connection& c : done) c.thread.join();
}

void StreamListener::refuse(int fd, const std::string& peer) {
  close(fd);
  uint64_t refused = refused_.fetch_add(1) + 1;
  // A client that reconnects in a loop must not flood the log: one report a second.
  int64_t now = steady_ns();
  if (refused_reported_ > 0 && now - refused_reported_at_ < 1'000'000'000) return;
  acc_->add_error(
      fmt::format("refused {} connection(s), the last from {}: max_connections ({}) "
                  "are open",
                  refused - refused_reported_, peer, settings_.max_connections));
  refused_reported_at_ = now;
  refused_reported_ = refused;
}

void StreamListener::accept_loop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    int ready = poll(&p, 1, 200);
    if (ready <= 0) continue;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE) {
        acc_->add_error(fmt::format("cannot accept a connection: {}", std::strerror(errno)));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    std::string peer = peer_text(&addr, len);
    if (settings_.address.is_unix()) peer = settings_.address.text();
    reap_finished();
    if (settings_.max_connections > 0 &&
        open_connections() >= static_cast<size_t>(settings_.max_connections)) {
      refuse(fd, peer);
      continue;
    }
    if (!settings_.address.is_unix() && settings_.keep_alive_period.count() > 0) {
      int seconds = static_cast<int>(std::max<int64_t>(
          1,
          std::chrono::duration_cast<std::chrono::seconds>(settings_.keep_alive_period).count()));
      int on = 1;
      setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &seconds, sizeof seconds);
      setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &seconds, sizeof seconds);
    }
    std::lock_guard lock(mutex_);
    Connection& c = connections_.emplace_back();
    c.fd = fd;
    c.peer = std::move(peer);
    c.thread = std::thread([this, &c] { serve(c); });
  }
}

void StreamListener::serve(Connection& connection) {
  const int fd = connection.fd;  // set before this thread started; only this thread clears it
  const std::string& peer = connection.peer;
  Accumulator& acc = *acc_;
  // What several reads parse to goes to the pipeline together while data keeps coming: larger
  // batches cost the pipeline less per metric. It is handed over as soon as the socket has
  // nothing more to read, so a quiet sender's metrics do not wait.
  BatchingAccumulator burst(acc);
  std::unique_ptr<Parser> parser = parsers_();
  LineFramer framer(
      settings_.max_line, parser->splits_on_lines(),
      [&](std::string_view lines) {
        burst.parse(*parser, settings_.format, lines, peer);
        if (burst.size() >= kBurstMetrics) burst.flush();
      },
      [&](size_t bytes) {
        acc.add_rejected(
            fmt::format("{}: a line of {} bytes or more is longer than the {} bytes "
                        "allowed (read_buffer_size, at least 64KiB); skipped",
                        peer, bytes, settings_.max_line));
      });
  std::unique_ptr<GzipStream> gzip;
  std::vector<char> compressed;
  if (settings_.gzip) {
    gzip = std::make_unique<GzipStream>();
    compressed.resize(64 * 1024);
  }
  std::unique_ptr<SSL, SslFree> ssl;
  bool clean_end = false;
  if (tls_) {
    ssl.reset(SSL_new(tls_.get()));
    SSL_set_fd(ssl.get(), fd);
    // A client that never finishes its handshake must not hold the thread for ever.
    auto handshake_limit =
        settings_.read_timeout.count() > 0 ? settings_.read_timeout : std::chrono::seconds(10);
    set_receive_timeout(fd, handshake_limit);
    if (SSL_accept(ssl.get()) != 1) {
      if (!stopping_) {
        acc.add_error(
            fmt::format("TLS handshake with {} failed: {}", peer, core::openssl_error_text()));
      }
      goto done;
    }
    set_receive_timeout(fd, std::chrono::nanoseconds(0));
  }
  {
    const int timeout_ms =
        settings_.read_timeout.count() > 0
            ? static_cast<int>(std::max<int64_t>(1, settings_.read_timeout.count() / 1'000'000))
            : -1;
    while (!stopping_) {
      if (!ssl || SSL_pending(ssl.get()) == 0) {
        pollfd p{fd, POLLIN, 0};
        if (burst.size() > 0 && poll(&p, 1, 0) == 0) burst.flush();
        int ready = poll(&p, 1, timeout_ms);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) break;
        if (ready == 0) {
          log_.debug(
              fmt::format("closing the connection from {}: nothing read for read_timeout", peer));
          break;
        }
      }
      char* into = gzip ? compressed.data() : framer.space();
      size_t room = gzip ? compressed.size() : framer.space_size();
      ssize_t n = 0;
      if (ssl) {
        int got = SSL_read(ssl.get(), into, static_cast<int>(room));
        if (got <= 0) {
          int e = SSL_get_error(ssl.get(), got);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) continue;
          clean_end = e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && got == 0);
          break;
        }
        n = got;
      } else {
        n = recv(fd, into, room, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n <= 0) {
          clean_end = n == 0;
          break;
        }
      }
      if (gzip) {
        std::string error = gzip->feed(std::string_view(into, static_cast<size_t>(n)),
                                       [&](std::string_view decoded) { framer.feed(decoded); });
        if (!error.empty()) {
          acc.add_rejected(fmt::format("{}: cannot decode gzip: {}; closing", peer, error));
          break;
        }
      } else {
        framer.commit(static_cast<size_t>(n));
      }
    }
  }
  if (clean_end && !stopping_) framer.finish();
  burst.flush();
done:
  std::lock_guard lock(mutex_);
  close(fd);
  connection.fd = -1;
  connection.finished = true;
}

void StreamListener::stop() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) {
    close(listen_fd_);
    listen_fd_ = -1;
  }
  {
    std::lock_guard lock(mutex_);
    for (Connection& c : connections_) {
      if (c.fd >= 0) shutdown(c.fd, SHUT_RDWR);  // wakes its reads
    }
  }
  for (Connection& c : connections_) {
    if (c.thread.joinable()) c.thread.join();
  }
  connections_.clear();
}

}  // namespace sluice::inputs::socket_listener
