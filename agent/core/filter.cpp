#include "core/filter.hpp"

namespace sluice::core {

const std::vector<OptionSpec>& filter_options() {
  static const std::vector<OptionSpec> options = {
    {"namepass", OptionType::kStringList, "", "Only metrics whose name matches one of these globs"},
    {"namedrop", OptionType::kStringList, "", "Drop metrics whose name matches one of these globs"},
    {"tagpass", OptionType::kStringListMap, "",
     "Only metrics with a tag matching: {tag: [value globs]}"},
    {"tagdrop", OptionType::kStringListMap, "", "Drop metrics with a tag matching: {tag: [globs]}"},
    {"fieldinclude", OptionType::kStringList, "", "Keep only the fields matching these globs"},
    {"fieldexclude", OptionType::kStringList, "", "Remove the fields matching these globs"},
    {"fieldpass", OptionType::kStringList, "", "Former name of fieldinclude"},
    {"fielddrop", OptionType::kStringList, "", "Former name of fieldexclude"},
    {"taginclude", OptionType::kStringList, "", "Keep only the tags whose key matches"},
    {"tagexclude", OptionType::kStringList, "", "Remove the tags whose key matches"},
  };
  return options;
}

namespace {

std::vector<std::string> joined(const Options& options, const char* name, const char* old_name) {
  std::vector<std::string> all = options.get_strings(name);
  const auto& more = options.get_strings(old_name);
  all.insert(all.end(), more.begin(), more.end());
  return all;
}

}  // namespace

MetricFilter MetricFilter::from_options(const Options& options) {
  MetricFilter f;
  f.namepass_ = GlobSet(options.get_strings("namepass"));
  f.namedrop_ = GlobSet(options.get_strings("namedrop"));
  for (const auto& [key, values] : options.get_string_list_map("tagpass")) {
    f.tagpass_.push_back(TagRule{key, GlobSet(values)});
  }
  for (const auto& [key, values] : options.get_string_list_map("tagdrop")) {
    f.tagdrop_.push_back(TagRule{key, GlobSet(values)});
  }
  f.fieldinclude_ = GlobSet(joined(options, "fieldinclude", "fieldpass"));
  f.fieldexclude_ = GlobSet(joined(options, "fieldexclude", "fielddrop"));
  f.taginclude_ = GlobSet(options.get_strings("taginclude"));
  f.tagexclude_ = GlobSet(options.get_strings("tagexclude"));
  f.has_selection_ = !f.namepass_.empty() || !f.namedrop_.empty() || !f.tagpass_.empty() ||
                     !f.tagdrop_.empty();
  f.has_modification_ = !f.fieldinclude_.empty() || !f.fieldexclude_.empty() ||
                        !f.taginclude_.empty() || !f.tagexclude_.empty();
  return f;
}

bool MetricFilter::any_tag_matches(const std::vector<TagRule>& rules, const Metric& metric) {
  for (const TagRule& rule : rules) {
    auto value = metric.tag(rule.key);
    if (value && rule.values.matches(*value)) return true;
  }
  return false;
}

bool MetricFilter::selects(const Metric& metric) const {
  if (!has_selection_) return true;
  if (!namepass_.empty() && !namepass_.matches(metric.name())) return false;
  if (!namedrop_.empty() && namedrop_.matches(metric.name())) return false;
  if (!tagpass_.empty() && !any_tag_matches(tagpass_, metric)) return false;
  if (!tagdrop_.empty() && any_tag_matches(tagdrop_, metric)) return false;
  return true;
}

bool MetricFilter::modify(Metric& metric) const {
  if (!has_modification_) return true;
  if (!fieldinclude_.empty()) {
    metric.retain_fields([&](const FieldRef& f) { return fieldinclude_.matches(f.key); });
  }
  if (!fieldexclude_.empty()) {
    metric.retain_fields([&](const FieldRef& f) { return !fieldexclude_.matches(f.key); });
  }
  if (!taginclude_.empty()) {
    metric.retain_tags([&](const TagRef& t) { return taginclude_.matches(t.key); });
  }
  if (!tagexclude_.empty()) {
    metric.retain_tags([&](const TagRef& t) { return !tagexclude_.matches(t.key); });
  }
  return !metric.fields().empty();
}

}  // namespace sluice::core
