// Logging through spdlog: "2026-01-02T03:04:05Z I! [inputs.cpu] message", UTC, to stderr (the
// journal under systemd) or a file.
#pragma once

#include <string>

#include "sluice/plugin.hpp"

namespace sluice::core {

// Sets the process-wide log level ("debug", "info", "warn", "error") and target (empty:
// stderr). Throws std::runtime_error when the file cannot be opened.
void setup_logging(const std::string& level, const std::string& logfile);

void log(LogLevel level, const std::string& message);
inline void log_info(const std::string& m) { log(LogLevel::kInfo, m); }
inline void log_warn(const std::string& m) { log(LogLevel::kWarn, m); }
inline void log_error(const std::string& m) { log(LogLevel::kError, m); }
inline void log_debug(const std::string& m) { log(LogLevel::kDebug, m); }

// A plugin's logger: prefixes every line with its id, e.g. "[outputs.file::local] ".
class PluginLogger final : public Logger {
 public:
  explicit PluginLogger(std::string id) : prefix_("[" + std::move(id) + "] ") {}
  void log(LogLevel level, std::string_view message) override;
  bool enabled(LogLevel level) const override;

 private:
  std::string prefix_;
};

}  // namespace sluice::core
