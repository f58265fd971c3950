// The loaded, validated configuration: the agent's settings and one PluginConfig per plugin
// instance. Loading never starts anything; the pipeline is built from this.
#pragma once

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "plugin/registry.hpp"
#include "sluice/options.hpp"

namespace sluice::config {

// A config problem, its message starting with "FILE:LINE:COL: " where the place is known.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct AgentSettings {
  std::chrono::nanoseconds interval{std::chrono::seconds(10)};
  bool round_interval = true;
  std::chrono::nanoseconds collection_jitter{0};
  std::chrono::nanoseconds collection_offset{0};
  std::chrono::nanoseconds flush_interval{std::chrono::seconds(10)};
  std::chrono::nanoseconds flush_jitter{0};
  size_t metric_batch_size = 1000;
  size_t metric_buffer_limit = 10000;
  std::chrono::nanoseconds precision{0};  // 0: keep nanoseconds
  std::string hostname;                    // empty: the machine's hostname
  bool omit_hostname = false;
  std::string log_level = "info";  // debug | info | warn | error
  std::string logfile;             // empty: stderr
  std::vector<std::string> plugin_dirs;
  std::string plugin_load_error = "error";  // error | skip
  std::chrono::nanoseconds shutdown_timeout{std::chrono::seconds(30)};
  bool skip_processors_after_aggregators = false;
  std::string state_dir = "/var/lib/sluice";  // where plugins keep what survives a restart
};

struct PluginConfig {
  plugin::Kind kind = plugin::Kind::kInput;
  const plugin::PluginInfo* info = nullptr;
  std::string name;
  std::string alias;
  Options options;  // the plugin's own options and the host's common ones, all validated
  std::string location;                          // "FILE:LINE:COL" of the plugin's entry
  std::map<std::string, std::string> option_locations;  // option name -> "FILE:LINE:COL"
  // The plugin's config as written (after ${VAR} substitution); on reload an unchanged
  // identity keeps the running instance and its buffer.
  std::string identity;
  // agent.state_dir, for plugins that keep state across restarts (tail's read offsets).
  std::string state_dir;

  // "inputs.cpu" or "inputs.cpu::alias", as in every log line of the plugin.
  std::string id() const;
  // Where an option was set, or where the plugin's entry starts.
  std::string where(const std::string& option) const;
};

struct Config {
  AgentSettings agent;
  std::string agent_identity;  // outputs depend on agent defaults too
  StringMap global_tags;
  std::vector<PluginConfig> inputs, processors, aggregators, outputs;
  std::vector<std::string> files;  // the files it was read from, in order
  // The registry plugin names were looked up in: with LoadOptions::load_plugins, the built-ins
  // and the plugin shared objects of agent.plugin_dirs (which lives for the process).
  const plugin::Registry* registry = nullptr;
  std::vector<std::string> plugin_warnings;  // libraries skipped, and other notes of loading
};

struct LoadOptions {
  std::vector<std::string> files;        // --config, repeatable
  std::vector<std::string> directories;  // --config-directory: every *.yaml, in name order
  // --input-filter / --output-filter: keep only plugins of these names (empty: all).
  std::vector<std::string> input_filter;
  std::vector<std::string> output_filter;
  // The registry that plugin names are looked up in.
  const plugin::Registry* registry = &plugin::Registry::builtins();
  // Read agent.plugin_dirs (or `plugin_dirs`) first, load the plugin shared objects there, and
  // look names up in `registry` plus their plugins. Off for configs that name only built-ins.
  bool load_plugins = false;
  std::vector<std::string> plugin_dirs;  // --plugin-dir: used instead of agent.plugin_dirs
};

// Where plugin shared objects come from: `--plugin-dir`, else agent.plugin_dirs of the files.
struct PluginSettings {
  std::vector<std::string> dirs;
  std::string load_error = "error";  // agent.plugin_load_error
};
// Reads only the agent sections of the files of `options` (none: the defaults). Throws
// ConfigError.
PluginSettings plugin_settings(const LoadOptions& options);

// Reads, substitutes ${VAR}, merges and validates. Throws ConfigError.
Config load(const LoadOptions& options);
// The same for YAML text (tests, `sluice check` on stdin); `name` stands for the file name.
Config load_text(const std::string& yaml, const std::string& name,
                 const plugin::Registry& registry = plugin::Registry::builtins());

}  // namespace sluice::config
