// regex: rewrites tag and field values, and renames tags, fields and measurements, with regular
// expressions, as Telegraf's regex processor.
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/glob.hpp"
#include "core/rule_options.hpp"
#include "plugin/registry.hpp"
#include "processors/regex/pattern.hpp"

namespace sluice::processors::regex {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"tags", OptionType::kStringMapList, "",
     "Tag value rewrites: {key: glob, pattern: re, replacement: text, result_key: tag, append: "
     "bool}"},
    {"fields", OptionType::kStringMapList, "",
     "String field value rewrites: {key: glob, pattern: re, replacement: text, result_key: field}"},
    {"tag_rename", OptionType::kStringMapList, "",
     "Tag key renames: {pattern: re, replacement: text, result_key: overwrite or keep}"},
    {"field_rename", OptionType::kStringMapList, "",
     "Field key renames: {pattern: re, replacement: text, result_key: overwrite or keep}"},
    {"metric_rename", OptionType::kStringMapList, "",
     "Measurement renames: {pattern: re, replacement: text}"},
};

struct ValueRule {
  core::GlobSet keys;
  std::unique_ptr<Pattern> pattern;
  std::string replacement;
  std::string result_key;
  bool append = false;
};

struct RenameRule {
  std::unique_ptr<Pattern> pattern;
  std::string replacement;
  bool keep = false;  // result_key: keep (an existing key of the new name wins)
};

std::unique_ptr<Pattern> compile(const core::RuleMap& rule) {
  std::string text = rule.require("pattern");
  try {
    return std::make_unique<Pattern>(text);
  } catch (const std::invalid_argument& e) {
    rule.fail("pattern \"" + text + "\": " + e.what());
  }
}

std::vector<ValueRule> read_value_rules(const Options& options, const char* option, bool tags) {
  std::vector<ValueRule> out;
  const auto& rules = options.get_string_map_list(option);
  for (size_t i = 0; i < rules.size(); ++i) {
    core::RuleMap rule(option, rules[i], i);
    if (tags) {
      rule.allow_only({"key", "pattern", "replacement", "result_key", "append"});
    } else {
      rule.allow_only({"key", "pattern", "replacement", "result_key"});
    }
    ValueRule r;
    r.keys = core::GlobSet(rule.get_list("key"));
    if (r.keys.empty()) rule.fail("\"key\" is required (a name or a glob such as \"*\")");
    r.pattern = compile(rule);
    r.replacement = rule.get("replacement");
    r.result_key = rule.get("result_key");
    r.append = rule.get_bool("append", false);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<RenameRule> read_rename_rules(const Options& options, const char* option,
                                          bool has_result_key) {
  std::vector<RenameRule> out;
  const auto& rules = options.get_string_map_list(option);
  for (size_t i = 0; i < rules.size(); ++i) {
    core::RuleMap rule(option, rules[i], i);
    if (has_result_key) {
      rule.allow_only({"pattern", "replacement", "result_key"});
    } else {
      rule.allow_only({"pattern", "replacement"});
    }
    RenameRule r;
    r.pattern = compile(rule);
    r.replacement = rule.get("replacement");
    std::string mode = rule.get("result_key", "overwrite");
    if (mode != "overwrite" && mode != "keep") {
      rule.fail("result_key must be overwrite or keep, not \"" + mode + "\"");
    }
    r.keep = mode == "keep";
    out.push_back(std::move(r));
  }
  return out;
}

class Regex final : public Processor {
 public:
  explicit Regex(const Options& options)
      : tags_(read_value_rules(options, "tags", true)),
        fields_(read_value_rules(options, "fields", false)),
        tag_renames_(read_rename_rules(options, "tag_rename", true)),
        field_renames_(read_rename_rules(options, "field_rename", true)),
        metric_renames_(read_rename_rules(options, "metric_rename", false)) {}

  Batch process(Batch batch) override {
    for (Metric& m : batch) {
      for (const ValueRule& r : tags_) rewrite_tags(r, m);
      for (const ValueRule& r : fields_) rewrite_fields(r, m);
      for (const RenameRule& r : tag_renames_) rename_tags(r, m);
      for (const RenameRule& r : field_renames_) rename_fields(r, m);
      for (const RenameRule& r : metric_renames_) {
        if (r.pattern->replace_all(m.name(), r.replacement, result_)) m.set_name(result_);
      }
    }
    return batch;
  }

 private:
  void rewrite_tags(const ValueRule& r, Metric& m) {
    // The tags are read first: writing a result key may insert a tag.
    pending_.clear();
    for (const TagRef t : m.tags()) {
      if (!r.keys.matches(t.key)) continue;
      if (!r.pattern->replace_all(t.value, r.replacement, result_)) continue;
      pending_.push_back({std::string(r.result_key.empty() ? t.key : r.result_key), result_});
    }
    for (Tag& p : pending_) {
      if (r.append && !r.result_key.empty()) {
        if (auto existing = m.tag(p.key)) p.value.insert(0, *existing);
      }
      m.set_tag(p.key, p.value);
    }
  }

  void rewrite_fields(const ValueRule& r, Metric& m) {
    pending_.clear();
    for (const MutableFieldRef f : m.mutable_fields()) {
      const std::string* value = std::get_if<std::string>(&f.value);
      if (value == nullptr || !r.keys.matches(f.key)) continue;
      if (!r.pattern->replace_all(*value, r.replacement, result_)) continue;
      if (r.result_key.empty()) {
        f.value = result_;
      } else {
        pending_.push_back({r.result_key, result_});
      }
    }
    for (Tag& p : pending_) m.set_field(p.key, std::move(p.value));
  }

  void rename_tags(const RenameRule& r, Metric& m) {
    pending_.clear();
    renamed_.clear();
    for (const TagRef t : m.tags()) {
      if (!r.pattern->replace_all(t.key, r.replacement, result_) || result_ == t.key) continue;
      renamed_.emplace_back(t.key);
      pending_.push_back({result_, std::string(t.value)});
    }
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (r.keep && m.has_tag(pending_[i].key)) continue;
      m.remove_tag(renamed_[i]);
      m.set_tag(pending_[i].key, pending_[i].value);
    }
  }

  void rename_fields(const RenameRule& r, Metric& m) {
    for (size_t i = 0; i < m.fields().size(); ++i) {
      const std::string_view key = m.fields()[i].key;
      if (!r.pattern->replace_all(key, r.replacement, result_) || result_ == key) continue;
      bool taken = m.field(result_) != nullptr;
      if (taken && r.keep) continue;
      // The field keeps its place; one already named so gives way.
      const std::string old_key(key);
      if (taken) m.remove_field(result_);
      m.rename_field(old_key, result_);
      // The fields may have shifted: find where the next field now is.
      for (i = 0; i < m.fields().size() && m.fields()[i].key != result_; ++i) {
      }
    }
  }

  std::vector<ValueRule> tags_;
  std::vector<ValueRule> fields_;
  std::vector<RenameRule> tag_renames_;
  std::vector<RenameRule> field_renames_;
  std::vector<RenameRule> metric_renames_;
  std::string result_;
  std::vector<Tag> pending_;  // key and value to write
  std::vector<std::string> renamed_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "regex";
  info.description = "Rewrite tag and field values and rename keys with regular expressions";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Regex>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::regex
