// Delivery tracking: a source that must know when its metrics have left the agent (a consumer
// committing offsets, an MQTT client holding back its acknowledgement) puts the metrics of one
// message into a group. The group ends when its last metric is released anywhere in the
// pipeline; then the source is told whether every metric was delivered.
//
//   delivered: each metric was written or rejected by every output that took it, dropped by a
//              filter or a processor, or consumed by an aggregator whose window was pushed;
//   lost:      some metric was dropped unwritten (a full output buffer, shutdown before its
//              write, a removed output), so the source should let the message come again.
//
// Ownership does the counting: metrics hold the group by a shared pointer, so no stage can
// forget to report and lost tracking shows as groups_in_flight() not returning to zero.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "sluice/metric.hpp"

namespace sluice {

class DeliveryGroup {
 public:
  // Called once, on the thread that releases the group's last metric: keep it short and
  // thread-safe (queue the acknowledgement; do not block on the network).
  using Done = std::function<void(bool delivered)>;

  explicit DeliveryGroup(Done done);
  ~DeliveryGroup();
  DeliveryGroup(const DeliveryGroup&) = delete;
  DeliveryGroup& operator=(const DeliveryGroup&) = delete;

  // A metric of the group was dropped without being written.
  void mark_lost() { lost_.store(true, std::memory_order_relaxed); }

  // Groups alive in the process: tests check it returns to zero.
  static int64_t groups_in_flight();

 private:
  Done done_;
  std::atomic<bool> lost_{false};
};

inline DeliveryHandle make_delivery_group(DeliveryGroup::Done done) {
  return std::make_shared<DeliveryGroup>(std::move(done));
}

// Marks the groups of metrics dropped unwritten.
inline void mark_lost(std::span<const Metric> metrics) {
  for (const Metric& m : metrics) {
    if (m.delivery()) m.delivery()->mark_lost();
  }
}

}  // namespace sluice
