#include "pipeline/agent.hpp"

#include <signal.h>

#include <fmt/format.h>

#include "core/log.hpp"
#include "core/service_notify.hpp"

namespace sluice::pipeline {
namespace {

// What survives a reload: outputs and aggregators whose config did not change.
std::set<std::string> kept_identities(const config::Config& config) {
  std::set<std::string> ids;
  for (const config::PluginConfig& pc : config.outputs) {
    ids.insert(pc.identity + "\n" + config.agent_identity);
  }
  for (const config::PluginConfig& pc : config.aggregators) ids.insert(pc.identity);
  return ids;
}

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGUSR1}) sigaddset(&set, s);
  return set;
}

std::string plugin_summary(const config::Config& config) {
  std::string out;
  auto list = [&](const char* what, const std::vector<config::PluginConfig>& plugins) {
    out += fmt::format(" {} [", what);
    for (size_t i = 0; i < plugins.size(); ++i) out += (i ? " " : "") + plugins[i].id().substr(plugins[i].id().find('.') + 1);
    out += "]";
  };
  list("inputs", config.inputs);
  list("processors", config.processors);
  list("aggregators", config.aggregators);
  list("outputs", config.outputs);
  return out;
}

// Plugin libraries skipped (agent.plugin_load_error: skip) and other notes of loading them.
void log_plugin_warnings(const config::Config& config) {
  for (const std::string& w : config.plugin_warnings) core::log_warn(w);
}

}  // namespace

Agent::Agent(config::LoadOptions load_options, const Clock& clock)
    : load_options_(std::move(load_options)), clock_(clock) {}

Agent::~Agent() { stop(); }

void Agent::start() {
  config_ = config::load(load_options_);
  log_plugin_warnings(config_);
  pipeline_ = std::make_unique<Pipeline>(config_, clock_);
  pipeline_->start();
  core::log_info(fmt::format("sluice {} running:{}", SLUICE_VERSION, plugin_summary(config_)));
  core::notify_ready();
}

std::optional<std::string> Agent::reload() {
  core::notify_reloading();
  config::Config next;
  std::unique_ptr<Pipeline> fresh;
  try {
    // Loading the config again also loads plugin libraries added to agent.plugin_dirs since.
    next = config::load(load_options_);
    log_plugin_warnings(next);
    fresh = std::make_unique<Pipeline>(next, clock_, pipeline_->carryover());
    fresh->connect_outputs();
  } catch (const std::exception& e) {
    core::log_error(fmt::format("reload failed, the running configuration stays: {}", e.what()));
    core::notify_status("reload failed; running the previous configuration");
    core::notify_ready();
    return std::string(e.what());
  }
  std::set<std::string> keep = kept_identities(next);
  int64_t deadline = clock_.now() + config_.agent.shutdown_timeout.count();
  pipeline_->stop(deadline, keep);
  pipeline_ = std::move(fresh);
  config_ = std::move(next);
  pipeline_->start();
  core::log_info(fmt::format("configuration reloaded:{}", plugin_summary(config_)));
  core::notify_status("running");
  core::notify_ready();
  return std::nullopt;
}

void Agent::flush() {
  if (pipeline_) pipeline_->flush();
}

void Agent::stop() {
  if (!pipeline_) return;
  core::notify_stopping();
  core::log_info("stopping: draining the pipeline");
  pipeline_->stop(clock_.now() + config_.agent.shutdown_timeout.count());
  pipeline_.reset();
}

void Agent::block_signals() {
  sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int Agent::run_until_signalled() {
  sigset_t set = handled_signals();
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      core::log_info("SIGHUP: reloading the configuration");
      reload();
    } else if (sig == SIGUSR1) {
      core::log_info("SIGUSR1: flushing the outputs");
      flush();
    } else {
      core::log_info(fmt::format("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
      stop();
      return 0;
    }
  }
}

}  // namespace sluice::pipeline
