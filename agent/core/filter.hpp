// The metric filters every plugin accepts, with Telegraf's names and semantics:
// selection (namepass, namedrop, tagpass, tagdrop) decides whether a plugin sees a metric;
// modification (fieldinclude/fieldexclude, taginclude/tagexclude) trims what it sees.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/glob.hpp"
#include "sluice/metric.hpp"
#include "sluice/options.hpp"

namespace sluice::core {

class MetricFilter {
 public:
  MetricFilter() = default;
  // Reads the filter options (the names in kFilterOptions) from validated plugin options.
  static MetricFilter from_options(const Options& options);

  // True when the metric passes namepass/namedrop/tagpass/tagdrop.
  bool selects(const Metric& metric) const;
  // Applies field and tag include/exclude. Returns false when no field is left: the metric is
  // then to be dropped, as Telegraf does.
  bool modify(Metric& metric) const;

  bool selects_everything() const { return !has_selection_; }
  bool modifies_nothing() const { return !has_modification_; }

 private:
  struct TagRule {
    std::string key;
    GlobSet values;
  };
  static bool any_tag_matches(const std::vector<TagRule>& rules, const Metric& metric);

  GlobSet namepass_, namedrop_;
  std::vector<TagRule> tagpass_, tagdrop_;
  GlobSet fieldinclude_, fieldexclude_, taginclude_, tagexclude_;
  bool has_selection_ = false;
  bool has_modification_ = false;
};

// The option table of the filters, shared by every plugin kind. (A function, so other
// tables may be built from it during static initialisation.)
const std::vector<OptionSpec>& filter_options();

}  // namespace sluice::core
