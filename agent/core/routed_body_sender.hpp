// Writing ahead for the HTTP outputs (influxdb and influxdb_v2 with their routed line-protocol
// bodies, http with the bodies of its data format): the agent's thread serializes and
// gzip-compresses the next batch while a sender thread posts the previous one. The server still
// gets one request at a time, in order; what overlaps is the agent's CPU with the round trip.
//
// After a post fails, the writes queued behind it are not sent: they would reach the server
// before the failed batch's retry, out of order and, once retried themselves, twice. Their
// outcome is a retry, as the host writes them again after the failed one anyway.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <future>
#include <span>
#include <string>
#include <vector>

#include "core/http_client.hpp"
#include "core/http_gzip.hpp"
#include "core/http_line_routing.hpp"
#include "core/ordered_worker.hpp"
#include "lineproto/serializer.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

class RoutedBodySender {
 public:
  // Posts one batch's bodies, on the sender thread (failing over between URLs as it likes).
  using Post = std::function<WriteResult(const std::vector<RoutedBody>&)>;

  // Two in flight: one being posted, the next being prepared.
  static constexpr size_t kMaxInFlight = 2;

  // Batches become one body per destination by `routes` (see serialize_routed). With `gzip`,
  // bodies reach `post` compressed: the HTTP client must not compress them again, and each
  // request must say Content-Encoding: gzip.
  RoutedBodySender(std::span<const RouteTag> routes, lineproto::SerializeOptions options,
                   bool gzip, Post post)
      : routes_(routes.begin(), routes.end()),
        options_(options),
        gzip_(gzip),
        post_(std::move(post)) {}

  // Whether `client` was set to gzip request bodies, turning that off: the sender compresses
  // them itself, on the preparing thread. Pass the result as the constructor's `gzip`.
  static bool take_compression(HttpClientOptions& client) {
    const bool gzip = client.gzip;
    client.gzip = false;
    return gzip;
  }

  bool gzip() const { return gzip_; }

  // Serializes and compresses the batch, and queues its bodies for the sender. With nothing in
  // flight, a failure before is forgotten: the host is writing again.
  void start(std::span<const Metric> batch);
  // The same for bodies the output serialized itself (the routes then go unused).
  void start(std::vector<RoutedBody> bodies);
  // The outcome of the oldest write started and not yet finished; waits for it.
  WriteResult finish();

 private:
  // Replaces each body's text by its gzip member. "" or why zlib failed.
  std::string compress(std::vector<RoutedBody>& bodies);

  std::vector<RouteTag> routes_;
  lineproto::SerializeOptions options_;
  bool gzip_;
  Post post_;
  GzipEncoder encoder_;
  std::string compressed_;                          // reused between bodies
  std::deque<std::future<WriteResult>> in_flight_;  // started writes, oldest first
  std::atomic<bool> failed_{false};  // a post failed: skip those queued behind it
  OrderedWorker sender_;  // last: joins before the state its jobs use goes
};

}  // namespace sluice::core
