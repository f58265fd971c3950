#include "core/routed_body_sender.hpp"

#include <memory>

namespace sluice::core {

void RoutedBodySender::start(std::span<const Metric> batch) {
  std::vector<RoutedBody> bodies;
  serialize_routed(batch, routes_, options_, bodies);
  start(std::move(bodies));
}

void RoutedBodySender::start(std::vector<RoutedBody> bodies) {
  if (in_flight_.empty()) failed_ = false;
  auto shared = std::make_shared<std::vector<RoutedBody>>(std::move(bodies));
  std::string compress_error = gzip_ ? compress(*shared) : "";
  in_flight_.push_back(sender_.submit([this, shared, compress_error] {
    if (failed_) return WriteResult::retry("not sent: an earlier write failed and goes first");
    WriteResult result = compress_error.empty() ? post_(*shared)
                                                : WriteResult::retry(compress_error);
    if (result.status != WriteResult::Status::kOk) failed_ = true;
    return result;
  }));
}

WriteResult RoutedBodySender::finish() {
  if (in_flight_.empty()) return WriteResult::retry("no write was started");
  std::future<WriteResult> result = std::move(in_flight_.front());
  in_flight_.pop_front();
  return result.get();
}

std::string RoutedBodySender::compress(std::vector<RoutedBody>& bodies) {
  for (RoutedBody& body : bodies) {
    if (body.text.empty()) continue;
    if (!encoder_.compress(body.text, compressed_)) return "compressing the body with gzip failed";
    body.text.swap(compressed_);
  }
  return "";
}

}  // namespace sluice::core
