// The influx data format: metrics as InfluxDB line protocol, for outputs that write bytes.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "lineproto/serializer.hpp"
#include "plugin/registry.hpp"

namespace sluice::serializers::influx {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"influx_max_line_bytes", OptionType::kSize, "0",
     "Split lines longer than this by fields (0 = no limit)"},
    {"influx_sort_fields", OptionType::kBool, "false", "Write fields sorted by key"},
    {"influx_uint_support", OptionType::kBool, "true",
     "Write unsigned integers with the u suffix; otherwise clip to int64"},
    {"influx_omit_timestamp", OptionType::kBool, "false", "Leave the timestamp out"},
};

class InfluxSerializer : public Serializer {
 public:
  explicit InfluxSerializer(const lineproto::SerializeOptions& options) : options_(options) {}

  void serialize(const Metric& metric, std::string& out) override {
    lineproto::serialize(metric, out, options_);
  }

  void serialize_batch(std::span<const Metric> batch, std::string& out) override {
    lineproto::serialize_batch(batch, out, options_);
  }

 private:
  lineproto::SerializeOptions options_;
};

// The host may add a `precision` duration for the timestamps: 1ns, 1us, 1ms or 1s (0 or absent
// means nanoseconds).
lineproto::Precision precision_option(const Options& options) {
  if (!options.has("precision")) return lineproto::Precision::kNanosecond;
  const auto ns = options.get_duration("precision").count();
  if (ns == 0) return lineproto::Precision::kNanosecond;
  if (auto precision = lineproto::precision_from_nanoseconds(ns)) return *precision;
  throw OptionError("precision", "the influx format writes timestamps in 1ns, 1us, 1ms or 1s");
}

std::unique_ptr<Serializer> create(const PluginContext& ctx) {
  lineproto::SerializeOptions options;
  options.precision = precision_option(ctx.options);
  options.max_line_bytes = static_cast<size_t>(ctx.options.get_size("influx_max_line_bytes"));
  options.sort_fields = ctx.options.get_bool("influx_sort_fields");
  options.uint_support = ctx.options.get_bool("influx_uint_support");
  options.omit_timestamp = ctx.options.get_bool("influx_omit_timestamp");
  return std::make_unique<InfluxSerializer>(options);
}

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kSerializer;
  info.name = "influx";
  info.description = "InfluxDB line protocol";
  info.options = kOptions;
  info.create_serializer = create;
  registry.add(std::move(info));
}

}  // namespace sluice::serializers::influx
