// minmax: the smallest and largest value of every numeric field, per series and window.
#include <memory>
#include <string>
#include <vector>

#include "aggregators/series_index.hpp"
#include "plugin/registry.hpp"

namespace sluice::aggregators::minmax {
namespace {

struct Range {
  double min = 0, max = 0;
};

class MinMax final : public Aggregator {
 public:
  void add(const Metric& metric) override {
    const size_t s = series_.find_or_add(metric);
    if (s == fields_.size()) fields_.emplace_back();
    FieldSlots<Range>& slots = fields_[s];
    const Metric::FieldList fields = metric.fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      double x;
      if (!numeric_value(fields[i].value, x)) continue;
      if (auto* slot = slots.find(fields[i].key, i)) {
        if (x < slot->state.min) slot->state.min = x;
        if (x > slot->state.max) slot->state.max = x;
      } else {
        slots.add(fields[i].key, Range{x, x});
      }
    }
  }

  void push(Accumulator& acc) override {
    for (size_t s = 0; s < series_.size(); ++s) {
      if (fields_[s].empty()) continue;
      Metric m = series_.make_metric(s, ValueType::kGauge);
      m.reserve(0, fields_[s].size() * 2, fields_[s].size() * 40);
      for (const auto& slot : fields_[s]) {
        m.append_field(slot.key + "_min", slot.state.min);
        m.append_field(slot.key + "_max", slot.state.max);
      }
      acc.add(std::move(m));
    }
  }

  void reset() override {
    series_.clear();
    fields_.clear();
  }

 private:
  SeriesIndex series_;
  std::vector<FieldSlots<Range>> fields_;  // by series index
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kAggregator;
  info.name = "minmax";
  info.description = "The minimum and maximum of each numeric field per window";
  info.create_aggregator = [](const PluginContext&) { return std::make_unique<MinMax>(); };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::minmax
