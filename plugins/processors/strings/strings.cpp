// strings: string transformations (case, trimming, replacing, truncating, base64 decoding,
// UTF-8 repair) on measurement names, tag and field values, and tag and field keys, as
// Telegraf's strings processor.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/glob.hpp"
#include "core/rule_options.hpp"
#include "plugin/registry.hpp"
#include "processors/strings/transforms.hpp"

namespace sluice::processors::strings {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"lowercase", OptionType::kStringMapList, "",
     "Lower-case: {measurement/tag/field/tag_key/field_key: glob, dest: key}"},
    {"uppercase", OptionType::kStringMapList, "", "Upper-case: as lowercase"},
    {"titlecase", OptionType::kStringMapList, "", "Capitalise each word: as lowercase"},
    {"trim", OptionType::kStringMapList, "",
     "Trim both ends: as lowercase, plus cutset (characters to remove; default white space)"},
    {"trim_left", OptionType::kStringMapList, "", "Trim the start: as trim"},
    {"trim_right", OptionType::kStringMapList, "", "Trim the end: as trim"},
    {"trim_prefix", OptionType::kStringMapList, "", "Remove a prefix: as lowercase, plus prefix"},
    {"trim_suffix", OptionType::kStringMapList, "", "Remove a suffix: as lowercase, plus suffix"},
    {"replace", OptionType::kStringMapList, "",
     "Replace every occurrence: as lowercase, plus old and new"},
    {"left", OptionType::kStringMapList, "",
     "Keep the first width characters: as lowercase, plus width"},
    {"base64decode", OptionType::kStringMapList, "",
     "Decode base64 when the result is valid UTF-8: as lowercase"},
    {"valid_utf8", OptionType::kStringMapList, "",
     "Replace invalid UTF-8 sequences: as lowercase, plus replacement"},
};

enum class Target { kMeasurement, kTag, kField, kTagKey, kFieldKey };

struct Rule {
  Op op;
  Target target;
  core::GlobSet keys;
  std::string name;       // the name or glob as written
  bool wildcard = false;  // a glob, not one name: dest does not apply
  std::string dest;
};

class Strings final : public Processor {
 public:
  explicit Strings(const Options& options) {
    for (const OptionSpec& spec : kOptions) {
      const auto& maps = options.get_string_map_list(spec.name);
      for (size_t i = 0; i < maps.size(); ++i) {
        core::RuleMap map(std::string(spec.name), maps[i], i);
        rules_.push_back(read_rule(spec.name, map));
      }
    }
  }

  Batch process(Batch batch) override {
    for (Metric& m : batch) {
      for (const Rule& r : rules_) apply(r, m);
    }
    return batch;
  }

 private:
  static Rule read_rule(std::string_view kind, const core::RuleMap& map) {
    Rule r;
    std::initializer_list<std::string_view> common = {"measurement", "tag",       "field",
                                                      "tag_key",     "field_key", "dest"};
    if (kind == "lowercase") r.op.kind = OpKind::kLowercase;
    if (kind == "uppercase") r.op.kind = OpKind::kUppercase;
    if (kind == "titlecase") r.op.kind = OpKind::kTitlecase;
    if (kind == "trim") r.op.kind = OpKind::kTrim;
    if (kind == "trim_left") r.op.kind = OpKind::kTrimLeft;
    if (kind == "trim_right") r.op.kind = OpKind::kTrimRight;
    if (kind == "trim_prefix") r.op.kind = OpKind::kTrimPrefix;
    if (kind == "trim_suffix") r.op.kind = OpKind::kTrimSuffix;
    if (kind == "replace") r.op.kind = OpKind::kReplace;
    if (kind == "left") r.op.kind = OpKind::kLeft;
    if (kind == "base64decode") r.op.kind = OpKind::kBase64Decode;
    if (kind == "valid_utf8") r.op.kind = OpKind::kValidUtf8;
    switch (r.op.kind) {
      case OpKind::kTrim:
      case OpKind::kTrimLeft:
      case OpKind::kTrimRight:
        map.allow_only({"measurement", "tag", "field", "tag_key", "field_key", "dest", "cutset"});
        r.op.text = map.get("cutset");
        break;
      case OpKind::kTrimPrefix:
        map.allow_only({"measurement", "tag", "field", "tag_key", "field_key", "dest", "prefix"});
        r.op.text = map.get("prefix");
        break;
      case OpKind::kTrimSuffix:
        map.allow_only({"measurement", "tag", "field", "tag_key", "field_key", "dest", "suffix"});
        r.op.text = map.get("suffix");
        break;
      case OpKind::kReplace:
        map.allow_only(
            {"measurement", "tag", "field", "tag_key", "field_key", "dest", "old", "new"});
        r.op.text = map.require("old");
        r.op.text2 = map.get("new");
        break;
      case OpKind::kLeft: {
        map.allow_only({"measurement", "tag", "field", "tag_key", "field_key", "dest", "width"});
        int64_t width = map.get_int("width", -1);
        if (width < 0) map.fail("\"width\" is required (a count of characters, 0 or more)");
        r.op.width = static_cast<size_t>(width);
        break;
      }
      case OpKind::kValidUtf8:
        map.allow_only(
            {"measurement", "tag", "field", "tag_key", "field_key", "dest", "replacement"});
        r.op.text = map.get("replacement");
        break;
      default:
        map.allow_only(common);
    }
    std::string_view target =
        map.require_one_of({"measurement", "tag", "field", "tag_key", "field_key"});
    r.target = target == "measurement" ? Target::kMeasurement
               : target == "tag"       ? Target::kTag
               : target == "field"     ? Target::kField
               : target == "tag_key"   ? Target::kTagKey
                                       : Target::kFieldKey;
    std::string pattern = map.require(target);
    r.keys = core::GlobSet({pattern});
    r.name = pattern;
    r.wildcard = pattern.find_first_of("*?[{") != std::string::npos;
    r.dest = map.get("dest");
    if (!r.dest.empty() && (r.target != Target::kTag && r.target != Target::kField)) {
      map.fail("dest applies to tag and field values only");
    }
    return r;
  }

  void apply(const Rule& r, Metric& m) {
    switch (r.target) {
      case Target::kMeasurement:
        if (r.keys.matches(m.name()) && r.op.apply(m.name(), out_)) m.set_name(out_);
        break;
      case Target::kTag: {
        if (!r.wildcard && r.dest.empty()) {
          // One tag, in place: the common case needs no list.
          std::string_view key = single_key(r);
          auto value = m.tag(key);
          if (value && r.op.apply(*value, out_)) m.set_tag(key, out_);
          break;
        }
        pending_.clear();
        for (const TagRef t : m.tags()) {
          if (!r.keys.matches(t.key)) continue;
          std::string dest(r.wildcard || r.dest.empty() ? t.key : r.dest);
          if (r.op.apply(t.value, out_)) {
            pending_.push_back({std::move(dest), out_});
          } else if (dest != t.key) {
            pending_.push_back({std::move(dest), std::string(t.value)});
          }
        }
        for (Tag& p : pending_) m.set_tag(p.key, p.value);
        break;
      }
      case Target::kField: {
        pending_.clear();
        for (const MutableFieldRef f : m.mutable_fields()) {
          const std::string* s = std::get_if<std::string>(&f.value);
          if (s == nullptr || !r.keys.matches(f.key)) continue;
          bool changed = r.op.apply(*s, out_);
          if (r.wildcard || r.dest.empty() || r.dest == f.key) {
            if (changed) f.value = out_;
          } else {
            pending_.push_back({r.dest, changed ? out_ : *s});
          }
        }
        for (Tag& p : pending_) m.set_field(p.key, std::move(p.value));
        break;
      }
      case Target::kTagKey: {
        pending_.clear();
        renamed_.clear();
        for (const TagRef t : m.tags()) {
          if (!r.keys.matches(t.key) || !r.op.apply(t.key, out_) || out_ == t.key) continue;
          renamed_.emplace_back(t.key);
          pending_.push_back({out_, std::string(t.value)});
        }
        for (const std::string& k : renamed_) m.remove_tag(k);
        for (Tag& p : pending_) m.set_tag(p.key, p.value);
        break;
      }
      case Target::kFieldKey: {
        for (size_t i = 0; i < m.fields().size(); ++i) {
          const std::string_view key = m.fields()[i].key;
          if (!r.keys.matches(key) || !r.op.apply(key, out_) || out_ == key) continue;
          // Keeps its place; a field that already has the new key gives way.
          const std::string old_key(key);
          m.remove_field(out_);
          m.rename_field(old_key, out_);
          for (i = 0; i < m.fields().size() && m.fields()[i].key != out_; ++i) {
          }
        }
        break;
      }
    }
  }

  // The name of a rule without wildcards.
  static std::string_view single_key(const Rule& r) { return r.name; }

  std::vector<Rule> rules_;
  std::string out_;
  std::vector<Tag> pending_;
  std::vector<std::string> renamed_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "strings";
  info.description = "Transform strings in names, tag and field values and keys";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Strings>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::strings
