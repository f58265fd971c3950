// The statsd sockets: a UDP socket read by one thread, or a TCP listener with a thread per
// connection (at most max_tcp_connections) that hands over whole lines.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "sluice/plugin.hpp"

namespace sluice::inputs::statsd {

struct ListenAddress {
  std::string host;  // "" for every address
  std::string port;
  bool udp = true;
  int family = 0;  // AF_UNSPEC, AF_INET or AF_INET6 (udp4, tcp6, ...)
};

// Reads "host:port", ":port" or "[v6]:port" with protocol udp|udp4|udp6|tcp|tcp4|tcp6; throws
// OptionError on a bad value.
ListenAddress parse_listen_address(const std::string& protocol, const std::string& address);

class Listener {
 public:
  // Called from the reading threads with one datagram, or with complete lines from a TCP
  // stream, and the peer's address.
  using Handler = std::function<void(std::string_view data, const std::string& peer)>;

  Listener(ListenAddress address, int max_connections, uint64_t read_buffer, Logger& log,
           Handler handler);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and starts reading. Returns "" or why the socket could not be bound.
  std::string start();
  void stop();
  int port() const { return port_; }

 private:
  struct Connection {
    int fd = -1;
    std::string peer;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void udp_loop();
  void accept_loop();
  void connection_loop(Connection& c);
  bool wait_readable(int fd);  // false when stopping
  void reap(bool all);

  ListenAddress address_;
  int max_connections_;
  uint64_t read_buffer_;
  Logger& log_;
  Handler handler_;
  int fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe: written to stop the threads
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex connections_mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace sluice::inputs::statsd
