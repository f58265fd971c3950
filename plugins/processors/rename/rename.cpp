// rename: renames measurements, tags and fields by exact name, as Telegraf's rename processor.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/rule_options.hpp"
#include "plugin/registry.hpp"

namespace sluice::processors::rename {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"replace", OptionType::kStringMapList, "",
     "Renames, applied in order: {measurement: old, dest: new}, {tag: old, dest: new} or "
     "{field: old, dest: new}"},
};

class Rename final : public Processor {
 public:
  explicit Rename(const Options& options) {
    const auto& rules = options.get_string_map_list("replace");
    for (size_t i = 0; i < rules.size(); ++i) {
      core::RuleMap rule("replace", rules[i], i);
      rule.allow_only({"measurement", "tag", "field", "dest"});
      std::string_view kind = rule.require_one_of({"measurement", "tag", "field"});
      Replace r;
      r.kind = kind == "measurement" ? Kind::kMeasurement
               : kind == "tag"       ? Kind::kTag
                                     : Kind::kField;
      r.from = rule.require(kind);
      r.dest = rule.require("dest");
      replaces_.push_back(std::move(r));
    }
  }

  Batch process(Batch batch) override {
    for (Metric& m : batch) {
      for (const Replace& r : replaces_) apply(r, m);
    }
    return batch;
  }

 private:
  enum class Kind { kMeasurement, kTag, kField };
  struct Replace {
    Kind kind;
    std::string from, dest;
  };

  void apply(const Replace& r, Metric& m) {
    switch (r.kind) {
      case Kind::kMeasurement:
        if (m.name() == r.from) m.set_name(r.dest);
        break;
      case Kind::kTag: {
        auto value = m.tag(r.from);
        if (!value) return;
        scratch_.assign(*value);
        m.remove_tag(r.from);
        m.set_tag(r.dest, scratch_);
        break;
      }
      case Kind::kField: {
        if (m.field(r.from) == nullptr || r.from == r.dest) return;
        // The renamed field keeps its place; a field already named `dest` gives way to it.
        m.remove_field(r.dest);
        m.rename_field(r.from, r.dest);
        break;
      }
    }
  }

  std::vector<Replace> replaces_;
  std::string scratch_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "rename";
  info.description = "Rename measurements, tags and fields";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Rename>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::rename
