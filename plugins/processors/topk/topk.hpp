// topk: the top (or bottom) K series per period by an aggregation of their fields.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "sluice/plugin.hpp"

namespace sluice::processors::topk {

// Creates the processor with its own clock (monotonic nanoseconds), so tests control time.
std::unique_ptr<Processor> make_topk(const Options& options, Logger& log,
                                     std::function<int64_t()> now_ns);

}  // namespace sluice::processors::topk
