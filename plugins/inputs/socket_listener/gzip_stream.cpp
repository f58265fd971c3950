#include "gzip_stream.hpp"

#include <zlib.h>

namespace sluice::inputs::socket_listener {
namespace {
constexpr size_t kChunk = 64 * 1024;
}

GzipStream::GzipStream() : stream_(std::make_unique<z_stream_s>()), out_(new char[kChunk]) {}

GzipStream::~GzipStream() {
  if (ready_) inflateEnd(stream_.get());
}

void GzipStream::reset() {
  if (ready_) inflateReset(stream_.get());
  decoded_ = 0;
}

std::string GzipStream::feed(std::string_view data, const Sink& sink, uint64_t limit) {
  z_stream_s& z = *stream_;
  if (!ready_) {
    z = z_stream_s{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return "zlib cannot start";
    ready_ = true;
  }
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  do {
    z.next_out = reinterpret_cast<Bytef*>(out_.get());
    z.avail_out = kChunk;
    int rc = inflate(&z, Z_NO_FLUSH);
    size_t produced = kChunk - z.avail_out;
    decoded_ += produced;
    if (limit > 0 && decoded_ > limit) {
      return "decoded data larger than max_decompression_size (" + std::to_string(limit) +
             " bytes)";
    }
    if (produced > 0) sink(std::string_view(out_.get(), produced));
    if (rc == Z_STREAM_END) {
      inflateReset(&z);  // another member may follow
    } else if (rc == Z_BUF_ERROR && produced == 0) {
      break;
    } else if (rc != Z_OK) {
      std::string why = z.msg != nullptr ? z.msg : "not gzip data";
      inflateReset(&z);
      return why;
    }
  } while (z.avail_in > 0 || z.avail_out == 0);
  return "";
}

}  // namespace sluice::inputs::socket_listener
