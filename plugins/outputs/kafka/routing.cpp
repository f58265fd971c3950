#include "routing.hpp"

namespace sluice::outputs::kafka {

Router::Router(RoutingOptions options)
    : options_(std::move(options)), random_(std::random_device{}()) {}

std::string_view Router::topic(const Metric& metric) const {
  if (!options_.topic_tag.empty()) {
    if (auto value = metric.tag(options_.topic_tag)) return *value;
  }
  return options_.topic;
}

bool Router::strips_topic_tag(const Metric& metric) const {
  return options_.exclude_topic_tag && !options_.topic_tag.empty() &&
         metric.has_tag(options_.topic_tag);
}

std::string Router::key(const Metric& metric) {
  if (!options_.routing_tag.empty()) {
    if (auto value = metric.tag(options_.routing_tag)) return std::string(*value);
  }
  if (options_.routing_key == "random") return random_uuid(random_);
  return options_.routing_key;
}

std::string random_uuid(std::mt19937_64& random) {
  uint64_t high = random();
  uint64_t low = random();
  high = (high & ~0xf000ULL) | 0x4000ULL;                // version 4
  low = (low & ~(0xc000ULL << 48)) | (0x8000ULL << 48);  // variant 10xx
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  auto put = [&](uint64_t bits, int from_nibble, int count) {
    for (int i = from_nibble; i > from_nibble - count; --i) out += kHex[(bits >> (4 * i)) & 0xf];
  };
  put(high, 15, 8);
  out += '-';
  put(high, 7, 4);
  out += '-';
  put(high, 3, 4);
  out += '-';
  put(low, 15, 4);
  out += '-';
  put(low, 11, 12);
  return out;
}

}  // namespace sluice::outputs::kafka
