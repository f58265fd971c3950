#include "pipeline/clock.hpp"

#include <algorithm>
#include <chrono>

namespace sluice::pipeline {

int64_t SystemClock::now() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool SystemClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             int64_t deadline, const std::function<bool()>& wake) const {
  // Wait in slices of at most a second so a wall-clock step does not strand a waiter.
  constexpr int64_t kMaxSlice = 1'000'000'000;
  while (!wake()) {
    int64_t left = deadline - now();
    if (left <= 0) return false;
    cv.wait_for(lock, std::chrono::nanoseconds(std::min(left, kMaxSlice)));
  }
  return true;
}

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

bool ManualClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             int64_t deadline, const std::function<bool()>& wake) const {
  ++waiters_;
  bool woken = true;
  while (!wake()) {
    if (now() >= deadline) {
      woken = false;
      break;
    }
    cv.wait_for(lock, std::chrono::milliseconds(1));
  }
  --waiters_;
  return woken;
}

}  // namespace sluice::pipeline
