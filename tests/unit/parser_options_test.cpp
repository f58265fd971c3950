// The data formats' options as an input that reads bytes gets them: merged into one table, each
// name once, every default readable by the config reader, and each format built from YAML.
#include <doctest/doctest.h>

#include <set>

#include "config/option_reader.hpp"
#include "config/option_tables.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/registry.hpp"

using namespace sluice;

namespace {

class NullLog final : public Logger {
 public:
  void log(LogLevel, std::string_view) override {}
  bool enabled(LogLevel) const override { return false; }
};

plugin::PluginInfo reading_input() {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "reads_bytes";
  info.uses_parser = true;
  return info;
}

Batch parse_with(const std::string& yaml, std::string_view data) {
  plugin::PluginInfo info = reading_input();
  std::vector<OptionSpec> table = config::all_options(info, plugin::Registry::builtins());
  auto read = config::read_options(YAML::Load(yaml), table, "test.yaml", "inputs.reads_bytes");
  NullLog log;
  auto parser = plugin::make_parser(PluginContext{read.options, log});
  Batch out;
  std::vector<ParseError> errors;
  parser->parse(data, 1, out, errors);
  CHECK(errors.empty());
  return out;
}

}  // namespace

TEST_CASE("every data format option is declared once in an input's merged table") {
  plugin::PluginInfo info = reading_input();
  std::vector<OptionSpec> table = config::all_options(info, plugin::Registry::builtins());
  std::set<std::string_view> names;
  for (const OptionSpec& spec : table) {
    INFO("option " << spec.name);
    CHECK(names.insert(spec.name).second);
  }
  for (std::string_view name : {"csv_delimiter", "json_fields", "templates", "separator",
                                "data_type", "metric_name", "collectd_typesdb"}) {
    CHECK(names.count(name) == 1);
  }
  // Every default reads as YAML of its type (an empty config takes them all).
  auto read = config::read_options(YAML::Load("{}"), table, "test.yaml", "inputs.reads_bytes");
  CHECK(read.options.get_string("csv_delimiter") == ",");
  CHECK(read.options.get_string("separator") == ".");
  CHECK(read.options.get_strings("collectd_typesdb") ==
        std::vector<std::string>{"/usr/share/collectd/types.db"});
}

TEST_CASE("each data format is built from an input's YAML options") {
  Batch b = parse_with(
      "{data_format: csv, csv_delimiter: ';', csv_column_names: [a, b], "
      "metric_name: m}",
      "1;x\n");
  REQUIRE(b.size() == 1);
  CHECK(b[0].name() == "m");
  CHECK(b[0].fields() == std::vector<Field>{{"a", int64_t{1}}, {"b", std::string("x")}});

  b = parse_with(
      "{data_format: json, json_fields: [{path: v, type: int, rename: n}], "
      "json_measurement_name: j}",
      R"({"v": "7"})");
  REQUIRE(b.size() == 1);
  CHECK(b[0].name() == "j");
  CHECK(b[0].fields() == std::vector<Field>{{"n", int64_t{7}}});

  b = parse_with("{data_format: graphite, separator: _, templates: [\"measurement.field\"]}",
                 "cpu.idle.x 5 1700000000\n");
  REQUIRE(b.size() == 1);
  CHECK(b[0].name() == "cpu");
  CHECK(b[0].fields() == std::vector<Field>{{"idle", 5.0}});

  b = parse_with("{data_format: value, data_type: boolean, value_field_name: up}", "true");
  REQUIRE(b.size() == 1);
  CHECK(b[0].name() == "value");
  CHECK(b[0].fields() == std::vector<Field>{{"up", true}});

  b = parse_with("{data_format: collectd, collectd_typesdb: [\"" SLUICE_FIXTURES_DIR
                 "/collectd/types.db\"]}",
                 std::string("\x00\x02\x00\x09"
                             "load\x00"  // plugin
                             "\x00\x04\x00\x08"
                             "cpu\x00"  // type
                             "\x00\x06\x00\x0f\x00\x01\x02\x00\x00\x00\x00\x00\x00\x00\x2a",
                             32));
  REQUIRE(b.size() == 1);
  CHECK(b[0].name() == "load_value");
  CHECK(b[0].fields() == std::vector<Field>{{"value", 42.0}});
}
