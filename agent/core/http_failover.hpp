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

// Writes each body that has text with write_with_failover(post(i, body)), logging each move to
// the next URL. The batch's verdict: the first retry at once (bodies already written go again
// with the retried batch; InfluxDB keeps one point per series and timestamp, so the repeat
// overwrites them with the same values), else a split (it redoes the whole batch), else the first
// rejection, else ok.
template <typename Bodies, typename Post>
WriteResult write_bodies_with_failover(const Bodies& bodies, size_t count, size_t& current,
                                       Post post, Logger& log) {
  WriteResult verdict = WriteResult::ok();
  for (const auto& body : bodies) {
    if (body.text.empty()) continue;
    WriteResult result = write_with_failover(
        count, current, [&](size_t i) { return post(i, body); },
        [&](const std::string& error) { log.warn(error + "; trying the next URL"); });
    if (result.status == WriteResult::Status::kRetry) return result;
    if (result.status == WriteResult::Status::kSplit ||
        (result.status == WriteResult::Status::kReject &&
         verdict.status == WriteResult::Status::kOk)) {
      verdict = std::move(result);
    }
  }
  return verdict;
}

}  // namespace sluice::core
