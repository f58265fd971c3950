// scale: scales numeric fields linearly, from an input range to an output range or by a factor
// and offset, as Telegraf's scale processor.
#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/glob.hpp"
#include "core/rule_options.hpp"
#include "plugin/registry.hpp"

namespace sluice::processors::scale {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"scaling", OptionType::kStringMapList, "",
     "Scalings: {fields: globs, input_minimum, input_maximum, output_minimum, output_maximum} "
     "or {fields: globs, factor, offset}"},
};

struct Scaling {
  core::GlobSet fields;
  double input_minimum = 0, output_minimum = 0;  // with a range
  double factor = 1, offset = 0;
  double apply(double v) const { return (v - input_minimum) * factor + output_minimum + offset; }
};

class Scale final : public Processor {
 public:
  Scale(const Options& options, Logger& log) : log_(log) {
    const auto& maps = options.get_string_map_list("scaling");
    std::set<std::string> seen;
    for (size_t i = 0; i < maps.size(); ++i) {
      core::RuleMap rule("scaling", maps[i], i);
      rule.allow_only({"fields", "input_minimum", "input_maximum", "output_minimum",
                       "output_maximum", "factor", "offset"});
      std::vector<std::string> fields = rule.get_list("fields");
      if (fields.empty()) rule.fail("\"fields\" is required");
      for (const std::string& f : fields) {
        if (!seen.insert(f).second)
          rule.fail("field \"" + f + "\" is already scaled by an earlier rule");
      }
      bool range = rule.find("input_minimum") || rule.find("input_maximum") ||
                   rule.find("output_minimum") || rule.find("output_maximum");
      bool linear = rule.find("factor") || rule.find("offset");
      if (range && linear) rule.fail("give either the four range limits or factor and offset");
      Scaling s;
      s.fields = core::GlobSet(fields);
      if (range) {
        for (const char* k :
             {"input_minimum", "input_maximum", "output_minimum", "output_maximum"}) {
          if (!rule.find(k)) rule.fail(std::string("\"") + k + "\" is required with a range");
        }
        double in_min = rule.get_float("input_minimum", 0),
               in_max = rule.get_float("input_maximum", 0);
        double out_min = rule.get_float("output_minimum", 0);
        double out_max = rule.get_float("output_maximum", 0);
        if (in_min == in_max) rule.fail("input_minimum and input_maximum must differ");
        s.input_minimum = in_min;
        s.output_minimum = out_min;
        s.factor = (out_max - out_min) / (in_max - in_min);
      } else if (linear) {
        s.factor = rule.get_float("factor", 1);
        s.offset = rule.get_float("offset", 0);
      } else {
        rule.fail("give the four range limits, or factor and/or offset");
      }
      scalings_.push_back(std::move(s));
    }
  }

  Batch process(Batch batch) override {
    for (Metric& m : batch) {
      for (const Scaling& s : scalings_) {
        for (const MutableFieldRef f : m.mutable_fields()) {
          if (!s.fields.matches(f.key)) continue;
          double v = 0;
          switch (f.value.index()) {
            case 0:
              v = std::get<double>(f.value);
              break;
            case 1:
              v = static_cast<double>(std::get<int64_t>(f.value));
              break;
            case 2:
              v = static_cast<double>(std::get<uint64_t>(f.value));
              break;
            case 3:
              v = std::get<bool>(f.value) ? 1 : 0;
              break;
            default:
              log_.error("cannot scale field \"" + std::string(f.key) + "\" of " + m.name() +
                         ": not a number");
              continue;
          }
          f.value = s.apply(v);
        }
      }
    }
    return batch;
  }

 private:
  std::vector<Scaling> scalings_;
  Logger& log_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "scale";
  info.description = "Scale numeric fields linearly";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Scale>(ctx.options, ctx.log);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::scale
