#include "pipeline/running_processor.hpp"

#include <fmt/format.h>

#include "pipeline/plugin_factory.hpp"

namespace sluice::pipeline {

RunningProcessor::RunningProcessor(const config::PluginConfig& config)
    : id_(config.id()),
      log_(id_),
      processor_(create_plugin(config, config.info->create_processor, log_)),
      filter_(core::MetricFilter::from_options(config.options)),
      stats_(StatsRegistry::global().create(config.kind, config.name, config.alias)) {}

Batch RunningProcessor::process(Batch batch) {
  stats_->metrics_in.fetch_add(batch.size(), std::memory_order_relaxed);
  Batch passed_by;
  if (!filter_.selects_everything() || !filter_.modifies_nothing()) {
    // Metrics the filter does not select skip this processor and keep going down the chain.
    Batch selected;
    for (Metric& m : batch) {
      (filter_.selects(m) && filter_.modify(m) ? selected : passed_by).push_back(std::move(m));
    }
    batch = std::move(selected);
  }
  size_t handed_over = batch.size();
  try {
    batch = processor_->process(std::move(batch));
  } catch (const std::exception& e) {
    // The batch was handed to the plugin; what it held is gone with the exception.
    batch.clear();
    stats_->metrics_dropped.fetch_add(handed_over, std::memory_order_relaxed);
    log_.error(fmt::format("processing failed, {} metrics dropped: {}", handed_over, e.what()));
  }
  if (!passed_by.empty()) {
    batch.insert(batch.end(), std::make_move_iterator(passed_by.begin()),
                 std::make_move_iterator(passed_by.end()));
  }
  stats_->metrics_out.fetch_add(batch.size(), std::memory_order_relaxed);
  return batch;
}

Batch run_chain(std::vector<std::unique_ptr<RunningProcessor>>& chain, Batch batch) {
  for (auto& processor : chain) {
    if (batch.empty()) break;
    batch = processor->process(std::move(batch));
  }
  return batch;
}

}  // namespace sluice::pipeline
