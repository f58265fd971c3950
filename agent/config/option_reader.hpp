// Validates a YAML map against an option table and produces typed Options.
#pragma once

#include <map>
#include <span>
#include <string>

#include <yaml-cpp/yaml.h>

#include "sluice/options.hpp"

namespace sluice::config {

// "FILE:LINE:COL" of a node (1-based, as editors count).
std::string location(const std::string& file, const YAML::Node& node);

// The text of a scalar node after ${VAR} substitution; throws ConfigError at the node.
std::string scalar_text(const YAML::Node& node, const std::string& file, const std::string& what);

struct OptionReadResult {
  Options options;
  std::map<std::string, std::string> locations;  // option -> "FILE:LINE:COL"
};

// Reads `node` (a map, or null for "no options") against `table`. Every option of the table
// gets a value (the user's or the default). An unknown key, a wrong type or a bad value throws
// ConfigError naming FILE:LINE:COL, `what` (e.g. "inputs.cpu") and the option.
OptionReadResult read_options(const YAML::Node& node, std::span<const OptionSpec> table,
                              const std::string& file, const std::string& what);

}  // namespace sluice::config
