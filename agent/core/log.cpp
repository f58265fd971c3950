#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace sluice::core {
namespace {

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void setup_logging(const std::string& level, const std::string& logfile) {
  std::shared_ptr<spdlog::logger> logger;
  if (logfile.empty()) {
    logger = std::make_shared<spdlog::logger>(
        "sluice", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    try {
      logger = std::make_shared<spdlog::logger>(
          "sluice", std::make_shared<spdlog::sinks::basic_file_sink_mt>(logfile));
    } catch (const spdlog::spdlog_ex& e) {
      throw std::runtime_error("cannot open log file " + logfile + ": " + e.what());
    }
  }
  // Telegraf's layout, so log tooling that knows it keeps working.
  logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
      "%Y-%m-%dT%H:%M:%SZ %L! %v", spdlog::pattern_time_type::utc));
  logger->set_level(spdlog::level::from_str(level == "warn" ? "warning" : level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void log(LogLevel level, const std::string& message) {
  spdlog::default_logger_raw()->log(to_spdlog(level), "{}", message);
}

void PluginLogger::log(LogLevel level, std::string_view message) {
  spdlog::default_logger_raw()->log(to_spdlog(level), "{}{}", prefix_, message);
}

bool PluginLogger::enabled(LogLevel level) const {
  return spdlog::default_logger_raw()->should_log(to_spdlog(level));
}

}  // namespace sluice::core
