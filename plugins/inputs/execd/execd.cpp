// execd: runs a long-lived program and parses what it writes to stdout with the data format
// (line protocol by default), as Telegraf's execd input. The program runs from the input's start to
// its stop, is restarted with back-off when it exits, and has its stderr logged. Each interval it
// may be told to report: a line break on its stdin (signal: STDIN) or a signal (SIGHUP, SIGUSR1,
// SIGUSR2).
#include <signal.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/program_runner.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::execd {
namespace {

using namespace std::chrono_literals;

const std::vector<OptionSpec> kOptions = {
    {"command", OptionType::kStringList, "", "The program and its arguments", true},
    {"environment", OptionType::kStringList, "",
     "Variables added to the program's environment, as NAME=value"},
    {"signal", OptionType::kString, "none",
     "What asks the program for metrics each interval: none, STDIN (a line break), SIGHUP, "
     "SIGUSR1 or SIGUSR2"},
    {"restart_delay", OptionType::kDuration, "10s",
     "Wait before restarting the program after it exits; doubled after each quick exit, up to "
     "16 times"},
};

int signal_number(const std::string& name) {
  if (name == "SIGHUP") return SIGHUP;
  if (name == "SIGUSR1") return SIGUSR1;
  if (name == "SIGUSR2") return SIGUSR2;
  return 0;
}

class Execd final : public ServiceInput {
 public:
  Execd(const PluginContext& ctx, const Options& options, Logger& log)
      : log_(log), format_(options.get_string("data_format")), parser_(plugin::make_parser(ctx)) {
    spec_.command = options.get_strings("command");
    spec_.environment = options.get_strings("environment");
    spec_.restart_delay = options.get_duration("restart_delay");
    signal_ = options.get_string("signal");
    if (spec_.command.empty() || spec_.command[0].empty()) {
      throw OptionError("command", "give the program to run, e.g. [/usr/bin/my-collector, --flag]");
    }
    // The program starts with the input; a name that cannot run is a configuration error now.
    if (std::string why = core::check_program(spec_.command[0]); !why.empty()) {
      throw OptionError("command", why);
    }
    for (const std::string& e : spec_.environment) {
      if (e.find('=') == std::string::npos || e.front() == '=') {
        throw OptionError("environment", "\"" + e + "\" is not NAME=value");
      }
    }
    if (signal_ != "none" && signal_ != "STDIN" && signal_number(signal_) == 0) {
      throw OptionError(
          "signal", "expected none, STDIN, SIGHUP, SIGUSR1 or SIGUSR2, got \"" + signal_ + "\"");
    }
    if (spec_.restart_delay.count() < 0) throw OptionError("restart_delay", "must not be negative");
  }

  ~Execd() override { stop(); }

  void start(Accumulator& acc) override {
    acc_ = &acc;
    // Each line is a message of its own, as in Telegraf. Metrics without a timestamp get
    // time 0, which the host replaces with the time it takes them.
    runner_ = std::make_unique<core::ProgramRunner>(spec_, log_, [this](std::string_view line) {
      parsed_.clear();
      errors_.clear();
      parser_->parse(line, 0, parsed_, errors_);
      for (const ParseError& e : errors_) {
        acc_->add_rejected("cannot read the program's output \"" + std::string(line) +
                           "\": " + plugin::describe_parse_error(format_, e));
      }
      if (!parsed_.empty()) acc_->add_batch(std::move(parsed_));
    });
  }

  void gather(Accumulator&) override {
    if (runner_ == nullptr || signal_ == "none") return;
    if (signal_ == "STDIN") {
      if (runner_->write("\n", 1000ms) != 1) log_.warn("the program does not read its stdin");
    } else if (!runner_->signal(signal_number(signal_))) {
      log_.warn("the program is not running; no " + signal_ + " sent");
    }
  }

  void stop() override { runner_.reset(); }

 private:
  Logger& log_;
  core::ProgramSpec spec_;
  std::string signal_;
  Accumulator* acc_ = nullptr;
  std::string format_;
  // Used only by the runner's reading thread.
  std::unique_ptr<Parser> parser_;
  Batch parsed_;
  std::vector<ParseError> errors_;
  std::unique_ptr<core::ProgramRunner> runner_;  // last: stopped first
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "execd";
  info.description = "Read metrics from a long-running external program";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<Execd>(ctx, ctx.options, ctx.log);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::execd
