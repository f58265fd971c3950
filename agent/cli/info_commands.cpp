// config, plugins and version: the commands that describe sluice itself.
#include <iostream>

#include "cli/commands.hpp"
#include "config/sample.hpp"
#include "plugin/loader.hpp"
#include "plugin/registry.hpp"

namespace sluice::cli {
namespace {

// The built-ins and the plugin shared objects of `plugin_dirs`, else of agent.plugin_dirs in
// the default config. `skip` overrides agent.plugin_load_error. Throws what loading throws.
plugin::PluginSet plugin_set(const std::vector<std::string>& plugin_dirs, bool skip) {
  CommonOptions common;
  common.plugin_dirs = plugin_dirs;
  config::PluginSettings settings;
  try {
    settings = config::plugin_settings(load_options(common));
  } catch (const config::ConfigError& e) {
    // Describing plugins should not depend on a config that may be broken.
    std::cerr << "sluice: warning: " << e.what() << "; using the default plugin folders\n";
    config::LoadOptions defaults;
    defaults.plugin_dirs = plugin_dirs;
    settings = config::plugin_settings(defaults);
  }
  bool skipping = skip || settings.load_error == "skip";
  return plugin::load_plugins(settings.dirs, skipping ? plugin::LoadErrorPolicy::kSkip
                                                      : plugin::LoadErrorPolicy::kError);
}

}  // namespace

int config_command(const std::vector<std::string>& inputs,
                   const std::vector<std::string>& processors,
                   const std::vector<std::string>& aggregators,
                   const std::vector<std::string>& outputs,
                   const std::vector<std::string>& plugin_dirs) {
  plugin::PluginSet set;
  try {
    set = plugin_set(plugin_dirs, false);
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return 1;
  }
  for (const std::string& w : set.warnings) std::cerr << "sluice: warning: " << w << "\n";
  const plugin::Registry& registry = *set.registry;
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

int plugins_command(const std::string& options_of, const std::vector<std::string>& plugin_dirs) {
  // Listing is for finding out what loads: every refusal is shown, none stops it.
  plugin::PluginSet set;
  try {
    set = plugin_set(plugin_dirs, true);
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return 1;
  }
  const plugin::Registry& registry = *set.registry;
  constexpr plugin::Kind kKinds[] = {plugin::Kind::kInput, plugin::Kind::kProcessor,
                                     plugin::Kind::kAggregator, plugin::Kind::kOutput,
                                     plugin::Kind::kSerializer, plugin::Kind::kParser};
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
                << info->description << "  [" << info->origin;
      if (!info->version.empty()) std::cout << ", version " << info->version;
      if (!info->library_kind.empty()) std::cout << ", " << info->library_kind;
      std::cout << "]\n";
    }
  }
  if (!set.libraries.empty()) {
    std::cout << "libraries:\n";
    for (const plugin::LibraryReport& lib : set.libraries) {
      std::cout << "  " << lib.path << "  version " << (lib.version.empty() ? "?" : lib.version)
                << ":";
      for (size_t i = 0; i < lib.plugins.size(); ++i) {
        std::cout << (i ? ", " : " ") << lib.plugins[i].first << " " << lib.plugins[i].second;
      }
      std::cout << "\n";
    }
  }
  if (!set.warnings.empty()) {
    std::cout << "warnings:\n";
    for (const std::string& w : set.warnings) std::cout << "  " << w << "\n";
  }
  return 0;
}

int version_command() {
  std::cout << "sluice " << SLUICE_VERSION << "\n";
  return 0;
}

}  // namespace sluice::cli
