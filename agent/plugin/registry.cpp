#include "plugin/registry.hpp"

#include <atomic>
#include <stdexcept>

namespace sluice::plugin {

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kInput: return "input";
    case Kind::kProcessor: return "processor";
    case Kind::kAggregator: return "aggregator";
    case Kind::kOutput: return "output";
    case Kind::kSerializer: return "serializer";
    case Kind::kParser: return "parser";
  }
  return "?";
}

std::string_view kind_section(Kind kind) {
  switch (kind) {
    case Kind::kInput: return "inputs";
    case Kind::kProcessor: return "processors";
    case Kind::kAggregator: return "aggregators";
    case Kind::kOutput: return "outputs";
    case Kind::kSerializer: return "serializers";
    case Kind::kParser: return "parsers";
  }
  return "?";
}

void Registry::add(PluginInfo info) {
  auto key = std::make_pair(info.kind, info.name);
  if (auto it = plugins_.find(key); it != plugins_.end()) {
    throw std::runtime_error(std::string(kind_name(info.kind)) + " plugin \"" + info.name +
                             "\" from " + info.origin + " clashes with the one from " +
                             it->second.origin);
  }
  plugins_.emplace(std::move(key), std::move(info));
}

const PluginInfo* Registry::find(Kind kind, std::string_view name) const {
  auto it = plugins_.find(std::make_pair(kind, std::string(name)));
  return it == plugins_.end() ? nullptr : &it->second;
}

std::vector<const PluginInfo*> Registry::list(Kind kind) const {
  std::vector<const PluginInfo*> out;
  for (const auto& [key, info] : plugins_) {
    if (key.first == kind) out.push_back(&info);
  }
  return out;
}

const Registry& Registry::builtins() {
  static const Registry registry = [] {
    Registry r;
    register_builtin_plugins(r);
    return r;
  }();
  return registry;
}

namespace {
std::atomic<const Registry*> active_registry{nullptr};
}  // namespace

const Registry& Registry::active() {
  const Registry* registry = active_registry.load();
  return registry != nullptr ? *registry : builtins();
}

void Registry::set_active(const Registry& registry) { active_registry.store(&registry); }

}  // namespace sluice::plugin
