#include "core/http_gzip.hpp"

#include <zlib.h>

namespace sluice::core {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // 32 KiB window, gzip header and trailer

}  // namespace

GzipEncoder::GzipEncoder(int level) : stream_(std::make_unique<z_stream_s>()) {
  ready_ = deflateInit2(stream_.get(), level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) ==
           Z_OK;
}

GzipEncoder::~GzipEncoder() {
  if (ready_) deflateEnd(stream_.get());
}

bool GzipEncoder::compress(std::string_view data, std::string& out) {
  if (!ready_ || deflateReset(stream_.get()) != Z_OK) return false;
  z_stream& s = *stream_;
  out.resize(deflateBound(&s, static_cast<uLong>(data.size())));
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  // deflateBound is enough for a single Z_FINISH call.
  int rc = deflate(&s, Z_FINISH);
  if (rc != Z_STREAM_END) return false;
  out.resize(s.total_out);
  return true;
}

std::optional<std::string> gzip_decompress(std::string_view data) {
  z_stream s{};
  if (inflateInit2(&s, kGzipWindowBits) != Z_OK) return std::nullopt;
  std::string out;
  char chunk[16384];
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (true) {
    s.next_out = reinterpret_cast<Bytef*>(chunk);
    s.avail_out = sizeof chunk;
    rc = inflate(&s, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - s.avail_out);
    if (rc == Z_STREAM_END) {
      if (s.avail_in == 0) break;
      // Another member follows: gzip allows them to be concatenated.
      if (inflateReset(&s) != Z_OK) break;
      continue;
    }
    if (rc != Z_OK) break;
    if (s.avail_in == 0 && s.avail_out != 0) break;  // truncated input
  }
  inflateEnd(&s);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

}  // namespace sluice::core
