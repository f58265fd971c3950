#include "pipeline/schedule.hpp"

#include <random>

namespace sluice::pipeline {

int64_t first_tick(const Schedule& schedule, int64_t now) {
  int64_t tick = now;
  if (schedule.round_interval && schedule.interval > 0) {
    int64_t remainder = now % schedule.interval;
    if (remainder != 0) tick = now - remainder + schedule.interval;
  }
  return tick + schedule.offset;
}

NextTick next_tick(const Schedule& schedule, int64_t tick, int64_t finished_at) {
  int64_t next = tick + schedule.interval;
  if (finished_at < next) return {next, 0};
  // Ticks at or before finished_at were overrun.
  uint64_t overrun = static_cast<uint64_t>((finished_at - next) / schedule.interval) + 1;
  return {next + static_cast<int64_t>(overrun) * schedule.interval, overrun};
}

int64_t random_jitter(int64_t max) {
  if (max <= 0) return 0;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(0, max - 1)(rng);
}

}  // namespace sluice::pipeline
