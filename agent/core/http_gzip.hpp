// gzip for HTTP bodies (Content-Encoding: gzip), on zlib.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct z_stream_s;

namespace sluice::core {

// Compresses whole bodies into gzip members. Keeps its zlib state between calls, so that a
// body per flush does not allocate the compressor's tables again.
class GzipEncoder {
 public:
  // zlib's level, 1 (fastest) to 9 (smallest). Metrics text compresses well even at 1, and
  // the agent's CPU is the scarcer resource.
  explicit GzipEncoder(int level = 1);
  ~GzipEncoder();
  GzipEncoder(const GzipEncoder&) = delete;
  GzipEncoder& operator=(const GzipEncoder&) = delete;

  // Replaces `out` with the gzip member of `data`. False when zlib fails (out of memory).
  bool compress(std::string_view data, std::string& out);

 private:
  std::unique_ptr<z_stream_s> stream_;
  bool ready_ = false;
};

// The content of gzip data (all members), or nullopt when it is not valid gzip.
std::optional<std::string> gzip_decompress(std::string_view data);

}  // namespace sluice::core
