// Logs Kafka errors once per outage: librdkafka reports a broker that is down on every
// reconnect attempt, and an unknown topic on every metadata refresh. Each kind of error is
// logged when first seen, in the broker's words, then kept quiet until the consumer works again
// (it reads a message, commits, or is assigned partitions) or `repeat_after` has passed, when
// it is logged again with how often it recurred meanwhile.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "sluice/plugin.hpp"

namespace sluice::inputs::kafka_consumer {

class OutageLog {
 public:
  using Clock = std::chrono::steady_clock;

  explicit OutageLog(Logger& log, Clock::duration repeat_after = std::chrono::minutes(5))
      : log_(log), repeat_after_(repeat_after) {}

  // `kind` tells errors apart (an error code, with the topic it concerns); `text` is what is
  // logged. Safe from any thread.
  void error(const std::string& kind, const std::string& text,
             Clock::time_point now = Clock::now()) {
    std::lock_guard lock(mutex_);
    auto [it, first] = seen_.try_emplace(kind, Seen{now, 0});
    if (!first) {
      if (now - it->second.logged < repeat_after_) {
        ++it->second.repeats;
        return;
      }
      log_.warn(fmt::format("Kafka: {} (still failing: {} more times since it was first logged)",
                            text, it->second.repeats));
      it->second = Seen{now, 0};
      return;
    }
    log_.warn("Kafka: " + text);
  }

  // The consumer works: the next error is news again.
  void recovered() {
    std::lock_guard lock(mutex_);
    seen_.clear();
  }

 private:
  struct Seen {
    Clock::time_point logged;
    uint64_t repeats = 0;
  };
  Logger& log_;
  const Clock::duration repeat_after_;
  std::mutex mutex_;
  std::map<std::string, Seen> seen_;
};

}  // namespace sluice::inputs::kafka_consumer
