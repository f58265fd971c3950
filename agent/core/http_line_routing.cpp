#include "core/http_line_routing.hpp"

#include <algorithm>

namespace sluice::core {

void serialize_routed(std::span<const Metric> batch, std::span<const RouteTag> routes,
                      const lineproto::SerializeOptions& options, std::vector<RoutedBody>& out) {
  size_t used = 0;
  auto body_for = [&](const std::vector<std::string>& destination) -> RoutedBody& {
    for (size_t i = 0; i < used; ++i) {
      if (out[i].destination == destination) return out[i];
    }
    if (used == out.size()) out.emplace_back();
    RoutedBody& body = out[used++];
    body.destination = destination;
    body.text.clear();
    body.metrics = 0;
    return body;
  };

  bool by_tag =
      std::any_of(routes.begin(), routes.end(), [](const RouteTag& r) { return !r.tag.empty(); });
  if (!by_tag) {
    // One destination for everything: serialize straight from the batch, no copies.
    std::vector<std::string> destination;
    for (const RouteTag& r : routes) destination.push_back(r.fallback);
    RoutedBody& body = body_for(destination);
    lineproto::serialize_batch(batch, body.text, options);
    body.metrics = batch.size();
    out.resize(used);
    return;
  }

  std::vector<std::string> destination(routes.size());
  for (const Metric& metric : batch) {
    bool strip = false;
    for (size_t i = 0; i < routes.size(); ++i) {
      const RouteTag& route = routes[i];
      auto value = route.tag.empty() ? std::nullopt : metric.tag(route.tag);
      if (value && value->empty()) value.reset();  // an empty name is no destination
      destination[i] = value ? std::string(*value) : route.fallback;
      strip = strip || (value && route.exclude);
    }
    RoutedBody& body = body_for(destination);
    ++body.metrics;
    if (!strip) {
      lineproto::serialize(metric, body.text, options);
      continue;
    }
    Metric copy = metric;
    for (const RouteTag& route : routes) {
      if (route.exclude && !route.tag.empty()) copy.remove_tag(route.tag);
    }
    lineproto::serialize(copy, body.text, options);
  }
  out.resize(used);
}

}  // namespace sluice::core
