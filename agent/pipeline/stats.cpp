#include "pipeline/stats.hpp"

namespace sluice::pipeline {

StatsRegistry& StatsRegistry::global() {
  static StatsRegistry registry;
  return registry;
}

std::shared_ptr<PluginStats> StatsRegistry::create(plugin::Kind kind, const std::string& name,
                                                   const std::string& alias) {
  auto stats = std::make_shared<PluginStats>(kind, name, alias);
  std::lock_guard lock(mutex_);
  std::erase_if(entries_, [](const auto& weak) { return weak.expired(); });
  entries_.push_back(stats);
  return stats;
}

std::vector<std::shared_ptr<PluginStats>> StatsRegistry::snapshot() {
  std::vector<std::shared_ptr<PluginStats>> live;
  std::lock_guard lock(mutex_);
  for (const auto& weak : entries_) {
    if (auto stats = weak.lock()) live.push_back(std::move(stats));
  }
  return live;
}

}  // namespace sluice::pipeline
