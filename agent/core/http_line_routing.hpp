// Line-protocol request bodies for outputs that pick the destination of each metric from a tag
// (influxdb's database_tag and retention_policy_tag, influxdb_v2's bucket_tag).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "lineproto/serializer.hpp"
#include "sluice/metric.hpp"

namespace sluice::core {

// One part of the destination: the value of `tag` when the metric has it, else `fallback`.
struct RouteTag {
  std::string tag;  // empty: always the fallback
  std::string fallback;
  bool exclude = false;  // leave the tag out of the written line
};

// The metrics of a batch that go to one destination, as line protocol.
struct RoutedBody {
  std::vector<std::string> destination;  // one value per RouteTag, in the same order
  std::string text;
  size_t metrics = 0;
};

// Serializes `batch` into one body per distinct destination, in the order in which the
// destinations first appear; metrics keep their order within a body. `out` is reused: its
// strings keep their capacity from the previous call. Metrics with nothing to write (no fields)
// count toward their body but add no text.
void serialize_routed(std::span<const Metric> batch, std::span<const RouteTag> routes,
                      const lineproto::SerializeOptions& options, std::vector<RoutedBody>& out);

}  // namespace sluice::core
