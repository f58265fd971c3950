// The host's wrapper around a processor: only metrics its filter selects reach it; the others
// pass by untouched.
#pragma once

#include <memory>

#include "config/config.hpp"
#include "core/filter.hpp"
#include "core/log.hpp"
#include "pipeline/stats.hpp"
#include "sluice/plugin.hpp"

namespace sluice::pipeline {

class RunningProcessor {
 public:
  // Creates the plugin; throws what the plugin throws (see plugin_factory.hpp).
  explicit RunningProcessor(const config::PluginConfig& config);

  const std::string& id() const { return id_; }
  Batch process(Batch batch);

 private:
  std::string id_;
  core::PluginLogger log_;  // before the plugin, which may keep a reference
  std::unique_ptr<Processor> processor_;
  core::MetricFilter filter_;
  std::shared_ptr<PluginStats> stats_;
};

// Runs a batch through processors in order.
Batch run_chain(std::vector<std::unique_ptr<RunningProcessor>>& chain, Batch batch);

}  // namespace sluice::pipeline
