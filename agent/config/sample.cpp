#include "config/sample.hpp"

#include <algorithm>

#include "config/option_tables.hpp"

namespace sluice::config {
namespace {

std::string indent_lines(const std::string& text, const std::string& prefix) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    out += line.empty() ? "\n" : prefix + line + "\n";
    start = end + 1;
  }
  return out;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::string type_name(OptionType type) {
  switch (type) {
    case OptionType::kBool: return "bool";
    case OptionType::kInt: return "integer";
    case OptionType::kFloat: return "number";
    case OptionType::kString: return "string";
    case OptionType::kDuration: return "duration";
    case OptionType::kSize: return "size";
    case OptionType::kStringList: return "list of strings";
    case OptionType::kStringMap: return "map of strings";
    case OptionType::kStringMapList: return "list of maps";
    case OptionType::kStringListMap: return "map of lists";
  }
  return "?";
}

std::string default_text(const OptionSpec& spec) {
  if (!spec.default_yaml.empty()) return std::string(spec.default_yaml);
  switch (spec.type) {
    case OptionType::kBool: return "false";
    case OptionType::kInt:
    case OptionType::kFloat:
    case OptionType::kSize: return "0";
    case OptionType::kDuration: return "0s";
    case OptionType::kString: return "\"\"";
    case OptionType::kStringList:
    case OptionType::kStringMapList: return "[]";
    case OptionType::kStringMap:
    case OptionType::kStringListMap: return "{}";
  }
  return "";
}

std::string sample_plugin(const plugin::PluginInfo& info, bool commented) {
  std::string body = "# " + info.description + "\n- " + info.name + ":\n";
  for (const OptionSpec& spec : info.options) {
    body += "    ## " + std::string(spec.doc) + "\n";
    body += std::string(spec.required ? "    " : "    # ") + std::string(spec.name) + ": " +
            default_text(spec) + "\n";
  }
  if (info.uses_serializer) {
    body += "    ## How metrics are written: influx (line protocol) or json\n";
    body += "    # data_format: influx\n";
  }
  if (info.uses_parser) {
    body += "    ## How the bytes read are parsed (`sluice plugins` lists the formats)\n";
    body += "    # data_format: influx\n";
  }
  return indent_lines(body, commented ? "  # " : "  ");
}

std::string sample_config(const plugin::Registry& registry, const SampleSelection& selection) {
  std::string out =
      "# sluice configuration. Options show their defaults; uncomment to change them.\n"
      "# ${VAR} and ${VAR:-default} are replaced by environment variables.\n\n"
      "agent:\n";
  for (const OptionSpec& spec : kAgentOptions) {
    out += "  ## " + std::string(spec.doc) + "\n";
    out += "  " + std::string(spec.name) + ": " + default_text(spec) + "\n";
  }
  out += "\n# Tags added to every metric.\n# global_tags:\n#   dc: us-east-1\n";
  const std::pair<plugin::Kind, const std::vector<std::string>*> sections[] = {
      {plugin::Kind::kInput, &selection.inputs},
      {plugin::Kind::kProcessor, &selection.processors},
      {plugin::Kind::kAggregator, &selection.aggregators},
      {plugin::Kind::kOutput, &selection.outputs}};
  for (const auto& [kind, names] : sections) {
    std::string entries;
    for (const plugin::PluginInfo* info : registry.list(kind)) {
      bool enabled = contains(*names, info->name);
      if (!enabled && !selection.show_all) continue;
      entries += "\n" + sample_plugin(*info, !enabled);
    }
    if (entries.empty()) continue;
    bool any_enabled = std::any_of(names->begin(), names->end(),
                                   [&](const std::string& n) { return registry.find(kind, n); });
    out += "\n" + std::string(any_enabled ? "" : "# ") + std::string(kind_section(kind)) + ":" +
           entries;
  }
  return out;
}

std::string options_markdown(const plugin::PluginInfo& info) {
  std::string out = "| Option | Type | Default | Description |\n|---|---|---|---|\n";
  for (const OptionSpec& spec : info.options) {
    std::string def = default_text(spec);
    std::replace(def.begin(), def.end(), '|', '/');
    out += "| `" + std::string(spec.name) + "` | " + type_name(spec.type) + " | `" + def +
           "` | " + std::string(spec.doc) + (spec.required ? " (required)" : "") + " |\n";
  }
  return out;
}

}  // namespace sluice::config
