// exec: runs commands each interval, all at once, and parses what they write to stdout with
// the data format, as Telegraf's exec input. A command that fails or runs out of time is an
// error naming it and the last lines of its stderr; the next interval runs it again.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/child_process.hpp"
#include "core/path_glob.hpp"
#include "core/program_runner.hpp"
#include "inputs/exec/command.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::exec {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"commands", OptionType::kStringList, "",
     "Command lines to run, each split into words as a shell would (no pipes or variables)", true},
    {"environment", OptionType::kStringList, "",
     "Variables added to the commands' environment, as NAME=value"},
    {"timeout", OptionType::kDuration, "5s",
     "Time limit of each run; a command still running then is killed"},
    {"ignore_error", OptionType::kBool, "false",
     "Parse the output of a command that exits with a non-zero status, without an error"},
    {"max_output", OptionType::kSize, "64MiB",
     "Most bytes read from a command's stdout; a command writing more is killed (0: no limit)"},
};

// A command and what reads its output: one parser each, as the commands run in parallel.
struct Command {
  std::string line;
  std::vector<std::string> argv;
  std::unique_ptr<Parser> parser;
};

class Exec final : public Input {
 public:
  explicit Exec(const PluginContext& ctx)
      : format_(ctx.options.get_string("data_format")),
        environment_(ctx.options.get_strings("environment")),
        timeout_(ctx.options.get_duration("timeout")),
        ignore_error_(ctx.options.get_bool("ignore_error")),
        max_output_(ctx.options.get_size("max_output")) {
    const auto& lines = ctx.options.get_strings("commands");
    if (lines.empty()) throw OptionError("commands", "give at least one command to run");
    for (const std::string& line : lines) {
      auto argv = split_command(line);
      if (!argv) throw OptionError("commands", "unterminated quote or escape in \"" + line + "\"");
      if (argv->empty()) throw OptionError("commands", "an empty command");
      if (std::string why = core::is_path_glob((*argv)[0]) ? "" : core::check_program((*argv)[0]);
          !why.empty()) {
        // The program may be installed later; say so now, and fail each run until it is.
        ctx.log.warn("command \"" + line + "\": " + why);
      }
      commands_.push_back(Command{line, std::move(*argv), plugin::make_parser(ctx)});
    }
    for (const std::string& e : environment_) {
      if (e.find('=') == std::string::npos || e.front() == '=') {
        throw OptionError("environment", "\"" + e + "\" is not NAME=value");
      }
    }
    if (timeout_.count() < 0) throw OptionError("timeout", "must not be negative");
  }

  void gather(Accumulator& acc) override {
    if (commands_.size() == 1) {
      run(commands_[0], acc);
      return;
    }
    std::vector<std::thread> threads;
    threads.reserve(commands_.size());
    for (Command& c : commands_) threads.emplace_back([this, &c, &acc] { run(c, acc); });
    for (std::thread& t : threads) t.join();
  }

 private:
  // A program given as a glob (/etc/collectors/*.sh) runs each match, one after the other as
  // they share the command's parser; the matches are found again each interval.
  void run(Command& command, Accumulator& acc) {
    const std::string& program = command.argv[0];
    if (!core::is_path_glob(program)) {
      run_one(command, command.argv, command.line, acc);
      return;
    }
    std::vector<std::string> matches = core::expand_path_glob(program);
    if (matches.empty()) {
      acc.add_error("command \"" + command.line + "\": no program matches \"" + program + "\"");
      return;
    }
    for (const std::string& match : matches) {
      std::vector<std::string> argv = command.argv;
      argv[0] = match;
      std::string line = match;
      for (size_t i = 1; i < argv.size(); ++i) line += " " + argv[i];
      run_one(command, argv, line, acc);
    }
  }

  void run_one(Command& command, const std::vector<std::string>& argv, const std::string& line,
               Accumulator& acc) {
    RunResult r = run_command(argv, environment_, timeout_, max_output_);
    if (!r.failure.empty() && !(ignore_error_ && r.exit_status_failure)) {
      std::string message = "command \"" + line + "\": " + r.failure;
      std::string tail = last_lines(r.stderr_text, 3);
      if (!tail.empty()) message += "; stderr: " + tail;
      acc.add_error(message);
      return;
    }
    plugin::parse_into(*command.parser, format_, r.stdout_text, acc, "command \"" + line + "\"");
  }

  std::string format_;
  std::vector<std::string> environment_;
  std::chrono::nanoseconds timeout_;
  bool ignore_error_;
  uint64_t max_output_;
  std::vector<Command> commands_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "exec";
  info.description = "Run commands each interval and parse their output";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) { return std::make_unique<Exec>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::exec
