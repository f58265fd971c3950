// The prometheus_client output: keeps the latest value of every series and serves them for
// Prometheus to scrape.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "sluice/plugin.hpp"

namespace sluice::outputs::prometheus_client {

// Wall-clock time in ns since the epoch; series expire by it.
using TimeSource = std::function<int64_t()>;

// The output with its own clock, so tests can drive expiration without waiting. Throws
// OptionError for unacceptable options.
std::unique_ptr<Output> create_output(const PluginContext& context, TimeSource now);

}  // namespace sluice::outputs::prometheus_client
