// date: adds the metric's time, formatted, as a tag or a field (e.g. the month as a tag), as
// Telegraf's date processor.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/time_layout.hpp"
#include "plugin/registry.hpp"

namespace sluice::processors::date {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"tag_key", OptionType::kString, "", "Tag to write the formatted time to"},
    {"field_key", OptionType::kString, "", "Field to write the formatted time to"},
    {"date_format", OptionType::kString, "",
     "Go reference-time layout (e.g. Jan, 2006-01-02, Monday) or unix, unix_ms, unix_us, "
     "unix_ns",
     true},
    {"date_offset", OptionType::kDuration, "0s", "Added to the metric's time before formatting"},
    {"timezone", OptionType::kString, "UTC",
     "UTC, Local, or a time zone name such as "
     "America/New_York"},
};

class Date final : public Processor {
 public:
  explicit Date(const Options& options)
      : tag_key_(options.get_string("tag_key")),
        field_key_(options.get_string("field_key")),
        offset_ns_(options.get_duration("date_offset").count()) {
    if (tag_key_.empty() == field_key_.empty()) {
      throw OptionError(tag_key_.empty() ? "tag_key" : "field_key",
                        "give exactly one of tag_key and field_key");
    }
    std::string error;
    auto layout = core::TimeLayout::compile(options.get_string("date_format"), &error);
    if (!layout) throw OptionError("date_format", error);
    layout_ = std::move(*layout);
    auto zone = core::TimeZone::load(options.get_string("timezone"), &error);
    if (!zone) throw OptionError("timezone", error);
    zone_ = std::move(*zone);
  }

  Batch process(Batch batch) override {
    for (Metric& m : batch) {
      int64_t t = m.time() + offset_ns_;
      if (!field_key_.empty() && layout_.is_unix()) {
        // Unix times are numbers: an integer field.
        int64_t unit = layout_.unix_unit_ns();
        int64_t units = t / unit - ((t % unit != 0 && t < 0) ? 1 : 0);
        m.set_field(field_key_, units);
        continue;
      }
      text_.clear();
      layout_.format(t, zone_, text_);
      if (!tag_key_.empty()) {
        m.set_tag(tag_key_, text_);
      } else {
        m.set_field(field_key_, text_);
      }
    }
    return batch;
  }

 private:
  std::string tag_key_, field_key_;
  int64_t offset_ns_;
  core::TimeLayout layout_;
  core::TimeZone zone_;
  std::string text_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "date";
  info.description = "Add the metric's time, formatted, as a tag or field";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Date>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::date
