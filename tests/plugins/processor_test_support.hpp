// Helpers for processor tests: a processor built from YAML options read by the config loader's
// own reader, batches written as line protocol, and a logger that keeps what it is told.
#pragma once

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "config/option_reader.hpp"
#include "lineproto/parser.hpp"
#include "lineproto/serializer.hpp"
#include "plugin/registry.hpp"
#include "sluice/plugin.hpp"

namespace sluice::testing {

// Keeps every line it is given, "level: message"; safe to use from several threads.
class CapturingLogger final : public Logger {
 public:
  void log(LogLevel level, std::string_view message) override {
    static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
    std::lock_guard lock(mutex_);
    lines_.push_back(std::string(kNames[static_cast<int>(level)]) + ": " + std::string(message));
  }
  bool enabled(LogLevel) const override { return true; }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  bool contains(std::string_view needle) const {
    std::lock_guard lock(mutex_);
    for (const std::string& l : lines_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

inline const plugin::PluginInfo& processor_info(std::string_view name) {
  const plugin::PluginInfo* info =
      plugin::Registry::builtins().find(plugin::Kind::kProcessor, name);
  if (info == nullptr) throw std::logic_error("no built-in processor " + std::string(name));
  return *info;
}

// The processor's own options read from YAML text (a map), defaults filled in.
inline Options processor_options(std::string_view name, std::string_view yaml) {
  const plugin::PluginInfo& info = processor_info(name);
  return config::read_options(YAML::Load(std::string(yaml)), info.options, "test.yaml",
                              "processors." + std::string(name))
      .options;
}

inline Logger& quiet_logger() {
  static CapturingLogger logger;
  return logger;
}

// Creates a built-in processor from YAML options, as the agent would.
inline std::unique_ptr<Processor> make_processor(std::string_view name,
                                                 std::string_view yaml = "{}",
                                                 Logger& log = quiet_logger()) {
  Options options = processor_options(name, yaml);
  PluginContext ctx{options, log};
  return processor_info(name).create_processor(ctx);
}

// Line protocol to metrics; the text must be valid.
inline Batch parse_lines(std::string_view text) {
  lineproto::Parser parser;
  Batch batch;
  std::vector<lineproto::ParseError> errors;
  parser.parse(text, batch, &errors);
  if (!errors.empty()) throw std::logic_error("bad test line protocol: " + errors[0].message());
  return batch;
}

inline std::string to_lines(const Batch& batch) {
  std::string out;
  lineproto::serialize_batch(batch, out);
  return out;
}

// Runs line protocol through a processor and returns its output as line protocol.
inline std::string run_lines(Processor& processor, std::string_view lines) {
  return to_lines(processor.process(parse_lines(lines)));
}

}  // namespace sluice::testing
