#include "plugin/format_factory.hpp"

#include <string>

#include "plugin/registry.hpp"

namespace sluice::plugin {
namespace {

const PluginInfo& find_format(const PluginContext& context, Kind kind) {
  const std::string& format = context.options.get_string("data_format");
  const Registry& registry = Registry::active();
  if (const PluginInfo* info = registry.find(kind, format)) return *info;
  std::string known;
  for (const PluginInfo* info : registry.list(kind)) {
    known += (known.empty() ? "" : ", ") + info->name;
  }
  throw OptionError("data_format", "unknown data format \"" + format + "\" (known: " + known + ")");
}

}  // namespace

std::unique_ptr<Serializer> make_serializer(const PluginContext& context) {
  const PluginInfo& info = find_format(context, Kind::kSerializer);
  if (!info.create_serializer) throw OptionError("data_format", info.name + " cannot write");
  return info.create_serializer(context);
}

std::unique_ptr<Parser> make_parser(const PluginContext& context) {
  const PluginInfo& info = find_format(context, Kind::kParser);
  if (!info.create_parser) throw OptionError("data_format", info.name + " cannot read");
  return info.create_parser(context);
}

}  // namespace sluice::plugin
