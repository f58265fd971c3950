// override: replaces or extends the measurement name and sets tags, as Telegraf's override
// processor; the same options an input has, applied where this processor stands in the chain.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plugin/registry.hpp"

namespace sluice::processors::override {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"name_override", OptionType::kString, "", "Replace the measurement name"},
    {"name_prefix", OptionType::kString, "", "Prepend to the measurement name"},
    {"name_suffix", OptionType::kString, "", "Append to the measurement name"},
    {"tags", OptionType::kStringMap, "",
     "Tags to add; an existing tag of the same key is replaced"},
};

class Override final : public Processor {
 public:
  explicit Override(const Options& options)
      : name_override_(options.get_string("name_override")),
        name_prefix_(options.get_string("name_prefix")),
        name_suffix_(options.get_string("name_suffix")),
        tags_(options.get_string_map("tags")) {}

  Batch process(Batch batch) override {
    bool renames = !name_override_.empty() || !name_prefix_.empty() || !name_suffix_.empty();
    for (Metric& m : batch) {
      if (renames) {
        name_ = name_override_.empty() ? m.name() : name_override_;
        name_.insert(0, name_prefix_);
        name_ += name_suffix_;
        m.set_name(name_);
      }
      for (const auto& [key, value] : tags_) m.set_tag(key, value);
    }
    return batch;
  }

 private:
  std::string name_override_, name_prefix_, name_suffix_;
  StringMap tags_;
  std::string name_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "override";
  info.description = "Override the measurement name and set tags";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Override>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::override
