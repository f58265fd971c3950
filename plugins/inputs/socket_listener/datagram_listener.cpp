#include "datagram_listener.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "batching_accumulator.hpp"
#include "gzip_stream.hpp"
#include "plugin/parse_into.hpp"

namespace sluice::inputs::socket_listener {
namespace {
// The largest UDP payload; a unixgram datagram may be larger, up to the receive buffer.
constexpr size_t kMaxUdp = 65'535;
// Hand over a burst at this many metrics even if more datagrams wait.
constexpr size_t kBurstMetrics = 8'192;
}  // namespace

void DatagramListener::start(int fd, Accumulator& acc) {
  fd_ = fd;
  acc_ = &acc;
  stopping_ = false;
  thread_ = std::thread([this] { receive_loop(); });
}

void DatagramListener::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

void DatagramListener::receive_loop() {
  std::unique_ptr<Parser> parser = parsers_();
  BatchingAccumulator burst(*acc_);
  size_t capacity =
      settings_.address.is_unix() ? std::max<size_t>(settings_.max_line, kMaxUdp) : kMaxUdp;
  std::vector<char> buffer(capacity);
  GzipStream gzip;
  std::string decoded;
  while (!stopping_) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    for (int i = 0; i < 4096; ++i) {
      sockaddr_storage from{};
      socklen_t from_len = sizeof from;
      ssize_t n = recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT | MSG_TRUNC,
                           reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
          acc_->add_error(fmt::format("cannot receive: {}", std::strerror(errno)));
        }
        break;
      }
      std::string peer =
          settings_.address.is_unix() ? settings_.address.text() : peer_text(&from, from_len);
      if (static_cast<size_t>(n) > buffer.size()) {
        acc_->add_rejected(
            fmt::format("{}: a datagram of {} bytes is larger than the {} bytes "
                        "read; dropped",
                        peer, n, buffer.size()));
        continue;
      }
      std::string_view data(buffer.data(), static_cast<size_t>(n));
      if (settings_.gzip) {
        decoded.clear();
        gzip.reset();
        std::string error = gzip.feed(
            data, [&](std::string_view d) { decoded.append(d); }, settings_.max_decompression_size);
        if (!error.empty()) {
          acc_->add_rejected(fmt::format("{}: cannot decode gzip datagram: {}", peer, error));
          continue;
        }
        data = decoded;
      }
      burst.parse(*parser, settings_.format, data, peer);
      if (burst.size() >= kBurstMetrics) burst.flush();
    }
    burst.flush();
  }
}

}  // namespace sluice::inputs::socket_listener
