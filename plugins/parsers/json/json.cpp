// The json data format, after Telegraf's json_v2: paths select the measurement name, the tags,
// typed fields and the time; or, in objects mode, every object of an array (or the document)
// becomes one metric, nested objects flattened with "_".
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/time_layout.hpp"
#include "parsers/json/path.hpp"
#include "parsers/parse_text.hpp"
#include "plugin/registry.hpp"

namespace sluice::parsers::json {
namespace {

using nlohmann::json;

const std::vector<OptionSpec> kOptions = {
    {"json_measurement_name", OptionType::kString, "",
     "json parser: the measurement name (default: metric_name, else json)"},
    {"json_measurement_name_path", OptionType::kString, "",
     "json parser: path of the measurement name in the document (wins over the above)"},
    {"json_timestamp_path", OptionType::kString, "", "json parser: path of the time"},
    {"json_timestamp_format", OptionType::kString, "unix",
     "json parser: unix, unix_ms, unix_us, unix_ns or a Go layout"},
    {"json_timezone", OptionType::kString, "UTC",
     "json parser: zone of times without an offset: UTC, Local or an IANA name"},
    {"json_tags", OptionType::kStringMapList, "",
     "json parser: tags, each {path, rename, optional}"},
    {"json_fields", OptionType::kStringMapList, "",
     "json parser: fields, each {path, rename, type (int, uint, float, bool, string), optional}"},
    {"json_object_path", OptionType::kString, "",
     "json parser: objects mode: each object at this path (@this: the document) is a metric "
     "(the default when json_fields is empty)"},
    {"json_object_tag_keys", OptionType::kStringList, "",
     "json parser, objects mode: keys whose values are tags"},
    {"json_object_included_keys", OptionType::kStringList, "",
     "json parser, objects mode: only these keys are fields (flattened names)"},
    {"json_object_excluded_keys", OptionType::kStringList, "",
     "json parser, objects mode: keys left out (flattened names)"},
    {"json_object_timestamp_key", OptionType::kString, "",
     "json parser, objects mode: key of each object's time"},
    {"json_object_field_types", OptionType::kStringMap, "",
     "json parser, objects mode: {key: type} for keys that need a type"},
};

enum class Type { kAuto, kInt, kUint, kFloat, kBool, kString };

std::optional<Type> type_from(std::string_view s) {
  if (s.empty() || s == "auto") return Type::kAuto;
  if (s == "int") return Type::kInt;
  if (s == "uint") return Type::kUint;
  if (s == "float") return Type::kFloat;
  if (s == "bool") return Type::kBool;
  if (s == "string") return Type::kString;
  return std::nullopt;
}

const char* type_name(Type t) {
  switch (t) {
    case Type::kInt:
      return "an integer";
    case Type::kUint:
      return "an unsigned integer";
    case Type::kFloat:
      return "a float";
    case Type::kBool:
      return "a boolean";
    case Type::kString:
      return "a string";
    default:
      return "a value";
  }
}

// A JSON value as text: strings as they are, the rest as JSON.
std::string text_of(const json& v) {
  if (v.is_string()) return v.get_ref<const std::string&>();
  return v.dump();
}

// Converts a JSON scalar to a field value of the given type; nullopt when it cannot.
std::optional<FieldValue> convert(const json& v, Type type) {
  switch (type) {
    case Type::kAuto:
      if (v.is_number_unsigned()) {
        uint64_t u = v.get<uint64_t>();
        if (u <= static_cast<uint64_t>(INT64_MAX)) return FieldValue(static_cast<int64_t>(u));
        return FieldValue(u);
      }
      if (v.is_number_integer()) return FieldValue(v.get<int64_t>());
      if (v.is_number_float()) return FieldValue(v.get<double>());
      if (v.is_boolean()) return FieldValue(v.get<bool>());
      if (v.is_string()) return FieldValue(v.get<std::string>());
      return std::nullopt;
    case Type::kInt:
      if (v.is_number_unsigned()) {
        uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
        return FieldValue(static_cast<int64_t>(u));
      }
      if (v.is_number_integer()) return FieldValue(v.get<int64_t>());
      if (v.is_number_float()) {
        double d = v.get<double>();
        if (!(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18)) return std::nullopt;
        return FieldValue(static_cast<int64_t>(d));
      }
      if (v.is_boolean()) return FieldValue(int64_t{v.get<bool>() ? 1 : 0});
      if (v.is_string()) {
        if (auto i = parse_int(v.get_ref<const std::string&>())) return FieldValue(*i);
      }
      return std::nullopt;
    case Type::kUint:
      if (v.is_number_unsigned()) return FieldValue(v.get<uint64_t>());
      if (v.is_number_integer()) return std::nullopt;  // negative
      if (v.is_number_float()) {
        double d = v.get<double>();
        if (!(d >= 0 && d < 1.8446744073709552e19)) return std::nullopt;
        return FieldValue(static_cast<uint64_t>(d));
      }
      if (v.is_boolean()) return FieldValue(uint64_t{v.get<bool>() ? 1u : 0u});
      if (v.is_string()) {
        if (auto u = parse_uint(v.get_ref<const std::string&>())) return FieldValue(*u);
      }
      return std::nullopt;
    case Type::kFloat:
      if (v.is_number()) return FieldValue(v.get<double>());
      if (v.is_boolean()) return FieldValue(v.get<bool>() ? 1.0 : 0.0);
      if (v.is_string()) {
        if (auto f = parse_float(v.get_ref<const std::string&>())) return FieldValue(*f);
      }
      return std::nullopt;
    case Type::kBool:
      if (v.is_boolean()) return FieldValue(v.get<bool>());
      if (v.is_number()) return FieldValue(v.get<double>() != 0);
      if (v.is_string()) {
        if (auto b = parse_bool(v.get_ref<const std::string&>())) return FieldValue(*b);
      }
      return std::nullopt;
    case Type::kString:
      if (v.is_structured() || v.is_null()) return std::nullopt;
      return FieldValue(text_of(v));
  }
  return std::nullopt;
}

struct Selector {
  JsonPath path;
  std::string name;
  Type type = Type::kAuto;
  bool optional = false;
};

struct Config {
  std::string measurement;
  std::optional<JsonPath> measurement_path;
  std::optional<JsonPath> timestamp_path;
  core::TimeLayout layout;
  core::TimeZone zone;
  std::vector<Selector> tags;
  std::vector<Selector> fields;
  std::optional<JsonPath> object_path;
  std::vector<std::string> tag_keys, included, excluded;
  std::string timestamp_key;
  std::vector<std::pair<std::string, Type>> key_types;
};

class JsonParser : public Parser {
 public:
  explicit JsonParser(Config config) : c_(std::move(config)) {}

  void parse(std::string_view data, int64_t now, Batch& out,
             std::vector<ParseError>& errors) override {
    if (trim(data).empty()) return;
    json doc = json::parse(data.begin(), data.end(), nullptr, false);
    if (doc.is_discarded()) {
      if (!parse_json_lines(data, now, out, errors)) report_syntax_error(data, 0, errors);
      return;
    }
    parse_document(doc, now, out, errors);
  }

 private:
  void parse_document(const json& doc, int64_t now, Batch& out, std::vector<ParseError>& errors) {
    if (c_.object_path) {
      parse_objects(doc, now, out, errors);
    } else {
      parse_paths(doc, now, out, errors);
    }
  }

  // JSON Lines: when the message is not one document but its first line is, each line is a
  // document of its own, and a bad line does not stop the others.
  bool parse_json_lines(std::string_view data, int64_t now, Batch& out,
                        std::vector<ParseError>& errors) {
    size_t first_end = data.find('\n');
    if (first_end == std::string_view::npos) return false;
    std::string_view first = data.substr(0, first_end);
    if (trim(first).empty() || !json::accept(first.begin(), first.end())) return false;
    size_t line_no = 0;
    size_t start = 0;
    while (start < data.size()) {
      size_t end = data.find('\n', start);
      if (end == std::string_view::npos) end = data.size();
      ++line_no;
      std::string_view line = data.substr(start, end - start);
      start = end + 1;
      if (trim(line).empty()) continue;
      json doc = json::parse(line.begin(), line.end(), nullptr, false);
      if (doc.is_discarded()) {
        report_syntax_error(line, line_no - 1, errors);
        continue;
      }
      parse_document(doc, now, out, errors);
    }
    return true;
  }

  // The document is invalid: parse it again with exceptions to learn where and why.
  // `lines_before`: lines of the message before `data` (for JSON Lines).
  static void report_syntax_error(std::string_view data, size_t lines_before,
                                  std::vector<ParseError>& errors) {
    try {
      json unused = json::parse(data.begin(), data.end());
      (void)unused;
      errors.push_back({0, 0, "invalid JSON"});
    } catch (const json::parse_error& e) {
      size_t byte = e.byte == 0 ? 0 : e.byte - 1;
      Position p = position_of(data, byte);
      std::string reason = e.what();
      // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error ..."
      if (size_t colon = reason.find(": "); colon != std::string::npos) {
        reason = reason.substr(colon + 2);
      }
      errors.push_back({p.line + lines_before, p.column, "invalid JSON: " + reason});
    }
  }

  // The time at `v`, or nullopt with an error appended.
  std::optional<int64_t> read_time(const json& v, std::string_view where,
                                   std::vector<ParseError>& errors) const {
    std::optional<int64_t> t;
    if (v.is_string() || v.is_number()) t = c_.layout.parse(text_of(v), c_.zone);
    if (!t) {
      errors.push_back({0, 0,
                        std::string(where) + ": " + excerpt(text_of(v)) +
                            " is not a time in json_timestamp_format"});
    }
    return t;
  }

  std::string measurement_of(const json& doc) const {
    if (c_.measurement_path) {
      selected_.clear();
      c_.measurement_path->select(doc, selected_);
      if (!selected_.empty() && selected_[0]->is_string()) {
        return selected_[0]->get<std::string>();
      }
    }
    return c_.measurement;
  }

  // Paths mode: values of paths with # make one metric per element; single values are shared.
  void parse_paths(const json& doc, int64_t now, Batch& out, std::vector<ParseError>& errors) {
    const std::string name = measurement_of(doc);
    size_t count = 1;
    std::string count_path;
    std::vector<std::vector<const json*>> tag_values(c_.tags.size());
    std::vector<std::vector<const json*>> field_values(c_.fields.size());
    std::vector<const json*> time_values;
    auto collect = [&](const Selector& s, std::vector<const json*>& values) -> bool {
      bool empty_array = false;
      s.path.select(doc, values, &empty_array);
      if (values.empty() && empty_array && count_path.empty()) {
        count = 0;  // an empty array: no metric, and no error
        count_path = s.path.text();
        return true;
      }
      if (values.empty() && !s.optional) {
        errors.push_back({0, 0, "path " + s.path.text() + " not found in the document"});
        return false;
      }
      if (values.size() > 1 || s.path.multi()) {
        if (count_path.empty()) {
          count = values.size();
          count_path = s.path.text();
        } else if (values.size() != count && !values.empty()) {
          errors.push_back({0, 0,
                            "path " + s.path.text() + " selects " + std::to_string(values.size()) +
                                " values, path " + count_path + " " + std::to_string(count)});
          return false;
        }
      }
      return true;
    };
    for (size_t i = 0; i < c_.tags.size(); ++i) {
      if (!collect(c_.tags[i], tag_values[i])) return;
    }
    for (size_t i = 0; i < c_.fields.size(); ++i) {
      if (!collect(c_.fields[i], field_values[i])) return;
    }
    if (c_.timestamp_path) {
      Selector s{*c_.timestamp_path, "", Type::kAuto, false};
      if (!collect(s, time_values)) return;
    }
    auto pick = [&](const std::vector<const json*>& values, size_t i) -> const json* {
      if (values.empty()) return nullptr;
      return values.size() == 1 ? values[0] : values[i];
    };
    for (size_t i = 0; i < count; ++i) {
      Metric metric(name, now);
      bool ok = true;
      for (size_t t = 0; t < c_.tags.size() && ok; ++t) {
        const json* v = pick(tag_values[t], i);
        if (v == nullptr || v->is_null()) continue;
        if (v->is_structured()) {
          errors.push_back(
              {0, 0,
               "tag path " + c_.tags[t].path.text() + " selects an object or array, not a value"});
          ok = false;
          break;
        }
        metric.set_tag(c_.tags[t].name, text_of(*v));
      }
      for (size_t f = 0; f < c_.fields.size() && ok; ++f) {
        const json* v = pick(field_values[f], i);
        if (v == nullptr || v->is_null()) continue;
        std::optional<FieldValue> value = convert(*v, c_.fields[f].type);
        if (!value) {
          errors.push_back({0, 0,
                            "field path " + c_.fields[f].path.text() + ": " + excerpt(text_of(*v)) +
                                " is not " + type_name(c_.fields[f].type)});
          ok = false;
          break;
        }
        metric.set_field(c_.fields[f].name, std::move(*value));
      }
      if (ok && !time_values.empty()) {
        auto t =
            read_time(*pick(time_values, i), "timestamp path " + c_.timestamp_path->text(), errors);
        if (!t) continue;
        metric.set_time(*t);
      }
      if (!ok) continue;
      if (metric.fields().empty()) {
        errors.push_back({0, 0, "no field selected for metric " + std::to_string(i + 1)});
        continue;
      }
      out.push_back(std::move(metric));
    }
  }

  // Objects mode.
  void parse_objects(const json& doc, int64_t now, Batch& out, std::vector<ParseError>& errors) {
    std::vector<const json*> roots;
    c_.object_path->select(doc, roots);
    if (roots.empty()) {
      errors.push_back({0, 0, "object path " + c_.object_path->text() + " not found"});
      return;
    }
    const std::string name = measurement_of(doc);
    // Shared tags and fields from the document (each one value).
    Metric shared(name, now);
    for (const Selector& s : c_.tags) {
      selected_.clear();
      s.path.select(doc, selected_);
      if (!selected_.empty() && !selected_[0]->is_structured() && !selected_[0]->is_null()) {
        shared.set_tag(s.name, text_of(*selected_[0]));
      }
    }
    std::vector<const json*> objects;
    for (const json* r : roots) {
      if (r->is_array()) {
        for (const json& e : *r) objects.push_back(&e);
      } else {
        objects.push_back(r);
      }
    }
    for (size_t i = 0; i < objects.size(); ++i) {
      const json& o = *objects[i];
      std::string where = "object " + std::to_string(i);
      if (!o.is_object()) {
        errors.push_back({0, 0, where + " at " + c_.object_path->text() + " is not an object"});
        continue;
      }
      Metric metric = shared;
      bool ok = true;
      std::string key;
      flatten(o, key, metric, where, ok, errors);
      if (!ok) continue;
      if (metric.fields().empty()) {
        errors.push_back({0, 0, where + " has no field"});
        continue;
      }
      out.push_back(std::move(metric));
    }
  }

  bool contains(const std::vector<std::string>& list, const std::string& s) const {
    return std::find(list.begin(), list.end(), s) != list.end();
  }

  void flatten(const json& v, std::string& key, Metric& metric, const std::string& where, bool& ok,
               std::vector<ParseError>& errors) {
    if (!ok) return;
    if (v.is_object() || v.is_array()) {
      size_t base = key.size();
      size_t index = 0;
      for (auto it = v.begin(); it != v.end(); ++it, ++index) {
        if (base > 0) key += '_';
        if (v.is_object()) {
          key += it.key();
        } else {
          key += std::to_string(index);
        }
        flatten(*it, key, metric, where, ok, errors);
        key.resize(base);
      }
      return;
    }
    if (v.is_null()) return;
    if (key == c_.timestamp_key) {
      auto t = read_time(v, where + " key " + key, errors);
      if (!t) {
        ok = false;
        return;
      }
      metric.set_time(*t);
      return;
    }
    if (contains(c_.tag_keys, key)) {
      metric.set_tag(key, text_of(v));
      return;
    }
    if (contains(c_.excluded, key)) return;
    if (!c_.included.empty() && !contains(c_.included, key)) return;
    Type type = Type::kAuto;
    for (const auto& [k, t] : c_.key_types) {
      if (k == key) type = t;
    }
    std::optional<FieldValue> value = convert(v, type);
    if (!value) {
      errors.push_back(
          {0, 0,
           where + " key " + key + ": " + excerpt(text_of(v)) + " is not " + type_name(type)});
      ok = false;
      return;
    }
    metric.set_field(key, std::move(*value));
  }

  Config c_;
  mutable std::vector<const json*> selected_;
};

std::optional<std::string> entry(const StringMap& m, std::string_view key) {
  for (const auto& [k, v] : m) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::vector<Selector> selectors(const Options& o, const char* option, bool typed) {
  std::vector<Selector> out;
  for (const StringMap& m : o.get_string_map_list(option)) {
    for (const auto& [k, v] : m) {
      if (k != "path" && k != "rename" && k != "optional" && !(typed && k == "type")) {
        throw OptionError(option, "unknown key \"" + k + "\" (known: path, rename, optional" +
                                      (typed ? ", type)" : ")"));
      }
    }
    auto path_text = entry(m, "path");
    if (!path_text || path_text->empty()) throw OptionError(option, "every entry needs a path");
    std::string error;
    auto path = JsonPath::compile(*path_text, &error);
    if (!path) throw OptionError(option, error);
    Selector s{std::move(*path), "", Type::kAuto, false};
    s.name = entry(m, "rename").value_or(s.path.default_name());
    if (s.name.empty()) throw OptionError(option, "path " + *path_text + " needs a rename");
    if (auto t = entry(m, "type")) {
      auto type = type_from(*t);
      if (!type)
        throw OptionError(option, "type \"" + *t + "\" is not int, uint, float, bool or string");
      s.type = *type;
    }
    if (auto opt = entry(m, "optional")) {
      auto b = parse_bool(*opt);
      if (!b) throw OptionError(option, "optional is true or false");
      s.optional = *b;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<JsonPath> path_option(const Options& o, const char* option) {
  const std::string& text = o.get_string(option);
  if (text.empty()) return std::nullopt;
  std::string error;
  auto path = JsonPath::compile(text, &error);
  if (!path) throw OptionError(option, error);
  return path;
}

std::unique_ptr<Parser> create(const PluginContext& ctx) {
  const Options& o = ctx.options;
  Config c;
  c.measurement = o.get_string("json_measurement_name");
  if (c.measurement.empty()) c.measurement = metric_name_option(o, "json");
  c.measurement_path = path_option(o, "json_measurement_name_path");
  c.timestamp_path = path_option(o, "json_timestamp_path");
  std::string error;
  auto layout = core::TimeLayout::compile(o.get_string("json_timestamp_format"), &error);
  if (!layout) throw OptionError("json_timestamp_format", error);
  c.layout = *layout;
  auto zone = core::TimeZone::load(o.get_string("json_timezone"), &error);
  if (!zone) throw OptionError("json_timezone", error);
  c.zone = *zone;
  c.tags = selectors(o, "json_tags", false);
  c.fields = selectors(o, "json_fields", true);
  c.object_path = path_option(o, "json_object_path");
  if (!c.object_path && c.fields.empty()) c.object_path = JsonPath::compile("@this", &error);
  if (c.object_path && !c.fields.empty()) {
    throw OptionError("json_fields",
                      "objects mode (json_object_path) takes its fields from the "
                      "objects; use json_object_included_keys");
  }
  c.tag_keys = o.get_strings("json_object_tag_keys");
  c.included = o.get_strings("json_object_included_keys");
  c.excluded = o.get_strings("json_object_excluded_keys");
  c.timestamp_key = o.get_string("json_object_timestamp_key");
  for (const auto& [k, v] : o.get_string_map("json_object_field_types")) {
    auto t = type_from(v);
    if (!t) {
      throw OptionError("json_object_field_types",
                        "type \"" + v + "\" of " + k + " is not int, uint, float, bool or string");
    }
    c.key_types.emplace_back(k, *t);
  }
  return std::make_unique<JsonParser>(std::move(c));
}

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kParser;
  info.name = "json";
  info.description = "JSON documents, with paths or objects to metrics (as json_v2)";
  info.options = kOptions;
  info.create_parser = create;
  registry.add(std::move(info));
}

}  // namespace sluice::parsers::json
