#include "plugin/serializer_factory.hpp"

#include "plugin/registry.hpp"

namespace sluice::plugin {

std::unique_ptr<Serializer> make_serializer(const PluginContext& context) {
  const std::string& format = context.options.get_string("data_format");
  const Registry& registry = Registry::builtins();
  const PluginInfo* info = registry.find(Kind::kSerializer, format);
  if (info == nullptr || !info->create_serializer) {
    std::string known;
    for (const PluginInfo* s : registry.list(Kind::kSerializer)) {
      known += (known.empty() ? "" : ", ") + s->name;
    }
    throw OptionError("data_format", "unknown data format \"" + format + "\" (known: " + known + ")");
  }
  return info->create_serializer(context);
}

}  // namespace sluice::plugin
