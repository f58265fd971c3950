// converter: changes the type of tags and fields, turns tags into fields and fields into tags,
// and takes the measurement name or the timestamp from a tag or field, as Telegraf's converter.
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/glob.hpp"
#include "core/time_layout.hpp"
#include "plugin/registry.hpp"
#include "processors/converter/conversions.hpp"

namespace sluice::processors::converter {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"tags", OptionType::kStringListMap, "",
     "Tags to convert, by target: measurement, string, integer, unsigned, boolean, float, "
     "timestamp (with timestamp_format); each a list of globs"},
    {"fields", OptionType::kStringListMap, "",
     "Fields to convert, by target: measurement, tag, string, integer, unsigned, boolean, float, "
     "timestamp (with timestamp_format); each a list of globs"},
};

// The targets, in the order a key is tested against them: the first that matches wins.
enum Target : size_t {
  kMeasurement,
  kTag,
  kString,
  kInteger,
  kUnsigned,
  kBoolean,
  kFloat,
  kTimestamp,
  kTargetCount,
  kNone = kTargetCount,
};
constexpr std::array<std::string_view, kTargetCount> kTargetNames = {
    "measurement", "tag", "string", "integer", "unsigned", "boolean", "float", "timestamp"};

struct Conversions {
  std::array<core::GlobSet, kTargetCount> globs;
  std::array<bool, kTargetCount> used{};
  std::optional<core::TimeLayout> layout;
  bool any = false;

  Target match(std::string_view key) const {
    for (size_t t = 0; t < kTargetCount; ++t) {
      if (used[t] && globs[t].matches(key)) return static_cast<Target>(t);
    }
    return kNone;
  }
};

Conversions read_conversions(const Options& options, const char* option, bool fields) {
  Conversions c;
  std::string format;
  bool has_format = false;
  for (const auto& [key, values] : options.get_string_list_map(option)) {
    if (key == "timestamp_format") {
      if (values.size() != 1) throw OptionError(option, "timestamp_format takes one format");
      format = values[0];
      has_format = true;
      continue;
    }
    size_t t = 0;
    while (t < kTargetCount && kTargetNames[t] != key) ++t;
    if (t == kTargetCount || (t == kTag && !fields)) {
      throw OptionError(option, "unknown target \"" + key + "\" (expected " +
                                    (fields ? "measurement, tag, " : "measurement, ") +
                                    "string, integer, unsigned, boolean, float, timestamp, "
                                    "timestamp_format)");
    }
    if (values.empty()) continue;
    c.globs[t] = core::GlobSet(values);
    c.used[t] = true;
    c.any = true;
  }
  if (c.used[kTimestamp] && !has_format) {
    throw OptionError(option,
                      "timestamp needs timestamp_format (unix, unix_ms, unix_us, "
                      "unix_ns or a Go reference-time layout)");
  }
  if (has_format) {
    std::string error;
    c.layout = core::TimeLayout::compile(format, &error);
    if (!c.layout) throw OptionError(option, "timestamp_format: " + error);
  }
  return c;
}

class Converter final : public Processor {
 public:
  Converter(const Options& options, Logger& log)
      : tags_(read_conversions(options, "tags", false)),
        fields_(read_conversions(options, "fields", true)),
        log_(log) {}

  Batch process(Batch batch) override {
    for (Metric& m : batch) {
      if (tags_.any) convert_tags(m);
      if (fields_.any) convert_fields(m);
    }
    return batch;
  }

 private:
  struct PendingTag {
    Target target;
    std::string key, value;
  };

  void convert_tags(Metric& m) {
    pending_.clear();
    for (const TagRef t : m.tags()) {
      Target target = tags_.match(t.key);
      if (target != kNone) pending_.push_back({target, std::string(t.key), std::string(t.value)});
    }
    for (PendingTag& p : pending_) {
      m.remove_tag(p.key);
      switch (p.target) {
        case kMeasurement:
          m.set_name(std::move(p.value));
          break;
        case kString:
          m.set_field(p.key, std::move(p.value));
          break;
        case kInteger:
          set_or_drop(m, p.key, parse_integer(p.value), p.value, "integer");
          break;
        case kUnsigned:
          set_or_drop(m, p.key, parse_unsigned(p.value), p.value, "unsigned");
          break;
        case kBoolean:
          set_or_drop(m, p.key, parse_boolean(p.value), p.value, "boolean");
          break;
        case kFloat:
          set_or_drop(m, p.key, parse_float(p.value), p.value, "float");
          break;
        case kTimestamp:
          set_time(m, p.key, FieldValue(std::move(p.value)), tags_);
          break;
        default:
          break;
      }
    }
  }

  template <typename T>
  void set_or_drop(Metric& m, const std::string& key, std::optional<T> v, const std::string& text,
                   const char* type) {
    if (v) {
      m.set_field(key, *v);
    } else {
      log_.error("cannot convert tag \"" + key + "\" value \"" + text + "\" to " + type +
                 "; dropped");
    }
  }

  void set_time(Metric& m, std::string_view key, const FieldValue& value, const Conversions& c) {
    std::optional<int64_t> t;
    if (const std::string* s = std::get_if<std::string>(&value)) {
      t = c.layout->parse(*s, utc_);
    } else if (c.layout->is_unix()) {
      int64_t unit = c.layout->unix_unit_ns();
      if (auto d = std::get_if<double>(&value)) {
        double ns = *d * static_cast<double>(unit);
        if (std::isfinite(ns) && std::fabs(ns) < 9.2e18) t = static_cast<int64_t>(ns);
      } else if (auto i = to_integer(value); i && std::get_if<bool>(&value) == nullptr) {
        if (*i <= INT64_MAX / unit && *i >= INT64_MIN / unit) t = *i * unit;
      }
    }
    if (t) {
      m.set_time(*t);
    } else {
      log_.error("cannot read \"" + std::string(key) + "\" value \"" + to_text(value) +
                 "\" as a timestamp; dropped");
    }
  }

  void convert_fields(Metric& m) {
    const size_t count = m.fields().size();
    remove_.assign(count, false);
    bool removing = false;
    for (size_t i = 0; i < count; ++i) {
      // Taken afresh for each field: set_name and set_tag below may move the metric's storage.
      const MutableFieldRef f = m.mutable_fields()[i];
      Target target = fields_.match(f.key);
      if (target == kNone) continue;
      switch (target) {
        case kMeasurement:
          m.set_name(to_text(f.value));
          remove_[i] = removing = true;
          break;
        case kTag:
          m.set_tag(f.key, to_text(f.value));
          remove_[i] = removing = true;
          break;
        case kString:
          if (!std::holds_alternative<std::string>(f.value)) f.value = to_text(f.value);
          break;
        case kInteger:
          convert_in_place(f, to_integer(f.value), "integer", i, removing);
          break;
        case kUnsigned:
          convert_in_place(f, to_unsigned(f.value), "unsigned", i, removing);
          break;
        case kBoolean:
          convert_in_place(f, to_boolean(f.value), "boolean", i, removing);
          break;
        case kFloat:
          convert_in_place(f, to_float(f.value), "float", i, removing);
          break;
        case kTimestamp:
          set_time(m, f.key, f.value, fields_);
          remove_[i] = removing = true;
          break;
        default:
          break;
      }
    }
    if (!removing) return;
    size_t i = 0;
    m.retain_fields([&](const FieldRef&) { return !remove_[i++]; });
  }

  template <typename T>
  void convert_in_place(const MutableFieldRef& f, std::optional<T> v, const char* type, size_t i,
                        bool& removing) {
    if (v) {
      f.value = *v;
      return;
    }
    log_.error("cannot convert field \"" + std::string(f.key) + "\" value \"" + to_text(f.value) +
               "\" to " + type + "; dropped");
    remove_[i] = removing = true;
  }

  Conversions tags_;
  Conversions fields_;
  Logger& log_;
  core::TimeZone utc_;
  std::vector<PendingTag> pending_;
  std::vector<bool> remove_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "converter";
  info.description = "Convert tags and fields between types, to tags, fields, name or time";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Converter>(ctx.options, ctx.log);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::converter
