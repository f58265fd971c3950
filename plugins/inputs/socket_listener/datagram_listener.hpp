// UDP and unixgram sockets: one thread receives; each datagram is one message for the parser.
// The datagrams of one burst reach the pipeline as one batch.
#pragma once

#include <atomic>
#include <thread>

#include "settings.hpp"
#include "sluice/plugin.hpp"
#include "stream_listener.hpp"  // ParserFactory

namespace sluice::inputs::socket_listener {

class DatagramListener {
 public:
  DatagramListener(const Settings& settings, ParserFactory parsers)
      : settings_(settings), parsers_(std::move(parsers)) {}
  ~DatagramListener() { stop(); }

  void start(int fd, Accumulator& acc);
  void stop();

 private:
  void receive_loop();

  const Settings& settings_;
  ParserFactory parsers_;
  Accumulator* acc_ = nullptr;
  int fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace sluice::inputs::socket_listener
