#include "core/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

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

// "<6>" and the like: journald reads the line's priority from this prefix.
class JournalPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view prefix = "<6>";
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug: prefix = "<7>"; break;
      case spdlog::level::warn: prefix = "<4>"; break;
      case spdlog::level::err: prefix = "<3>"; break;
      case spdlog::level::critical: prefix = "<2>"; break;
      default: break;
    }
    dest.append(prefix.data(), prefix.data() + prefix.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JournalPriority>();
  }
};

// True when stderr is connected to the journal (systemd sets JOURNAL_STREAM to its device and
// inode).
bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return std::string(stream) == std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
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
  if (logfile.empty() && stderr_is_journal()) {
    // The journal stamps lines itself and maps the prefix to a priority.
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<JournalPriority>('*').set_pattern("%*%L! %v");
    logger->set_formatter(std::move(formatter));
  } else {
    // Telegraf's layout, so log tooling that knows it keeps working.
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%SZ %L! %v", spdlog::pattern_time_type::utc));
  }
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
