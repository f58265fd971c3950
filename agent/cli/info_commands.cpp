// config, plugins and version: the commands that describe sluice itself.
#include <iostream>

#include "cli/commands.hpp"
#include "config/sample.hpp"
#include "plugin/registry.hpp"

namespace sluice::cli {

int config_command(const std::vector<std::string>& inputs,
                   const std::vector<std::string>& processors,
                   const std::vector<std::string>& aggregators,
                   const std::vector<std::string>& outputs) {
  const plugin::Registry& registry = plugin::Registry::builtins();
  config::SampleSelection selection{inputs, processors, aggregators, outputs, false};
  bool chosen = !inputs.empty() || !processors.empty() || !aggregators.empty() || !outputs.empty();
  if (!chosen) {
    // Without a choice: the default set live, every other plugin commented out.
    selection.inputs = {"cpu", "mem", "swap", "disk", "diskio", "net", "system", "kernel",
                        "processes"};
    selection.outputs = {"file"};
    selection.show_all = true;
  }
  const std::pair<plugin::Kind, const std::vector<std::string>*> asked[] = {
      {plugin::Kind::kInput, &inputs},
      {plugin::Kind::kProcessor, &processors},
      {plugin::Kind::kAggregator, &aggregators},
      {plugin::Kind::kOutput, &outputs}};
  for (const auto& [kind, names] : asked) {
    for (const std::string& name : *names) {
      if (registry.find(kind, name) == nullptr) {
        std::cerr << "sluice: unknown " << plugin::kind_name(kind) << " plugin \"" << name
                  << "\"\n";
        return 1;
      }
    }
  }
  std::cout << config::sample_config(registry, selection);
  return 0;
}

int plugins_command(const std::string& options_of) {
  const plugin::Registry& registry = plugin::Registry::builtins();
  constexpr plugin::Kind kKinds[] = {plugin::Kind::kInput, plugin::Kind::kProcessor,
                                     plugin::Kind::kAggregator, plugin::Kind::kOutput,
                                     plugin::Kind::kSerializer};
  if (!options_of.empty()) {
    for (plugin::Kind kind : kKinds) {
      std::string prefix = std::string(plugin::kind_section(kind)) + ".";
      if (options_of.rfind(prefix, 0) != 0) continue;
      if (const plugin::PluginInfo* info = registry.find(kind, options_of.substr(prefix.size()))) {
        std::cout << config::options_markdown(*info);
        return 0;
      }
    }
    std::cerr << "sluice: no plugin \"" << options_of << "\" (write it as inputs.cpu, outputs.file, ...)\n";
    return 1;
  }
  for (plugin::Kind kind : kKinds) {
    std::cout << plugin::kind_section(kind) << ":\n";
    for (const plugin::PluginInfo* info : registry.list(kind)) {
      std::cout << "  " << info->name << std::string(info->name.size() < 20 ? 20 - info->name.size() : 1, ' ')
                << info->description << "  [" << info->origin << "]\n";
    }
  }
  return 0;
}

int version_command() {
  std::cout << "sluice " << SLUICE_VERSION << "\n";
  return 0;
}

}  // namespace sluice::cli
