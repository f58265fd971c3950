#include "core/delivery.hpp"

#include "core/log.hpp"

namespace sluice {
namespace {
std::atomic<int64_t> in_flight{0};
}  // namespace

DeliveryGroup::DeliveryGroup(Done done) : done_(std::move(done)) {
  in_flight.fetch_add(1, std::memory_order_relaxed);
}

DeliveryGroup::~DeliveryGroup() {
  in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (!done_) return;
  try {
    done_(!lost_.load(std::memory_order_relaxed));
  } catch (const std::exception& e) {
    core::log_error(std::string("delivery report failed: ") + e.what());
  } catch (...) {
    core::log_error("delivery report failed");
  }
}

int64_t DeliveryGroup::groups_in_flight() { return in_flight.load(std::memory_order_relaxed); }

}  // namespace sluice
