// The options the host handles for every plugin of a kind, and those of the agent section.
// They are declared as tables like a plugin's own, so validation and samples treat all alike.
#pragma once

#include <vector>

#include "plugin/registry.hpp"
#include "sluice/options.hpp"

namespace sluice::config {

extern const std::vector<OptionSpec> kAgentOptions;

// The host's options for plugins of `kind` (alias, filters, interval, buffer...).
const std::vector<OptionSpec>& common_options(plugin::Kind kind);

// Everything a plugin accepts: the host's common options, then the plugin's own, then, for
// outputs that write bytes, `data_format` and every serializer's options.
std::vector<OptionSpec> all_options(const plugin::PluginInfo& info,
                                    const plugin::Registry& registry);

}  // namespace sluice::config
