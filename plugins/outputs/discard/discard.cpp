// Accepts every batch and writes nothing: for benchmarks and for trying inputs.
#include "plugin/registry.hpp"

namespace sluice::outputs::discard {
namespace {

class Discard final : public Output {
 public:
  WriteResult write(std::span<const Metric>) override { return WriteResult::ok(); }
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "discard";
  info.description = "Accept every metric and write nothing";
  info.create_output = [](const PluginContext&) { return std::make_unique<Discard>(); };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::discard
