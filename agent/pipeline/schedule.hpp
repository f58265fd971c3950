// When inputs gather and outputs flush. Pure arithmetic, so it is tested without threads.
#pragma once

#include <cstdint>

namespace sluice::pipeline {

struct Schedule {
  int64_t interval = 10'000'000'000;
  bool round_interval = true;
  int64_t offset = 0;
};

// The first tick at or after `now`: with round_interval the next multiple of the interval
// (wall-clock aligned: :00, :10, ...), otherwise now; plus the offset.
int64_t first_tick(const Schedule& schedule, int64_t now);

struct NextTick {
  int64_t tick;      // the next tick to gather at
  uint64_t skipped;  // ticks that passed while the last gather was still running
};

// After the gather of `tick` finished at `finished_at`: the next tick is tick + interval,
// unless the gather overran it; overrun ticks are skipped (and counted), never run late, so the
// schedule keeps its alignment and never drifts.
NextTick next_tick(const Schedule& schedule, int64_t tick, int64_t finished_at);

// A uniformly random duration in [0, max) (0 when max <= 0).
int64_t random_jitter(int64_t max);

}  // namespace sluice::pipeline
