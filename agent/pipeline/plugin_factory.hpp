// Creating plugin instances from their config. Errors a plugin raises while it is created
// (OptionError, or anything else) become ConfigErrors naming the file, line, column, plugin
// and option.
#pragma once

#include <utility>

#include "config/config.hpp"
#include "sluice/plugin.hpp"

namespace sluice::pipeline {

// Runs `make` (which builds a plugin or its host wrapper) and turns its errors into
// ConfigErrors pointing at `config`.
template <typename Make>
auto within_plugin_config(const config::PluginConfig& config, Make&& make) {
  try {
    return std::forward<Make>(make)();
  } catch (const config::ConfigError&) {
    throw;
  } catch (const OptionError& e) {
    throw config::ConfigError(config.where(e.option()) + ": " + config.id() + ": option \"" +
                              e.option() + "\": " + e.what());
  } catch (const std::exception& e) {
    throw config::ConfigError(config.location + ": " + config.id() + ": " + e.what());
  }
}

// Calls the plugin's factory with its options and logger.
template <typename Factory>
auto create_plugin(const config::PluginConfig& config, const Factory& factory, Logger& log) {
  if (!factory) {
    throw config::ConfigError(config.location + ": " + config.id() +
                              ": the plugin cannot be created as a " +
                              std::string(plugin::kind_name(config.kind)));
  }
  auto instance = factory(PluginContext{config.options, log, config.state_dir});
  if (!instance) throw config::ConfigError(config.location + ": " + config.id() + ": not created");
  return instance;
}

}  // namespace sluice::pipeline
