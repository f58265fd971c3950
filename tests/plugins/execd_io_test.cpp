// The execd input and output: a program started with the plugin, its line protocol read or
// written, its stderr logged, restarted with back-off when it exits, and stopped in stages.
#include <doctest/doctest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "config/option_reader.hpp"
#include "plugin/registry.hpp"
#include "processor_test_support.hpp"

using sluice::Batch;
using sluice::Metric;
using sluice::OptionError;
using sluice::Options;
using sluice::PluginContext;
using sluice::WriteResult;
using sluice::testing::CapturingLogger;
using sluice::testing::parse_lines;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

template <typename F>
bool eventually(F done, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

const sluice::plugin::PluginInfo& info(sluice::plugin::Kind kind) {
  const auto* found = sluice::plugin::Registry::builtins().find(kind, "execd");
  REQUIRE(found != nullptr);
  return *found;
}

// The plugin's own options, and for the input data_format and every parser's options too.
Options options(sluice::plugin::Kind kind, const std::string& yaml) {
  std::vector<sluice::OptionSpec> table = info(kind).options;
  if (info(kind).uses_parser) {
    table.push_back({"data_format", sluice::OptionType::kString, "influx", ""});
    for (const auto* parser :
         sluice::plugin::Registry::builtins().list(sluice::plugin::Kind::kParser)) {
      table.insert(table.end(), parser->options.begin(), parser->options.end());
    }
  }
  return sluice::config::read_options(YAML::Load(yaml), table, "test.yaml", "execd").options;
}

std::unique_ptr<sluice::Input> make_input(const std::string& yaml, sluice::Logger& log) {
  Options o = options(sluice::plugin::Kind::kInput, yaml);
  return info(sluice::plugin::Kind::kInput).create_input(PluginContext{o, log});
}

std::unique_ptr<sluice::Output> make_output(const std::string& yaml, sluice::Logger& log) {
  Options o = options(sluice::plugin::Kind::kOutput, yaml);
  return info(sluice::plugin::Kind::kOutput).create_output(PluginContext{o, log});
}

// A service input's accumulator: added to from the plugin's reading thread.
class LockedAccumulator final : public sluice::Accumulator {
 public:
  void add(Metric m) override {
    std::lock_guard lock(mutex_);
    metrics_.push_back(std::move(m));
  }
  void add_error(std::string_view e) override {
    std::lock_guard lock(mutex_);
    errors_.emplace_back(e);
  }
  int64_t time() const override { return 1; }
  Batch metrics() const {
    std::lock_guard lock(mutex_);
    return metrics_;
  }
  std::vector<std::string> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }

 private:
  mutable std::mutex mutex_;
  Batch metrics_;
  std::vector<std::string> errors_;
};

// The YAML of a command run by sh -c.
std::string shell(const std::string& script) {
  std::string quoted;
  for (char c : script) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return "command: [sh, -c, '" + quoted + "']";
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

size_t count_lines(const CapturingLogger& log, std::string_view needle) {
  size_t n = 0;
  for (const std::string& l : log.lines()) n += l.find(needle) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("execd input: reads the program's line protocol, lines without a time get 0") {
  CapturingLogger log;
  auto input = make_input("{" +
                              shell("echo \"m v=1i\"; echo \"m,t=a v=2i 5\"; echo bad line; "
                                    "echo \"complaint\" >&2; exec sleep 30") +
                              "}",
                          log);
  auto* service = dynamic_cast<sluice::ServiceInput*>(input.get());
  REQUIRE(service != nullptr);
  LockedAccumulator acc;
  service->start(acc);
  REQUIRE(eventually([&] { return acc.metrics().size() == 2 && acc.errors().size() == 1; }));
  Batch got = acc.metrics();
  CHECK(got[0] == parse_lines("m v=1i 0")[0]);  // the host stamps it
  CHECK(got[1] == parse_lines("m,t=a v=2i 5")[0]);
  CHECK(acc.errors()[0].starts_with("cannot read the program's output \"bad line\""));
  CHECK(eventually([&] { return log.contains("error: stderr: complaint"); }));
  auto started = std::chrono::steady_clock::now();
  service->stop();
  // sleep ignores its closed stdin; SIGTERM ends it.
  CHECK(std::chrono::steady_clock::now() - started < 4s);
  CHECK(log.contains("info: program stopped: killed by signal 15"));
}

TEST_CASE("execd input: signal STDIN and SIGHUP ask the program for metrics each gather") {
  CapturingLogger log;
  auto stdin_input = make_input(
      "{signal: STDIN, " + shell("while read -r x; do echo \"tick n=1i\"; done") + "}", log);
  auto hup_input = make_input("{signal: SIGHUP, " +
                                  shell("trap 'echo \"hup n=1i\"' HUP; echo ready >&2; "
                                        "while :; do sleep 0.02; done") +
                                  "}",
                              log);
  LockedAccumulator ticks, hups;
  auto* a = dynamic_cast<sluice::ServiceInput*>(stdin_input.get());
  auto* b = dynamic_cast<sluice::ServiceInput*>(hup_input.get());
  a->start(ticks);
  b->start(hups);
  REQUIRE(eventually([&] { return log.contains("stderr: ready"); }));  // the trap is set
  for (int i = 0; i < 3; ++i) {
    a->gather(ticks);
    b->gather(hups);
    std::this_thread::sleep_for(100ms);
  }
  CHECK(eventually([&] { return ticks.metrics().size() == 3; }));
  CHECK(eventually([&] { return hups.metrics().size() == 3; }));
  CHECK(ticks.metrics()[0].name() == "tick");
  CHECK(hups.metrics()[0].name() == "hup");
  a->stop();
  b->stop();
  CHECK(log.contains("program stopped: exit status 0"));  // the read loop ends at EOF
}

TEST_CASE("execd input: data_format picks the parser, each line a message, SIGUSR1 asks") {
  CapturingLogger log;
  auto input = make_input(
      "{signal: SIGUSR1, data_format: prometheus, "
      "prometheus_metric_version: 1, " +
          shell("trap 'echo \"queue_depth{q=\\\"mail\\\"} 4 1000\"; "
                "echo \"not prometheus at all\"' USR1; echo ready >&2; "
                "while :; do sleep 0.02; done") +
          "}",
      log);
  LockedAccumulator acc;
  auto* service = dynamic_cast<sluice::ServiceInput*>(input.get());
  service->start(acc);
  REQUIRE(eventually([&] { return log.contains("stderr: ready"); }));
  service->gather(acc);
  REQUIRE(eventually([&] { return acc.metrics().size() == 1 && acc.errors().size() == 1; }));
  Metric want("queue_depth", 1'000'000'000);
  want.set_tag("q", "mail");
  want.set_field("value", 4.0);
  CHECK(acc.metrics()[0] == want);
  CHECK(acc.errors()[0] ==
        "cannot read the program's output \"not prometheus at all\": data_format prometheus, "
        "line 1, column 5: invalid value \"prometheus\"");
  service->stop();
}

TEST_CASE("execd input: a program that exits is restarted after restart_delay, doubled") {
  CapturingLogger log;
  auto input = make_input(
      "{restart_delay: 20ms, " + shell("echo \"run v=1i\"; echo oops >&2; exit 3") + "}", log);
  LockedAccumulator acc;
  auto* service = dynamic_cast<sluice::ServiceInput*>(input.get());
  service->start(acc);
  REQUIRE(eventually([&] { return count_lines(log, "info: started sh") >= 3; }));
  service->stop();
  // Each run's line is read before its exit is noticed; the third run may not have written yet.
  CHECK(acc.metrics().size() >= 2);
  CHECK(log.contains("error: stderr: oops"));
  CHECK(log.contains("error: the program exited (exit status 3); restarting in 20ms"));
  CHECK(log.contains("error: the program exited (exit status 3); restarting in 40ms"));
}

TEST_CASE("execd input and output: bad options are refused with the option's name") {
  CapturingLogger log;
  auto option_of = [&](auto make) -> std::string {
    try {
      make();
    } catch (const OptionError& e) {
      return e.option() + ": " + e.what();
    }
    return "(created)";
  };
  CHECK(option_of([&] { make_input("{command: [no-such-program-sluice]}", log); }) ==
        "command: no program \"no-such-program-sluice\" in PATH");
  CHECK(option_of([&] { make_input("{command: [sh], signal: SIGKILL}", log); }) ==
        "signal: expected none, STDIN, SIGHUP, SIGUSR1 or SIGUSR2, got \"SIGKILL\"");
  CHECK(option_of([&] { make_input("{command: [sh], environment: [NOEQUALS]}", log); }) ==
        "environment: \"NOEQUALS\" is not NAME=value");
  CHECK(option_of([&] {
          make_output("{command: [/no/such/program]}", log);
        }).starts_with("command: cannot run /no/such/program: "));
  CHECK(option_of([&] { make_output("{command: [cat], write_timeout: 0s}", log); }) ==
        "write_timeout: must be longer than 0s");
}

TEST_CASE("execd output: writes line protocol to the program, and close lets it finish") {
  fs::path dir = fs::temp_directory_path() / ("sluice-execd-output-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::path file = dir / "received.lp";
  CapturingLogger log;
  auto output = make_output("{environment: [EXECD_FILE=" + file.string() + "], " +
                                shell("echo started >&2; cat > \"$EXECD_FILE\"") + "}",
                            log);
  REQUIRE(output->connect().status == WriteResult::Status::kOk);
  Batch batch = parse_lines("a,t=1 v=1i 1\nb s=\"x y\" 2\n");
  CHECK(output->write(batch).status == WriteResult::Status::kOk);
  CHECK(output->write(parse_lines("c u=3u 3\n")).status == WriteResult::Status::kOk);
  output->close();  // stdin closed: cat writes what it has and exits
  CHECK(read_text(file) == "a,t=1 v=1i 1\nb s=\"x y\" 2\nc u=3u 3\n");
  CHECK(log.contains("error: stderr: started"));
  CHECK(log.contains("info: program stopped: exit status 0"));
}

TEST_CASE("execd output: a program that does not read holds the output back, without half lines") {
  CapturingLogger log;
  auto output = make_output("{write_timeout: 50ms, " + shell("exec sleep 30") + "}", log);
  // More than a pipe holds: the first write fills the pipe and keeps the rest.
  Batch big;
  for (int i = 0; i < 3000; ++i) {
    Metric m("filler_measurement_with_a_long_name", i + 1);
    m.set_field("text", std::string(40, 'x'));
    big.push_back(m);
  }
  CHECK(output->write(big).status == WriteResult::Status::kOk);
  WriteResult second = output->write(parse_lines("next v=1i 1\n"));
  CHECK(second.status == WriteResult::Status::kRetry);
  CHECK(second.error == "the program does not read its input");
  output->close();
}

TEST_CASE("execd output: a program that exits is restarted, and writes retry meanwhile") {
  fs::path dir =
      fs::temp_directory_path() / ("sluice-execd-output-restart-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::path file = dir / "received.lp";
  CapturingLogger log;
  // Takes one line, then exits.
  auto output =
      make_output("{restart_delay: 10ms, environment: [EXECD_FILE=" + file.string() + "], " +
                      shell("read -r line; echo \"$line\" >> \"$EXECD_FILE\"") + "}",
                  log);
  int delivered = 0;
  for (int i = 0; i < 200 && delivered < 3; ++i) {
    std::string line = "m n=" + std::to_string(delivered) + "i 1\n";
    if (output->write(parse_lines(line)).status == WriteResult::Status::kOk) {
      ++delivered;
      // Wait for that program to take its line and go, so each run gets one line.
      eventually([&] {
        return read_text(file).find(line) != std::string::npos &&
               count_lines(log, "restarting in") >= static_cast<size_t>(delivered);
      });
    } else {
      std::this_thread::sleep_for(5ms);
    }
  }
  CHECK(delivered == 3);
  CHECK(read_text(file) == "m n=0i 1\nm n=1i 1\nm n=2i 1\n");
  output->close();
}
