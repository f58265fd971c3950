// Undoes gzip (content_encoding: gzip) as bytes arrive: a stream of gzip members, or one
// datagram at a time, with a bound on the decoded size.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

struct z_stream_s;

namespace sluice::inputs::socket_listener {

class GzipStream {
 public:
  using Sink = std::function<void(std::string_view decoded)>;

  GzipStream();
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Decodes `data`, handing what comes out to `sink`; members may follow each other. Returns
  // "" or why the data is not gzip. Past `limit` decoded bytes (0: none) it stops with an error.
  std::string feed(std::string_view data, const Sink& sink, uint64_t limit = 0);
  // Starts over (each datagram is a gzip member of its own).
  void reset();

 private:
  std::unique_ptr<z_stream_s> stream_;
  bool ready_ = false;
  uint64_t decoded_ = 0;
  std::unique_ptr<char[]> out_;
};

}  // namespace sluice::inputs::socket_listener
