// A cpp-httplib server serving on a thread of its own: what the HTTP listeners and the
// prometheus_client output share of running one.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace sluice::core {

class HttpServerThread {
 public:
  HttpServerThread() = default;
  ~HttpServerThread() { stop(); }
  HttpServerThread(const HttpServerThread&) = delete;
  HttpServerThread& operator=(const HttpServerThread&) = delete;

  // Binds `server` to host:port (0: any free port) and serves on a thread. False when the
  // address cannot be bound (errno says why); the server is then dropped.
  bool start(std::unique_ptr<httplib::Server> server, const std::string& host, int port) {
    stop();
    if (port == 0) {
      port = server->bind_to_any_port(host);
      if (port <= 0) return false;
    } else if (!server->bind_to_port(host, port)) {
      return false;
    }
    server_ = std::move(server);
    port_ = port;
    done_ = false;
    thread_ = std::thread([this] {
      server_->listen_after_bind();
      done_ = true;
    });
    // cpp-httplib's stop() acts only on a running server: wait until it runs.
    for (int i = 0; i < 5000 && !server_->is_running() && !done_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }

  // Stops serving and waits for the thread; does nothing when not started.
  void stop() {
    if (!server_) return;
    // stop() must be called once, on a running server; then the thread ends.
    bool stopped = false;
    for (int i = 0; i < 10000 && !done_; ++i) {
      if (!stopped && server_->is_running()) {
        server_->stop();
        stopped = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  bool running() const { return server_ != nullptr && !done_; }
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> done_{true};
  int port_ = 0;
};

}  // namespace sluice::core
