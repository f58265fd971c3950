// enum: maps tag and field values to other values through a table, as Telegraf's enum processor
// (e.g. status "green"/"amber"/"red" to 1/2/3).
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/glob.hpp"
#include "core/rule_options.hpp"
#include "plugin/registry.hpp"

namespace sluice::processors::enum_ {
namespace {

constexpr std::string_view kValuePrefix = "value_mappings.";

const std::vector<OptionSpec> kOptions = {
    {"mapping", OptionType::kStringMapList, "",
     "Mappings: {field: glob, tag: glob, dest: key, default: value, value_mappings.FROM: TO, "
     "...}"},
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A mapped value: typed for fields, as written for tags.
struct Mapped {
  FieldValue value;
  std::string text;
};

struct Mapping {
  core::GlobSet fields, tags;
  std::string dest;
  std::optional<Mapped> fallback;  // `default`
  std::unordered_map<std::string, Mapped, StringHash, std::equal_to<>> values;

  const Mapped* lookup(std::string_view from) const {
    auto it = values.find(from);
    if (it != values.end()) return &it->second;
    return fallback ? &*fallback : nullptr;
  }
};

Mapped typed(const std::string& text) { return Mapped{core::parse_scalar(text), text}; }

class Enum final : public Processor {
 public:
  explicit Enum(const Options& options) {
    const auto& maps = options.get_string_map_list("mapping");
    for (size_t i = 0; i < maps.size(); ++i) {
      core::RuleMap rule("mapping", maps[i], i);
      rule.allow_only({"field", "fields", "tag", "tags", "dest", "default"}, kValuePrefix);
      Mapping m;
      std::vector<std::string> fields = rule.get_list("field");
      for (std::string& f : rule.get_list("fields")) fields.push_back(std::move(f));
      std::vector<std::string> tags = rule.get_list("tag");
      for (std::string& t : rule.get_list("tags")) tags.push_back(std::move(t));
      if (fields.empty() && tags.empty()) rule.fail("give the field(s) or tag(s) to map");
      m.fields = core::GlobSet(fields);
      m.tags = core::GlobSet(tags);
      m.dest = rule.get("dest");
      if (const std::string* d = rule.find("default")) m.fallback = typed(*d);
      for (const auto& [key, value] : maps[i]) {
        if (key.rfind(kValuePrefix, 0) == 0)
          m.values.emplace(key.substr(kValuePrefix.size()), typed(value));
      }
      mappings_.push_back(std::move(m));
    }
  }

  Batch process(Batch batch) override {
    for (Metric& m : batch) apply(m);
    return batch;
  }

 private:
  struct NewValue {
    std::string key;
    const Mapped* value;
  };

  // Every mapping reads the metric as it came; the results are written at the end, so one
  // mapping does not see another's output.
  void apply(Metric& m) {
    new_fields_.clear();
    new_tags_.clear();
    for (const Mapping& mapping : mappings_) {
      if (!mapping.fields.empty()) {
        for (const FieldRef f : m.fields()) {
          if (!mapping.fields.matches(f.key)) continue;
          std::string_view text;
          switch (f.value.index()) {
            case 1:
              text = number_text(std::get<int64_t>(f.value));
              break;
            case 2:
              text = number_text(std::get<uint64_t>(f.value));
              break;
            case 3:
              text = std::get<bool>(f.value) ? "true" : "false";
              break;
            case 4:
              text = std::get<std::string>(f.value);
              break;
            default:
              continue;  // floats are not mapped, as in Telegraf
          }
          if (const Mapped* to = mapping.lookup(text)) {
            new_fields_.push_back({std::string(mapping.dest.empty() ? f.key : mapping.dest), to});
          }
        }
      }
      if (!mapping.tags.empty()) {
        for (const TagRef t : m.tags()) {
          if (!mapping.tags.matches(t.key)) continue;
          if (const Mapped* to = mapping.lookup(t.value)) {
            new_tags_.push_back({std::string(mapping.dest.empty() ? t.key : mapping.dest), to});
          }
        }
      }
    }
    for (const NewValue& v : new_fields_) m.set_field(v.key, v.value->value);
    for (const NewValue& v : new_tags_) m.set_tag(v.key, v.value->text);
  }

  template <typename T>
  std::string_view number_text(T v) {
    number_ = std::to_string(v);
    return number_;
  }

  std::vector<Mapping> mappings_;
  std::vector<NewValue> new_fields_;
  std::vector<NewValue> new_tags_;
  std::string number_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "enum";
  info.description = "Map tag and field values to other values";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Enum>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::enum_
