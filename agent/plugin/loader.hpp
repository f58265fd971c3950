// Loading plugin shared objects. Every *.so of the plugin folders is checked (owner and
// permissions of the file and its folder), loaded with dlopen(RTLD_NOW | RTLD_LOCAL), asked
// for its descriptors through sluice_plugin_init, checked again (ABI version, struct sizes,
// callbacks, options, name clashes), and its plugins join a registry with the built-ins.
//
// A library whose plugins joined a registry is never unloaded: instances may live anywhere in
// the pipeline, even across reloads, and so may the registry entries that create them. Loading
// the same folders again (on reload) reuses what is loaded and adds only new files.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "plugin/registry.hpp"

namespace sluice::plugin {

// agent.plugin_load_error: stop at a library that cannot be loaded, or log it and go on.
enum class LoadErrorPolicy { kError, kSkip };

// A library was refused under LoadErrorPolicy::kError; the message names the file and why.
class PluginLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LibraryReport {
  std::string path;
  std::string version;
  std::vector<std::pair<std::string, std::string>> plugins;  // (kind as the ABI says, name)
};

struct PluginSet {
  // The base registry's plugins and the loaded libraries'. It lives for the rest of the
  // process, as pipelines and carried-over outputs keep pointers into it.
  const Registry* registry = nullptr;
  std::vector<LibraryReport> libraries;  // in load order
  // Libraries refused under kSkip and other notes, each naming the file.
  std::vector<std::string> warnings;
};

// Loads the *.so files of `dirs` (each folder's in name order) on top of `base`. A folder that
// does not exist is noted in the warnings and otherwise ignored. Throws PluginLoadError under
// kError when a library is refused.
PluginSet load_plugins(const std::vector<std::string>& dirs, LoadErrorPolicy policy,
                       const Registry& base = Registry::builtins());

// Why the plugin file or folder at `path` must not be loaded: writable by group or others, or
// owned by neither root nor the agent's user. Empty when it may be.
std::string check_ownership(const std::string& path);

}  // namespace sluice::plugin
