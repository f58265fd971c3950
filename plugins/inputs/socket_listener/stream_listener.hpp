// TCP and unix stream sockets: one thread accepts, and each connection gets a thread of its
// own that reads, frames lines and parses them. A thread per connection (rather than one epoll
// loop for all) because the parser, not the socket, is the cost, and because a blocked hand-over
// (the pipeline is full) then stops reading exactly that connection, so TCP flow control pushes
// back on that sender alone. bench/listener_bench measures the cost per connection.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/tls_server.hpp"
#include "settings.hpp"
#include "sluice/plugin.hpp"

namespace sluice::inputs::socket_listener {

// Makes the parser of one connection (a Parser is not thread-safe).
using ParserFactory = std::function<std::unique_ptr<Parser>()>;

class StreamListener {
 public:
  StreamListener(const Settings& settings, ParserFactory parsers, Logger& log);
  ~StreamListener();

  // Takes the listening socket; starts accepting.
  void start(int listen_fd, Accumulator& acc);
  // Stops accepting, ends every connection and waits for their threads.
  void stop();

  size_t open_connections();

 private:
  struct Connection {
    int fd = -1;  // -1 once the connection's thread closed it
    std::string peer;
    std::thread thread;
    bool finished = false;
  };
  void accept_loop();
  void serve(Connection& connection);
  void reap_finished();
  void refuse(int fd, const std::string& peer);

  const Settings& settings_;
  ParserFactory parsers_;
  Logger& log_;
  core::SslCtxPtr tls_;
  Accumulator* acc_ = nullptr;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::list<Connection> connections_;
  std::atomic<uint64_t> refused_{0};
  int64_t refused_reported_at_ = 0;  // steady ns, acceptor thread only
  uint64_t refused_reported_ = 0;
};

}  // namespace sluice::inputs::socket_listener
