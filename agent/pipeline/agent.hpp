// The running agent: loads the config, runs a Pipeline, and answers signals. SIGTERM/SIGINT
// drain and stop, SIGHUP reloads (a bad config keeps the old one running), SIGUSR1 flushes.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "pipeline/clock.hpp"
#include "pipeline/pipeline.hpp"

namespace sluice::pipeline {

class Agent {
 public:
  explicit Agent(config::LoadOptions load_options, const Clock& clock = SystemClock::instance());
  ~Agent();

  // Loads the config and starts the pipeline. Throws config::ConfigError.
  void start();
  // Loads the config again and swaps pipelines, keeping the outputs (and their buffers) whose
  // config did not change. On error the old pipeline keeps running; returns the error.
  std::optional<std::string> reload();
  void flush();
  // Drains and stops within agent.shutdown_timeout.
  void stop();

  // Blocks SIGTERM, SIGINT, SIGHUP and SIGUSR1 in the calling thread (and in the threads it
  // starts later). Call before start().
  static void block_signals();
  // Handles signals until SIGTERM or SIGINT, then stops. Returns the exit code.
  int run_until_signalled();

  const config::Config& config() const { return config_; }
  Pipeline& pipeline() { return *pipeline_; }

 private:
  config::LoadOptions load_options_;
  const Clock& clock_;
  config::Config config_;
  std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace sluice::pipeline
