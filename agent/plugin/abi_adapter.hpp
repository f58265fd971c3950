// The agent's side of the plugin ABI (sluice/plugin_abi.h): the host API every library gets, and
// wrappers that make a descriptor's callbacks look like a built-in Input, Processor, Aggregator,
// Output or Serializer, so that the pipeline's Running* wrappers run them unchanged.
#pragma once

#include <string>

#include "plugin/registry.hpp"
#include "sluice/plugin_abi.h"

namespace sluice::plugin {

// The host API handed to every library's sluice_plugin_init; static.
const sluice_host_api* host_api();

// The ABI's name of a kind: "input", "service input", "processor", ..., "unknown".
std::string_view abi_kind_name(uint32_t kind);

// Why the descriptor cannot be used by this agent, or "" when it can: its size, ABI version,
// kind, name, callbacks and option table are checked.
std::string check_descriptor(const sluice_plugin* descriptor);

// The registry entry of a checked descriptor of the library at `origin`. Its factory creates
// the plugin's instance through the descriptor and wraps it.
PluginInfo plugin_info(const sluice_plugin& descriptor, const std::string& origin,
                       const std::string& version);

}  // namespace sluice::plugin
