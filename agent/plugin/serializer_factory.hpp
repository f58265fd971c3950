// Picks the serializer an output's `data_format` names.
#pragma once

#include <memory>

#include "sluice/plugin.hpp"

namespace sluice::plugin {

// Creates the serializer named by the option `data_format` from the built-in registry,
// configured with the same options. Throws OptionError("data_format") for an unknown format.
std::unique_ptr<Serializer> make_serializer(const PluginContext& context);

}  // namespace sluice::plugin
