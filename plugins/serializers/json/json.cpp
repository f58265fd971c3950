// The `json` data format, in Telegraf's layout:
// {"fields":{"usage_idle":98.2},"name":"cpu","tags":{"host":"a"},"timestamp":1700000000}
#include <charconv>
#include <cstdio>
#include <cmath>

#include "core/units.hpp"
#include "plugin/registry.hpp"

namespace sluice::serializers::json {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"json_timestamp_units", OptionType::kDuration, "1s",
     "Unit of the integer timestamp: 1ns, 1us, 1ms or 1s"},
};

void append_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

template <typename T>
void append_number(std::string& out, T value) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

class JsonSerializer final : public Serializer {
 public:
  explicit JsonSerializer(int64_t units) : units_(units) {}

  void serialize(const Metric& metric, std::string& out) override {
    append_object(metric, out);
    out += '\n';
  }

  void serialize_batch(std::span<const Metric> batch, std::string& out) override {
    out += "{\"metrics\":[";
    for (size_t i = 0; i < batch.size(); ++i) {
      if (i > 0) out += ',';
      append_object(batch[i], out);
    }
    out += "]}\n";
  }

 private:
  void append_object(const Metric& metric, std::string& out) const {
    out += "{\"fields\":{";
    bool first = true;
    for (const FieldRef f : metric.fields()) {
      // JSON has no NaN or infinity: such values are left out, as line protocol does.
      if (const double* d = std::get_if<double>(&f.value); d && !std::isfinite(*d)) continue;
      if (!first) out += ',';
      first = false;
      append_string(out, f.key);
      out += ':';
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
              append_string(out, v);
            } else if constexpr (std::is_same_v<T, bool>) {
              out += v ? "true" : "false";
            } else {
              append_number(out, v);
            }
          },
          f.value);
    }
    out += "},\"name\":";
    append_string(out, metric.name());
    out += ",\"tags\":{";
    for (size_t i = 0; i < metric.tags().size(); ++i) {
      if (i > 0) out += ',';
      append_string(out, metric.tags()[i].key);
      out += ':';
      append_string(out, metric.tags()[i].value);
    }
    out += "},\"timestamp\":";
    append_number(out, metric.time() / units_);
    out += '}';
  }

  int64_t units_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kSerializer;
  info.name = "json";
  info.description = "One JSON object per metric, or {\"metrics\":[...]} per batch";
  info.options = kOptions;
  info.create_serializer = [](const PluginContext& ctx) -> std::unique_ptr<Serializer> {
    int64_t units = ctx.options.get_duration("json_timestamp_units").count();
    if (units != 1 && units != 1'000 && units != 1'000'000 && units != 1'000'000'000) {
      throw OptionError("json_timestamp_units", "expected 1ns, 1us, 1ms or 1s");
    }
    return std::make_unique<JsonSerializer>(units);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::serializers::json
