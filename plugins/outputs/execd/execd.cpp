// execd: runs a long-lived program and writes every metric to its stdin as line protocol, as
// Telegraf's execd output. The program starts on connect, is restarted with back-off when it
// exits, has its stderr (and stdout) logged, and is stopped on close: stdin closed, then
// SIGTERM, then SIGKILL.
//
// A write never leaves half a line in the pipe for the next batch to continue: what did not fit
// in the pipe within write_timeout is kept and goes first on the next write. While the program
// does not even take that, writes are retried, so the output's buffer holds the metrics.
#include <memory>
#include <string>
#include <vector>

#include "core/program_runner.hpp"
#include "lineproto/serializer.hpp"
#include "plugin/registry.hpp"

namespace sluice::outputs::execd {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"command", OptionType::kStringList, "", "The program and its arguments", true},
    {"environment", OptionType::kStringList, "",
     "Variables added to the program's environment, as NAME=value"},
    {"restart_delay", OptionType::kDuration, "10s",
     "Wait before restarting the program after it exits; doubled after each quick exit, up to "
     "16 times"},
    {"write_timeout", OptionType::kDuration, "5s",
     "How long a write waits for the program to take its input"},
};

class Execd final : public Output {
 public:
  Execd(const Options& options, Logger& log) : log_(log) {
    spec_.command = options.get_strings("command");
    spec_.environment = options.get_strings("environment");
    spec_.restart_delay = options.get_duration("restart_delay");
    timeout_ = std::chrono::duration_cast<std::chrono::milliseconds>(
        options.get_duration("write_timeout"));
    if (spec_.command.empty() || spec_.command[0].empty()) {
      throw OptionError("command", "give the program to run, e.g. [/usr/bin/my-writer, --flag]");
    }
    if (std::string why = core::check_program(spec_.command[0]); !why.empty()) {
      throw OptionError("command", why);
    }
    for (const std::string& e : spec_.environment) {
      if (e.find('=') == std::string::npos || e.front() == '=') {
        throw OptionError("environment", "\"" + e + "\" is not NAME=value");
      }
    }
    if (spec_.restart_delay.count() < 0) throw OptionError("restart_delay", "must not be negative");
    if (timeout_.count() <= 0) throw OptionError("write_timeout", "must be longer than 0s");
  }

  ~Execd() override { close(); }

  WriteResult connect() override {
    if (runner_) return WriteResult::ok();
    try {
      runner_ = std::make_unique<core::ProgramRunner>(spec_, log_, [this](std::string_view line) {
        if (!line.empty()) log_.info("stdout: " + std::string(line));
      });
    } catch (const std::exception& e) {
      return WriteResult::retry(e.what());
    }
    return WriteResult::ok();
  }

  WriteResult write(std::span<const Metric> batch) override {
    if (WriteResult r = connect(); r.status != WriteResult::Status::kOk) return r;
    if (!runner_->running()) return WriteResult::retry("the program is not running");
    // The rest of a line written for a program that since exited means nothing to the next.
    if (!pending_.empty() && pending_generation_ != runner_->generation()) {
      log_.warn("the program exited before taking " + std::to_string(pending_.size()) +
                " bytes of line protocol; they are lost");
      pending_.clear();
    }
    if (!pending_.empty()) {
      pending_.erase(0, runner_->write(pending_, timeout_));
      if (!pending_.empty()) return WriteResult::retry("the program does not read its input");
    }
    text_.clear();
    lineproto::serialize_batch(batch, text_);
    size_t written = runner_->write(text_, timeout_);
    if (written == 0 && !text_.empty()) {
      return WriteResult::retry(runner_->running() ? "the program does not read its input"
                                                   : "the program is not running");
    }
    if (written < text_.size()) {
      pending_.assign(text_, written);
      pending_generation_ = runner_->generation();
    }
    return WriteResult::ok();
  }

  void close() override {
    if (!runner_) return;
    if (!pending_.empty()) {
      runner_->write(pending_, timeout_);
      pending_.clear();
    }
    runner_.reset();  // stdin closed, then SIGTERM, then SIGKILL
  }

 private:
  Logger& log_;
  core::ProgramSpec spec_;
  std::chrono::milliseconds timeout_;
  std::string text_;
  std::string pending_;  // the tail of a write the program has not taken yet
  uint64_t pending_generation_ = 0;
  std::unique_ptr<core::ProgramRunner> runner_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "execd";
  info.description = "Write line protocol to a long-running external program";
  info.options = kOptions;
  info.create_output = [](const PluginContext& ctx) {
    return std::make_unique<Execd>(ctx.options, ctx.log);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::execd
