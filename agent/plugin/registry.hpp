// The registry of plugins by kind and name. Built-ins are added by an explicit call generated
// at build time (builtin_plugins.cpp), not by static initialisers the linker may drop.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/options.hpp"
#include "sluice/plugin.hpp"

namespace sluice::plugin {

enum class Kind { kInput, kProcessor, kAggregator, kOutput, kSerializer, kParser };

std::string_view kind_name(Kind kind);        // "input", "processor", ...
std::string_view kind_section(Kind kind);     // "inputs", "processors", ... (config section)

struct PluginInfo {
  Kind kind = Kind::kInput;
  std::string name;
  std::string description;
  std::vector<OptionSpec> options;
  // Outputs that write bytes take `data_format` and the options of every serializer.
  bool uses_serializer = false;
  // Inputs that read bytes take `data_format` and the options of every parser.
  bool uses_parser = false;
  // Inputs that report differences between gathers (cpu, procstat): `sluice test` gathers
  // them twice and prints the second.
  bool needs_previous_gather = false;
  // Where the plugin comes from: "built-in" or the path of its shared object.
  std::string origin = "built-in";
  // A shared object's own version (empty for built-ins, which have the agent's), and its kind
  // as the library declares it ("input", "service input", "processor", ...).
  std::string version;
  std::string library_kind;

  // Exactly one factory is set, the one matching `kind`.
  std::function<std::unique_ptr<Input>(const PluginContext&)> create_input;
  std::function<std::unique_ptr<Processor>(const PluginContext&)> create_processor;
  std::function<std::unique_ptr<Aggregator>(const PluginContext&)> create_aggregator;
  std::function<std::unique_ptr<Output>(const PluginContext&)> create_output;
  std::function<std::unique_ptr<Serializer>(const PluginContext&)> create_serializer;
  std::function<std::unique_ptr<Parser>(const PluginContext&)> create_parser;
};

class Registry {
 public:
  // Throws std::runtime_error naming both origins when the kind and name are taken.
  void add(PluginInfo info);
  const PluginInfo* find(Kind kind, std::string_view name) const;
  std::vector<const PluginInfo*> list(Kind kind) const;  // sorted by name

  // The registry of built-in plugins, filled on first use.
  static const Registry& builtins();

  // The registry of the running configuration (the built-ins and the loaded shared objects),
  // where data formats are looked up when plugins are created. Registries set here must live
  // for the process, as the loader's do.
  static const Registry& active();
  static void set_active(const Registry& registry);

 private:
  std::map<std::pair<Kind, std::string>, PluginInfo, std::less<>> plugins_;
};

// Generated at build time: adds every plugin under plugins/ to the registry.
void register_builtin_plugins(Registry& registry);

}  // namespace sluice::plugin
