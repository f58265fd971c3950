// The prometheus data format: the Prometheus text exposition format, for inputs that read
// bytes (http_listener_v2 as a push gateway, file, exec, http).
#include <memory>
#include <vector>

#include "parsers/prometheus/text_parser.hpp"
#include "plugin/registry.hpp"

namespace sluice::parsers::prometheus {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"prometheus_metric_version", OptionType::kInt, "2",
     "Layout of the metrics: 2 (measurement prometheus, field per metric name) or 1 "
     "(measurement per metric name)"},
    {"prometheus_ignore_timestamp", OptionType::kBool, "false",
     "Stamp samples with the time they are read, ignoring their own timestamps"},
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kParser;
  info.name = "prometheus";
  info.description = "Prometheus text exposition format 0.0.4";
  info.options = kOptions;
  info.create_parser = [](const PluginContext& ctx) -> std::unique_ptr<Parser> {
    TextParserOptions options;
    int64_t version = ctx.options.get_int("prometheus_metric_version");
    if (version != 1 && version != 2) {
      throw OptionError("prometheus_metric_version", "expected 1 or 2");
    }
    options.metric_version = static_cast<int>(version);
    options.ignore_timestamp = ctx.options.get_bool("prometheus_ignore_timestamp");
    return std::make_unique<TextParser>(options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::parsers::prometheus
