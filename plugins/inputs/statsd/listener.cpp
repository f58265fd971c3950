#include "listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace sluice::inputs::statsd {
namespace {

constexpr size_t kMaxDatagram = 64 * 1024;
// A TCP line longer than this is cut off and reported, so one peer cannot fill the memory.
constexpr size_t kMaxLine = 64 * 1024;

std::string peer_name(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  return host;
}

}  // namespace

ListenAddress parse_listen_address(const std::string& protocol, const std::string& address) {
  ListenAddress out;
  if (protocol == "udp" || protocol == "udp4" || protocol == "udp6") {
    out.udp = true;
  } else if (protocol == "tcp" || protocol == "tcp4" || protocol == "tcp6") {
    out.udp = false;
  } else {
    throw OptionError("protocol",
                      "expected udp, udp4, udp6, tcp, tcp4 or tcp6, got \"" + protocol + "\"");
  }
  out.family = protocol.ends_with('4') ? AF_INET : protocol.ends_with('6') ? AF_INET6 : AF_UNSPEC;
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    throw OptionError("service_address", "expected host:port or :port, got \"" + address + "\"");
  }
  out.host = address.substr(0, colon);
  out.port = address.substr(colon + 1);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  bool digits = !out.port.empty() && out.port.size() <= 5 &&
                out.port.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || std::stoi(out.port) > 65535) {
    throw OptionError("service_address", "\"" + out.port + "\" in \"" + address +
                                             "\" is not a port number (0 to 65535)");
  }
  return out;
}

Listener::Listener(ListenAddress address, int max_connections, uint64_t read_buffer, Logger& log,
                   Handler handler)
    : address_(std::move(address)),
      max_connections_(max_connections),
      read_buffer_(read_buffer),
      log_(log),
      handler_(std::move(handler)) {}

Listener::~Listener() { stop(); }

std::string Listener::start() {
  if (fd_ >= 0) return "";
  addrinfo hints{};
  hints.ai_family = address_.family;
  hints.ai_socktype = address_.udp ? SOCK_DGRAM : SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(address_.host.empty() ? nullptr : address_.host.c_str(),
                       address_.port.c_str(), &hints, &found);
  if (rc != 0) return "cannot resolve \"" + address_.host + "\": " + gai_strerror(rc);
  std::string error = "no address to bind";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (read_buffer_ > 0) {
      int size = static_cast<int>(std::min<uint64_t>(read_buffer_, 1u << 30));
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || (!address_.udp && listen(fd, 128) != 0)) {
      error = std::string(strerror(errno));
      close(fd);
      continue;
    }
    fd_ = fd;
    break;
  }
  freeaddrinfo(found);
  if (fd_ < 0) {
    return "cannot listen on " + std::string(address_.udp ? "udp " : "tcp ") + address_.host + ":" +
           address_.port + ": " + error;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &len);
  port_ = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    close(fd_);
    fd_ = -1;
    return "cannot create a pipe: " + std::string(strerror(errno));
  }
  stopping_ = false;
  thread_ = std::thread([this] { address_.udp ? udp_loop() : accept_loop(); });
  return "";
}

void Listener::stop() {
  if (fd_ < 0) return;
  stopping_ = true;
  if (write(wake_[1], "x", 1) < 0) {
    // The pipe is non-blocking and read by no one: a full pipe already wakes every poll.
  }
  if (thread_.joinable()) thread_.join();
  reap(true);
  close(fd_);
  close(wake_[0]);
  close(wake_[1]);
  fd_ = wake_[0] = wake_[1] = -1;
}

bool Listener::wait_readable(int fd) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
  while (!stopping_) {
    int n = poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;
  }
  return false;
}

void Listener::udp_loop() {
  std::vector<char> buffer(kMaxDatagram);
  while (wait_readable(fd_)) {
    // Every datagram waiting is read before polling again (a bounded run, to see a stop).
    for (int i = 0; i < 1024 && !stopping_; ++i) {
      sockaddr_storage from{};
      socklen_t len = sizeof from;
      ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          log_.warn("reading the UDP socket: " + std::string(strerror(errno)));
        }
        break;
      }
      handler_(std::string_view(buffer.data(), static_cast<size_t>(n)), peer_name(from));
    }
  }
}

void Listener::reap(bool all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard lock(connections_mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (all || (*it)->done) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : finished) {
    if (c->thread.joinable()) c->thread.join();
    close(c->fd);
  }
}

void Listener::accept_loop() {
  while (wait_readable(fd_)) {
    reap(false);
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    int fd = accept4(fd_, reinterpret_cast<sockaddr*>(&from), &len, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(connections_mutex_);
    if (static_cast<int>(connections_.size()) >= max_connections_) {
      log_.warn("refused a TCP connection from " + peer_name(from) + ": max_tcp_connections (" +
                std::to_string(max_connections_) + ") reached");
      close(fd);
      continue;
    }
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    c->peer = peer_name(from);
    Connection& ref = *c;
    connections_.push_back(std::move(c));
    ref.thread = std::thread([this, &ref] { connection_loop(ref); });
  }
}

void Listener::connection_loop(Connection& c) {
  std::string pending;
  std::vector<char> buffer(kMaxDatagram);
  bool skipping = false;  // inside a line that was too long, until its end
  while (wait_readable(c.fd)) {
    ssize_t n = recv(c.fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n <= 0) break;
    std::string_view data(buffer.data(), static_cast<size_t>(n));
    if (skipping) {
      size_t nl = data.find('\n');
      if (nl == std::string_view::npos) continue;
      data.remove_prefix(nl + 1);
      skipping = false;
    }
    pending.append(data);
    size_t last = pending.rfind('\n');
    if (last != std::string::npos) {
      handler_(std::string_view(pending).substr(0, last + 1), c.peer);
      pending.erase(0, last + 1);
    }
    if (pending.size() > kMaxLine) {
      log_.warn("a line from " + c.peer + " is longer than 64 KiB; it is skipped");
      pending.clear();
      skipping = true;
    }
  }
  // The peer closed: a last line without its line break is still a line.
  if (!pending.empty() && !skipping) handler_(pending, c.peer);
  c.done = true;
}

}  // namespace sluice::inputs::statsd
