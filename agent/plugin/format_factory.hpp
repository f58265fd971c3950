// Picks the serializer of an output's, or the parser of an input's, `data_format`.
#pragma once

#include <memory>

#include "sluice/plugin.hpp"

namespace sluice::plugin {

// Create the serializer or parser named by the option `data_format`, from the active registry
// (the built-ins and the loaded shared objects), configured with the same options. Throw
// OptionError("data_format") for an unknown format, naming the known ones.
std::unique_ptr<Serializer> make_serializer(const PluginContext& context);
std::unique_ptr<Parser> make_parser(const PluginContext& context);

}  // namespace sluice::plugin
