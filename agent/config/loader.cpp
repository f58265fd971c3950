#include <algorithm>
#include <filesystem>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/option_reader.hpp"
#include "config/option_tables.hpp"
#include "plugin/loader.hpp"

namespace sluice::config {
namespace {

namespace fs = std::filesystem;

constexpr plugin::Kind kSectionKinds[] = {plugin::Kind::kInput, plugin::Kind::kProcessor,
                                          plugin::Kind::kAggregator, plugin::Kind::kOutput};

[[noreturn]] void fail(const std::string& file, const YAML::Node& node, const std::string& msg) {
  throw ConfigError(location(file, node) + ": " + msg);
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    std::string where = file;
    if (!e.mark.is_null()) {
      where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    throw ConfigError(where + ": invalid YAML: " + e.msg);
  }
}

std::vector<PluginConfig>& section_of(Config& config, plugin::Kind kind) {
  switch (kind) {
    case plugin::Kind::kProcessor: return config.processors;
    case plugin::Kind::kAggregator: return config.aggregators;
    case plugin::Kind::kOutput: return config.outputs;
    default: return config.inputs;
  }
}

std::string known_names(const plugin::Registry& registry, plugin::Kind kind) {
  std::string names;
  for (const plugin::PluginInfo* info : registry.list(kind)) {
    names += (names.empty() ? "" : ", ") + info->name;
  }
  return names;
}

PluginConfig read_plugin(const YAML::Node& entry, plugin::Kind kind, const std::string& file,
                         const plugin::Registry& registry) {
  std::string section(kind_section(kind));
  if (!entry.IsMap() || entry.size() != 1) {
    fail(file, entry,
         section + ": each entry names one plugin with its options, such as \"- cpu: {}\"");
  }
  auto kv = *entry.begin();
  std::string name = kv.first.Scalar();
  const plugin::PluginInfo* info = registry.find(kind, name);
  if (info == nullptr) {
    fail(file, kv.first, section + ": unknown " + std::string(kind_name(kind)) + " plugin \"" +
                             name + "\" (known: " + known_names(registry, kind) + ")");
  }
  PluginConfig pc;
  pc.kind = kind;
  pc.info = info;
  pc.name = name;
  pc.location = location(file, kv.first);
  std::vector<OptionSpec> table = all_options(*info, registry);
  std::string what = section + "." + name;
  // The alias belongs in every message, so read it first.
  if (kv.second.IsMap() && kv.second["alias"] && kv.second["alias"].IsScalar()) {
    pc.alias = scalar_text(kv.second["alias"], file, what);
    what += "::" + pc.alias;
  }
  OptionReadResult read = read_options(kv.second, table, file, what);
  pc.options = std::move(read.options);
  pc.option_locations = std::move(read.locations);
  pc.identity = section + "." + name + ":" + YAML::Dump(kv.second);
  return pc;
}

void merge_agent_options(Options& merged, const Options& from_file) {
  for (const OptionSpec& spec : kAgentOptions) {
    if (from_file.is_set(spec.name)) {
      merged.set(std::string(spec.name), from_file.value(spec.name), true);
    }
  }
}

AgentSettings agent_settings(const Options& o, const std::string& where) {
  AgentSettings a;
  a.interval = o.get_duration("interval");
  a.round_interval = o.get_bool("round_interval");
  a.collection_jitter = o.get_duration("collection_jitter");
  a.collection_offset = o.get_duration("collection_offset");
  a.flush_interval = o.get_duration("flush_interval");
  a.flush_jitter = o.get_duration("flush_jitter");
  if (o.get_int("metric_batch_size") <= 0 || o.get_int("metric_buffer_limit") <= 0) {
    throw ConfigError(where + ": agent: metric_batch_size and metric_buffer_limit must be positive");
  }
  a.metric_batch_size = static_cast<size_t>(o.get_int("metric_batch_size"));
  a.metric_buffer_limit = static_cast<size_t>(o.get_int("metric_buffer_limit"));
  a.precision = o.get_duration("precision");
  a.hostname = o.get_string("hostname");
  a.omit_hostname = o.get_bool("omit_hostname");
  a.log_level = o.get_string("log_level");
  if (o.get_bool("debug")) a.log_level = "debug";
  if (o.get_bool("quiet")) a.log_level = "error";
  static const char* kLevels[] = {"debug", "info", "warn", "error"};
  if (std::find(std::begin(kLevels), std::end(kLevels), a.log_level) == std::end(kLevels)) {
    throw ConfigError(where + ": agent: option \"log_level\": expected debug, info, warn or error, got \"" +
                      a.log_level + "\"");
  }
  a.logfile = o.get_string("logfile");
  a.plugin_dirs = o.get_strings("plugin_dirs");
  a.plugin_load_error = o.get_string("plugin_load_error");
  if (a.plugin_load_error != "error" && a.plugin_load_error != "skip") {
    throw ConfigError(where +
                      ": agent: option \"plugin_load_error\": expected error or skip, got \"" +
                      a.plugin_load_error + "\"");
  }
  a.shutdown_timeout = o.get_duration("shutdown_timeout");
  a.skip_processors_after_aggregators = o.get_bool("skip_processors_after_aggregators");
  a.state_dir = o.get_string("state_dir");
  if (a.state_dir.empty()) {
    throw ConfigError(where + ": agent: option \"state_dir\": give a folder");
  }
  if (a.interval.count() <= 0 || a.flush_interval.count() <= 0) {
    throw ConfigError(where + ": agent: interval and flush_interval must be longer than 0s");
  }
  return a;
}

// Reads one file's sections into `config`.
void read_document(const YAML::Node& root, const std::string& file, Config& config,
                   Options& agent_options, const plugin::Registry& registry) {
  if (!root || root.IsNull()) return;  // an empty file adds nothing
  if (!root.IsMap()) fail(file, root, "the top level must be a map with agent, inputs, outputs, ...");
  static const std::vector<std::string> kSections = {"agent",      "global_tags", "inputs",
                                                     "processors", "aggregators", "outputs"};
  for (const auto& kv : root) {
    const std::string& key = kv.first.Scalar();
    if (std::find(kSections.begin(), kSections.end(), key) == kSections.end()) {
      fail(file, kv.first, "unknown section \"" + key +
                               "\" (sections: agent, global_tags, inputs, processors, "
                               "aggregators, outputs)");
    }
  }
  if (YAML::Node agent = root["agent"]) {
    OptionReadResult read = read_options(agent, kAgentOptions, file, "agent");
    merge_agent_options(agent_options, read.options);
    config.agent_identity += YAML::Dump(agent) + "\n";
  }
  if (YAML::Node tags = root["global_tags"]) {
    if (!tags.IsNull() && !tags.IsMap()) fail(file, tags, "global_tags: expected a map of tags");
    for (const auto& kv : tags) {
      std::string key = scalar_text(kv.first, file, "global_tags");
      std::string value = scalar_text(kv.second, file, "global_tags");
      std::erase_if(config.global_tags, [&](const auto& t) { return t.first == key; });
      config.global_tags.emplace_back(key, value);
    }
  }
  for (plugin::Kind kind : kSectionKinds) {
    YAML::Node list = root[std::string(kind_section(kind))];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence()) {
      fail(file, list, std::string(kind_section(kind)) +
                           ": expected a list of plugins, each line starting with \"- \"");
    }
    for (const YAML::Node& entry : list) {
      section_of(config, kind).push_back(read_plugin(entry, kind, file, registry));
    }
  }
}

Config finish(Config config, Options agent_options) {
  std::string where = config.files.empty() ? "<config>" : config.files.front();
  // Options never set by any file take their defaults.
  OptionReadResult defaults = read_options(YAML::Node(), kAgentOptions, "<default>", "agent");
  merge_agent_options(defaults.options, agent_options);
  config.agent = agent_settings(defaults.options, where);
  for (auto* list : {&config.inputs, &config.processors, &config.aggregators, &config.outputs}) {
    for (PluginConfig& pc : *list) pc.state_dir = config.agent.state_dir;
  }
  // Processors run by `order`, then in file order.
  std::stable_sort(config.processors.begin(), config.processors.end(),
                   [](const PluginConfig& a, const PluginConfig& b) {
                     return a.options.get_int("order") < b.options.get_int("order");
                   });
  return config;
}

std::string read_whole_file(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw ConfigError(path + ": cannot read config file: " +
                      (fs::exists(path, ec) ? "not a regular file" : "no such file"));
  }
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw ConfigError(path + ": cannot read config file: " + std::strerror(errno));
  std::string text;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  std::fclose(f);
  return text;
}

}  // namespace

std::string PluginConfig::id() const {
  std::string id = std::string(kind_section(kind)) + "." + name;
  if (!alias.empty()) id += "::" + alias;
  return id;
}

std::string PluginConfig::where(const std::string& option) const {
  auto it = option_locations.find(option);
  return it != option_locations.end() ? it->second : location;
}

namespace {

std::vector<std::string> config_files(const LoadOptions& options) {
  std::vector<std::string> files = options.files;
  for (const std::string& dir : options.directories) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw ConfigError(dir + ": config directory does not exist");
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      std::string ext = entry.path().extension().string();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) {
        found.push_back(entry.path().string());
      }
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

using Documents = std::vector<std::pair<std::string, YAML::Node>>;

Documents read_documents(const std::vector<std::string>& files) {
  Documents documents;
  for (const std::string& file : files) {
    documents.emplace_back(file, parse_yaml(read_whole_file(file), file));
  }
  return documents;
}

// The first of two phases: the agent sections alone, for where plugin libraries are. The
// second phase reads everything against the registry those libraries extend.
PluginSettings plugin_settings_of(const Documents& documents, const LoadOptions& options) {
  Options agent_options;
  for (const auto& [file, root] : documents) {
    if (!root || !root.IsMap() || !root["agent"]) continue;  // the second phase says what is wrong
    OptionReadResult read = read_options(root["agent"], kAgentOptions, file, "agent");
    merge_agent_options(agent_options, read.options);
  }
  std::string where = documents.empty() ? "<config>" : documents.front().first;
  OptionReadResult defaults = read_options(YAML::Node(), kAgentOptions, "<default>", "agent");
  merge_agent_options(defaults.options, agent_options);
  AgentSettings agent = agent_settings(defaults.options, where);
  PluginSettings settings;
  settings.dirs = options.plugin_dirs.empty() ? agent.plugin_dirs : options.plugin_dirs;
  settings.load_error = agent.plugin_load_error;
  return settings;
}

}  // namespace

PluginSettings plugin_settings(const LoadOptions& options) {
  return plugin_settings_of(read_documents(config_files(options)), options);
}

Config load(const LoadOptions& options) {
  std::vector<std::string> files = config_files(options);
  if (files.empty()) throw ConfigError("no config file given and none found");
  Documents documents = read_documents(files);
  Config config;
  config.registry = options.registry;
  if (options.load_plugins) {
    PluginSettings settings = plugin_settings_of(documents, options);
    try {
      plugin::PluginSet set = plugin::load_plugins(
          settings.dirs,
          settings.load_error == "skip" ? plugin::LoadErrorPolicy::kSkip
                                        : plugin::LoadErrorPolicy::kError,
          *options.registry);
      config.registry = set.registry;
      plugin::Registry::set_active(*set.registry);  // data formats of the libraries too
      config.plugin_warnings = std::move(set.warnings);
    } catch (const plugin::PluginLoadError& e) {
      throw ConfigError(e.what());
    }
  }
  Options agent_options;
  for (const auto& [file, root] : documents) {
    config.files.push_back(file);
    read_document(root, file, config, agent_options, *config.registry);
  }
  auto keep_named = [](std::vector<PluginConfig>& plugins, const std::vector<std::string>& names) {
    if (names.empty()) return;
    std::erase_if(plugins, [&](const PluginConfig& pc) {
      return std::find(names.begin(), names.end(), pc.name) == names.end();
    });
  };
  keep_named(config.inputs, options.input_filter);
  keep_named(config.outputs, options.output_filter);
  return finish(std::move(config), std::move(agent_options));
}

Config load_text(const std::string& yaml, const std::string& name,
                 const plugin::Registry& registry) {
  Config config;
  config.registry = &registry;
  Options agent_options;
  config.files.push_back(name);
  read_document(parse_yaml(yaml, name), name, config, agent_options, registry);
  return finish(std::move(config), std::move(agent_options));
}

}  // namespace sluice::config
