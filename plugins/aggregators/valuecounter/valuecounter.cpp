// valuecounter: how often each value of the configured fields occurs, per series and window,
// as fields named <field>_<value>.
#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "aggregators/series_index.hpp"
#include "lineproto/number.hpp"
#include "plugin/registry.hpp"

namespace sluice::aggregators::valuecounter {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"fields", OptionType::kStringList, "",
     "Fields whose values are counted; none are counted when empty"},
};

// A value as Go's fmt %v writes it, which is how Telegraf names the counts: integers in
// decimal, floats in their shortest form ("1.5", "1e+06"), booleans as true/false.
void append_value_text(const FieldValue& value, std::string& out) {
  char buf[lineproto::kMaxFloatChars];
  switch (value.index()) {
    case 0: {
      const double x = *std::get_if<double>(&value);
      if (x != x) {
        out += "NaN";
      } else if (x - x != 0) {
        out += x > 0 ? "+Inf" : "-Inf";
      } else {
        out.append(buf, lineproto::format_float(x, buf));
      }
      break;
    }
    case 1:
      out.append(buf, lineproto::format_int64(*std::get_if<int64_t>(&value), buf));
      break;
    case 2:
      out.append(buf, lineproto::format_uint64(*std::get_if<uint64_t>(&value), buf));
      break;
    case 3:
      out += *std::get_if<bool>(&value) ? "true" : "false";
      break;
    default:
      out += *std::get_if<std::string>(&value);
      break;
  }
}

struct SeriesCounts {
  std::vector<std::pair<std::string, int64_t>> counts;  // in order of first occurrence
  std::unordered_map<std::string, size_t> index;        // name -> position in counts
};

class ValueCounter final : public Aggregator {
 public:
  explicit ValueCounter(const Options& o) : fields_(o.get_strings("fields")) {}

  void add(const Metric& metric) override {
    if (fields_.empty()) return;
    const size_t s = series_.find_or_add(metric);
    if (s == state_.size()) state_.emplace_back();
    SeriesCounts& series = state_[s];
    for (const FieldRef f : metric.fields()) {
      if (std::find(fields_.begin(), fields_.end(), f.key) == fields_.end()) continue;
      name_.assign(f.key);
      name_ += '_';
      append_value_text(f.value, name_);
      // Looking up the reused buffer allocates nothing for a value seen before.
      auto it = series.index.find(name_);
      if (it != series.index.end()) {
        ++series.counts[it->second].second;
      } else {
        series.index.emplace(name_, series.counts.size());
        series.counts.emplace_back(name_, 1);
      }
    }
  }

  void push(Accumulator& acc) override {
    for (size_t s = 0; s < series_.size(); ++s) {
      const SeriesCounts& series = state_[s];
      if (series.counts.empty()) continue;
      Metric m = series_.make_metric(s, ValueType::kGauge);
      m.reserve(0, series.counts.size(), series.counts.size() * 24);
      for (const auto& [name, count] : series.counts) m.append_field(name, count);
      acc.add(std::move(m));
    }
  }

  void reset() override {
    series_.clear();
    state_.clear();
  }

 private:
  std::vector<std::string> fields_;
  SeriesIndex series_;
  std::vector<SeriesCounts> state_;  // by series index
  std::string name_;                 // scratch: the field name of the value being counted
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kAggregator;
  info.name = "valuecounter";
  info.description = "Count the occurrences of each value of chosen fields per window";
  info.options = kOptions;
  info.create_aggregator = [](const PluginContext& ctx) {
    return std::make_unique<ValueCounter>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::valuecounter
