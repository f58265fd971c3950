// Config text generated from the option tables: `sluice config` and the plugins' READMEs.
#pragma once

#include <string>
#include <vector>

#include "plugin/registry.hpp"

namespace sluice::config {

struct SampleSelection {
  // Plugins to show enabled, by kind. Empty lists with `all_commented` show every plugin of the
  // registry, the `enabled` ones live and the rest commented out.
  std::vector<std::string> inputs, processors, aggregators, outputs;
  bool show_all = false;
};

// A whole config file: the agent section and the selected plugins with their options.
std::string sample_config(const plugin::Registry& registry, const SampleSelection& selection);

// One plugin's entry as it appears under its section, e.g. "  - cpu:\n      # percpu: true\n".
std::string sample_plugin(const plugin::PluginInfo& info, bool commented);

// The plugin's options as a Markdown table (name, type, default, description), for its README.
std::string options_markdown(const plugin::PluginInfo& info);

// How a default is shown: the table's YAML, or the type's zero value.
std::string default_text(const OptionSpec& spec);
std::string type_name(OptionType type);

}  // namespace sluice::config
