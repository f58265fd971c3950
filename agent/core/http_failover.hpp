// Writing to the first of several servers that takes the batch (the `urls` of the InfluxDB
// outputs): the server that answered last is tried first, so its kept-alive connection serves
// the next write too.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "sluice/plugin.hpp"

namespace sluice::core {

// Calls attempt(i) for the endpoints current, current+1, ... (wrapping around), each once, until
// one returns something other than retry: ok, or the server's verdict on the data (reject,
// split), which another server of the same cluster would share. That endpoint becomes
// `current`. When every endpoint asks for a retry, the result is a retry with all their errors
// and the longest Retry-After; `on_failover(error)` is called before moving to the next one.
template <typename Attempt, typename OnFailover>
WriteResult write_with_failover(size_t count, size_t& current, Attempt attempt,
                                OnFailover on_failover) {
  if (count == 0) return WriteResult::retry("no URL to write to");
  std::string errors;
  std::chrono::nanoseconds after{0};
  for (size_t k = 0; k < count; ++k) {
    size_t i = (current + k) % count;
    WriteResult result = attempt(i);
    if (result.status != WriteResult::Status::kRetry) {
      current = i;
      return result;
    }
    if (count == 1) return result;
    if (!errors.empty()) errors += "; ";
    errors += result.error;
    after = std::max(after, result.retry_after);
    if (k + 1 < count) on_failover(result.error);
  }
  current = (current + 1) % count;  // start elsewhere next time
  return WriteResult::retry("no URL took the batch: " + errors, after);
}

}  // namespace sluice::core
