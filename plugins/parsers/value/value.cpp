// The value data format: a message is one value (the output of `cat` on a /proc file, an MQTT
// payload), turned into one metric with a single field.
#include <memory>
#include <string>
#include <vector>

#include "parsers/parse_text.hpp"
#include "plugin/registry.hpp"

namespace sluice::parsers::value {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"data_type", OptionType::kString, "integer",
     "value parser: integer, float (or long), string, boolean, auto_integer or auto_float"},
    {"value_field_name", OptionType::kString, "value", "value parser: the name of the field"},
    {"metric_name", OptionType::kString, "",
     "Measurement name of the value, json and csv formats (default: the format's name)"},
};

enum class DataType { kInteger, kFloat, kString, kBoolean, kAutoInteger, kAutoFloat };

class ValueParser : public Parser {
 public:
  ValueParser(DataType type, std::string field, std::string name)
      : type_(type), field_(std::move(field)), name_(std::move(name)) {}

  void parse(std::string_view data, int64_t now, Batch& out,
             std::vector<ParseError>& errors) override {
    // Padding NULs (fixed-size buffers) and surrounding blanks are not part of the value.
    while (!data.empty() && (data.back() == '\0' || is_space(data.back()))) data.remove_suffix(1);
    size_t start = 0;
    while (start < data.size() && (data[start] == '\0' || is_space(data[start]))) ++start;
    std::string_view text = data.substr(start);
    size_t offset = start;
    if (type_ != DataType::kString) {
      // Only the last word counts, as Telegraf does ("entropy: 3042" reads 3042).
      size_t last = text.size();
      while (last > 0 && !is_space(text[last - 1])) --last;
      offset += last;
      text = text.substr(last);
    }
    if (text.empty()) return;  // an empty message is not an error: there is nothing to read

    std::optional<FieldValue> value = convert(text);
    if (!value) {
      Position p = position_of(data, offset);
      errors.push_back(
          {p.line, p.column, "\"" + excerpt(text) + "\" is not " + std::string(type_text())});
      return;
    }
    Metric metric(name_, now);
    metric.append_field(field_, std::move(*value));
    out.push_back(std::move(metric));
  }

 private:
  std::optional<FieldValue> convert(std::string_view text) const {
    switch (type_) {
      case DataType::kInteger:
        if (auto v = parse_int(text)) return FieldValue(*v);
        return std::nullopt;
      case DataType::kFloat:
        if (auto v = parse_float(text)) return FieldValue(*v);
        return std::nullopt;
      case DataType::kString:
        return FieldValue(std::string(text));
      case DataType::kBoolean:
        if (auto v = parse_bool(text)) return FieldValue(*v);
        return std::nullopt;
      case DataType::kAutoInteger:
        if (auto v = parse_int(text)) return FieldValue(*v);
        return FieldValue(std::string(text));
      case DataType::kAutoFloat:
        if (auto v = parse_float(text)) return FieldValue(*v);
        return FieldValue(std::string(text));
    }
    return std::nullopt;
  }

  std::string_view type_text() const {
    switch (type_) {
      case DataType::kInteger:
        return "a 64-bit integer";
      case DataType::kFloat:
        return "a float";
      case DataType::kBoolean:
        return "a boolean (true/false, t/f, 1/0)";
      default:
        return "a value";
    }
  }

  DataType type_;
  std::string field_;
  std::string name_;
};

std::unique_ptr<Parser> create(const PluginContext& ctx) {
  const std::string& t = ctx.options.get_string("data_type");
  DataType type;
  if (t == "integer" || t == "int" || t.empty()) {
    type = DataType::kInteger;
  } else if (t == "float" || t == "long") {
    type = DataType::kFloat;
  } else if (t == "string" || t == "str") {
    type = DataType::kString;
  } else if (t == "boolean" || t == "bool") {
    type = DataType::kBoolean;
  } else if (t == "auto_integer") {
    type = DataType::kAutoInteger;
  } else if (t == "auto_float") {
    type = DataType::kAutoFloat;
  } else {
    throw OptionError("data_type", "\"" + t +
                                       "\" is not integer, float, long, string, boolean, "
                                       "auto_integer or auto_float");
  }
  const std::string& field = ctx.options.get_string("value_field_name");
  if (field.empty()) throw OptionError("value_field_name", "the field name cannot be empty");
  return std::make_unique<ValueParser>(type, field, metric_name_option(ctx.options, "value"));
}

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kParser;
  info.name = "value";
  info.description = "One value per message, as one field";
  info.options = kOptions;
  info.create_parser = create;
  registry.add(std::move(info));
}

}  // namespace sluice::parsers::value
