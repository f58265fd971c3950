// The influx data format: InfluxDB line protocol in, for inputs that read bytes.
#include <memory>
#include <string>
#include <vector>

#include "lineproto/parser.hpp"
#include "plugin/registry.hpp"

namespace sluice::parsers::influx {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"influx_timestamp_precision", OptionType::kDuration, "1ns",
     "The unit of the timestamps read: 1ns, 1us, 1ms or 1s"},
};

class InfluxParser : public Parser {
 public:
  explicit InfluxParser(const lineproto::ParserOptions& options) : parser_(options) {}

  void parse(std::string_view data, int64_t now, Batch& out,
             std::vector<ParseError>& errors) override {
    lineproto::ParserOptions options = parser_.options();
    options.default_time = now;
    parser_.set_options(options);
    line_errors_.clear();
    parser_.parse(data, out, &line_errors_);
    for (auto& e : line_errors_) errors.push_back({e.line, e.column, std::move(e.reason)});
  }

  bool splits_on_lines() const override { return true; }

 private:
  lineproto::Parser parser_;
  std::vector<lineproto::ParseError> line_errors_;
};

std::unique_ptr<Parser> create(const PluginContext& ctx) {
  lineproto::ParserOptions options;
  const auto ns = ctx.options.get_duration("influx_timestamp_precision").count();
  auto precision = lineproto::precision_from_nanoseconds(ns == 0 ? 1 : ns);
  if (!precision) {
    throw OptionError("influx_timestamp_precision",
                      "line protocol timestamps are in 1ns, 1us, 1ms or 1s");
  }
  options.precision = *precision;
  return std::make_unique<InfluxParser>(options);
}

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kParser;
  info.name = "influx";
  info.description = "InfluxDB line protocol";
  info.options = kOptions;
  info.create_parser = create;
  registry.add(std::move(info));
}

}  // namespace sluice::parsers::influx
