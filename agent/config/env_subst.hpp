// ${VAR} and ${VAR:-default} inside config scalars.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sluice::config {

// Replaces every ${VAR} with the variable's value and ${VAR:-default} with the value, or the
// default when VAR is unset or empty. "$${" stands for a literal "${". Returns the text, or
// sets `error` (and returns nullopt) for an unset variable without default or a bad reference.
std::optional<std::string> substitute_env(std::string_view text, std::string& error);

}  // namespace sluice::config
