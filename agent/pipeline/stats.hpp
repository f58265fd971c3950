// The agent's own counters per plugin instance, read by the `internal` input.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "plugin/registry.hpp"

namespace sluice::pipeline {

struct PluginStats {
  PluginStats(plugin::Kind kind, std::string name, std::string alias)
      : kind(kind), name(std::move(name)), alias(std::move(alias)) {}

  const plugin::Kind kind;
  const std::string name;
  const std::string alias;

  // Inputs.
  std::atomic<uint64_t> metrics_gathered{0};
  std::atomic<uint64_t> gather_errors{0};
  std::atomic<uint64_t> gather_time_ns{0};  // of the last gather
  std::atomic<uint64_t> gathers_skipped{0};
  // Every kind: metrics a filter kept from the plugin (selection) or emptied of fields.
  std::atomic<uint64_t> metrics_filtered{0};
  // Processors and aggregators.
  std::atomic<uint64_t> metrics_in{0};
  std::atomic<uint64_t> metrics_out{0};
  // Aggregators: metrics outside their window or too far ahead; outputs: metrics dropped from
  // a full buffer.
  std::atomic<uint64_t> metrics_dropped{0};
  // Aggregators: of those dropped, the ones stamped beyond max_time_ahead.
  std::atomic<uint64_t> metrics_too_far_ahead{0};
  // Aggregators: series state dropped to stay within max_series.
  std::atomic<uint64_t> series_evicted{0};
  // Outputs.
  std::atomic<uint64_t> metrics_written{0};
  std::atomic<uint64_t> metrics_rejected{0};  // also inputs: records they could not read
  std::atomic<uint64_t> write_errors{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> write_time_ns{0};  // of the last write
  std::atomic<uint64_t> buffer_size{0};
  std::atomic<uint64_t> buffer_limit{0};
};

// Every live PluginStats; an instance disappears with its plugin.
class StatsRegistry {
 public:
  static StatsRegistry& global();
  std::shared_ptr<PluginStats> create(plugin::Kind kind, const std::string& name,
                                      const std::string& alias);
  std::vector<std::shared_ptr<PluginStats>> snapshot();

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<PluginStats>> entries_;
};

}  // namespace sluice::pipeline
