// Helpers for aggregator tests: create a built-in aggregator from YAML options (read by the
// config loader's own option reader, so defaults and types are exactly what the agent uses),
// feed it line protocol, and read what it pushes as line protocol.
#pragma once

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/option_reader.hpp"
#include "lineproto/parser.hpp"
#include "plugin_test_support.hpp"

namespace sluice::testing {

inline const plugin::PluginInfo& aggregator_info(std::string_view name) {
  const plugin::PluginInfo* info = builtin_registry().find(plugin::Kind::kAggregator, name);
  if (info == nullptr) throw std::logic_error("no built-in aggregator " + std::string(name));
  return *info;
}

inline Options aggregator_options(std::string_view name, const std::string& yaml) {
  const plugin::PluginInfo& info = aggregator_info(name);
  return config::read_options(YAML::Load(yaml), info.options, "test.yaml",
                              "aggregators." + std::string(name))
      .options;
}

// Creates a built-in aggregator with the options written as a YAML map, e.g. "{stats: [min]}".
inline std::unique_ptr<Aggregator> make_aggregator(std::string_view name,
                                                   const std::string& yaml = "{}") {
  static NullLogger log;
  Options options = aggregator_options(name, yaml);
  return aggregator_info(name).create_aggregator(PluginContext{options, log});
}

// The OptionError a plugin raises for these options, as "option: message"; "" when none.
inline std::string option_error(std::string_view name, const std::string& yaml) {
  try {
    make_aggregator(name, yaml);
  } catch (const OptionError& e) {
    return e.option() + ": " + e.what();
  }
  return "";
}

// Parses line protocol; a test's input must be valid.
inline Batch parse_lines(std::string_view text) {
  lineproto::Parser parser;
  Batch batch;
  std::vector<lineproto::ParseError> errors;
  parser.parse(text, batch, &errors);
  if (!errors.empty()) throw std::logic_error("bad test input: " + errors.front().message());
  return batch;
}

inline void add_lines(Aggregator& aggregator, std::string_view text) {
  for (const Metric& m : parse_lines(text)) aggregator.add(m);
}

// Pushes the window stamped `time` and returns what came out as line protocol; then resets,
// as the host does at the end of a window.
inline std::string push_lines(Aggregator& aggregator, int64_t time = kGatherTime) {
  RecordingAccumulator acc(time);
  aggregator.push(acc);
  aggregator.reset();
  CHECK(acc.errors.empty());
  return acc.lines();
}

// Pushes without reset, keeping the metrics (to look at types).
inline std::vector<Metric> push_metrics(Aggregator& aggregator, int64_t time = kGatherTime) {
  RecordingAccumulator acc(time);
  aggregator.push(acc);
  return acc.metrics;
}

}  // namespace sluice::testing
