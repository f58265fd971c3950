// run, test, once and check: the commands that load a config.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "cli/commands.hpp"
#include "core/log.hpp"
#include "lineproto/serializer.hpp"
#include "pipeline/agent.hpp"
#include "pipeline/pipeline.hpp"

namespace sluice::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSystemConfig = "/etc/sluice/sluice.yaml";
constexpr const char* kSystemConfigDir = "/etc/sluice/sluice.d";

// Creates the pidfile on start and removes it on exit.
class PidFile {
 public:
  explicit PidFile(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    FILE* f = std::fopen(path_.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write pidfile " + path_);
    std::fprintf(f, "%d\n", static_cast<int>(getpid()));
    std::fclose(f);
  }
  ~PidFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }

 private:
  std::string path_;
};

void setup_logging(const CommonOptions& options, const config::Config* config,
                   const std::string& fallback_level) {
  std::string level = options.log_level;
  if (level.empty()) level = config ? config->agent.log_level : fallback_level;
  core::setup_logging(level, config ? config->agent.logfile : "");
}

// Loads the config or reports why not, for the commands that need one. Notes of loading
// plugin libraries (those skipped) go to stderr: logging is not set up yet.
std::optional<config::Config> load_or_report(const config::LoadOptions& load,
                                             bool print_warnings = true) {
  try {
    config::Config config = config::load(load);
    if (print_warnings) {
      for (const std::string& w : config.plugin_warnings) {
        std::cerr << "sluice: warning: " << w << "\n";
      }
    }
    return config;
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return std::nullopt;
  }
}

}  // namespace

config::LoadOptions load_options(const CommonOptions& options) {
  config::LoadOptions load;
  load.files = options.config_files;
  load.directories = options.config_directories;
  load.input_filter = split_names(options.input_filter);
  load.output_filter = split_names(options.output_filter);
  load.load_plugins = true;
  load.plugin_dirs = options.plugin_dirs;
  if (load.files.empty() && load.directories.empty()) {
    std::error_code ec;
    if (fs::exists(kSystemConfig, ec)) {
      load.files.push_back(kSystemConfig);
      if (fs::is_directory(kSystemConfigDir, ec)) load.directories.push_back(kSystemConfigDir);
    } else if (fs::exists(SLUICE_SOURCE_CONFIG, ec)) {
      // Run from a build tree: the repository's default config.
      load.files.push_back(SLUICE_SOURCE_CONFIG);
    }
  }
  return load;
}

int run_command(const CommonOptions& options) {
  config::LoadOptions load = load_options(options);
  // Validate before logging is set up, so a bad config is reported plainly. The agent logs the
  // notes of loading plugin libraries itself.
  std::optional<config::Config> config = load_or_report(load, false);
  if (!config) return 1;
  try {
    setup_logging(options, &*config, "info");
    PidFile pidfile(options.pidfile);
    pipeline::Agent::block_signals();
    pipeline::Agent agent(load);
    agent.start();
    core::log_info(fmt::format("config: {}", fmt::join(agent.config().files, ", ")));
    int code = agent.run_until_signalled();
    if (pipeline::RunningOutput::abandoned_loops() > 0) {
      // An output is stuck in a write: leave without destroying what it still uses.
      std::fflush(nullptr);
      std::_Exit(code);
    }
    return code;
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return 1;
  }
}

int test_command(const CommonOptions& options) {
  std::optional<config::Config> config = load_or_report(load_options(options));
  if (!config) return 1;
  try {
    setup_logging(options, nullptr, "warn");
    pipeline::Pipeline pipeline(*config, pipeline::SystemClock::instance());
    int64_t now = pipeline::SystemClock::instance().now();
    Batch batch = pipeline.gather_once(now, 500'000'000);
    std::string out;
    for (const Metric& m : batch) lineproto::serialize(m, out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return 1;
  }
}

int once_command(const CommonOptions& options) {
  std::optional<config::Config> config = load_or_report(load_options(options));
  if (!config) return 1;
  try {
    setup_logging(options, &*config, "info");
    const pipeline::Clock& clock = pipeline::SystemClock::instance();
    pipeline::Pipeline pipeline(*config, clock);
    pipeline.fan_out(pipeline.gather_once(clock.now(), 500'000'000));
    size_t unwritten = 0;
    for (const auto& output : pipeline.outputs()) {
      unwritten += output->stop(clock.now() + config->agent.shutdown_timeout.count());
    }
    if (unwritten > 0) {
      std::cerr << "sluice: " << unwritten << " metrics could not be written\n";
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return 1;
  }
}

int check_command(const CommonOptions& options) {
  config::LoadOptions load = load_options(options);
  std::optional<config::Config> config = load_or_report(load);
  if (!config) return 1;
  try {
    // Creating the plugins runs their own checks of option values; nothing starts.
    pipeline::Pipeline pipeline(*config, pipeline::SystemClock::instance());
  } catch (const std::exception& e) {
    std::cerr << "sluice: " << e.what() << "\n";
    return 1;
  }
  std::cout << "config OK: " << fmt::format("{}", fmt::join(config->files, ", ")) << " ("
            << config->inputs.size() << " inputs, " << config->processors.size()
            << " processors, " << config->aggregators.size() << " aggregators, "
            << config->outputs.size() << " outputs)\n";
  return 0;
}

}  // namespace sluice::cli
