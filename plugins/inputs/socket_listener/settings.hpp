// What socket_listener's options decide, read once when the plugin is created.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "address.hpp"
#include "core/tls_server.hpp"

namespace sluice::inputs::socket_listener {

struct Settings {
  ServiceAddress address;
  std::string socket_mode;
  int64_t max_connections = 0;                    // 0: unlimited
  uint64_t read_buffer_size = 0;                  // SO_RCVBUF; 0: the system's
  size_t max_line = 64 * 1024;                    // max(read_buffer_size, 64 KiB)
  std::chrono::nanoseconds read_timeout{0};       // 0: never
  std::chrono::nanoseconds keep_alive_period{0};  // 0: no probes
  bool gzip = false;
  uint64_t max_decompression_size = 500'000'000;
  core::TlsServerFiles tls;
  std::string format;  // data_format, for messages
};

}  // namespace sluice::inputs::socket_listener
