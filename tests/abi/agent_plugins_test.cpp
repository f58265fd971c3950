// Plugin libraries in the agent as a user runs it: `--plugin-dir`, a whole pipeline through the
// three example libraries, the commands that describe plugins, refusals, the exception barrier,
// and a library added while the agent runs, picked up on SIGHUP.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "abi/abi_test_support.hpp"
#include "support/process.hpp"
#include "support/test_plugins.hpp"

namespace fs = std::filesystem;
using sluice::testing::add_library;
using sluice::testing::BackgroundProcess;
using sluice::testing::eventually;
using sluice::testing::plugin_folder;
using sluice::testing::read_text;
using sluice::testing::run_command;

namespace {

const std::string kSluice = SLUICE_BINARY;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

fs::path work_dir(const std::string& name) {
  fs::path dir =
      fs::temp_directory_path() / ("sluice-abi-agent-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// numbers -> [square] -> append_file, every 100 ms.
std::string pipeline_config(const fs::path& work, bool with_square) {
  std::string yaml =
      "agent:\n  interval: 100ms\n  flush_interval: 100ms\n  omit_hostname: true\n"
      "inputs:\n  - numbers:\n      path: " +
      (work / "numbers.txt").string() + "\n";
  if (with_square) yaml += "processors:\n  - square: {}\n";
  yaml += "outputs:\n  - append_file:\n      path: " + (work / "out.lp").string() + "\n";
  return yaml;
}

}  // namespace

TEST_CASE("a pipeline runs through an input, a processor and an output from libraries") {
  fs::path work = work_dir("pipeline");
  fs::path plugins = plugin_folder("agent-pipeline", {SLUICE_EXAMPLE_NUMBERS, SLUICE_EXAMPLE_SQUARE,
                                                      SLUICE_EXAMPLE_APPEND_FILE});
  write(work / "numbers.txt", "3\n1.5\n");
  write(work / "sluice.yaml", pipeline_config(work, true));
  std::string flags =
      " --plugin-dir " + plugins.string() + " --config " + (work / "sluice.yaml").string();

  auto check = run_command(kSluice + " check" + flags);
  CHECK(check.exit_code == 0);
  CHECK(check.output.starts_with("config OK: "));

  auto test = run_command(kSluice + " test" + flags);
  REQUIRE(test.exit_code == 0);
  CHECK(contains(test.output, "numbers,line=1 value=3i,value_squared=9 "));
  CHECK(contains(test.output, "numbers,line=2 value=1.5,value_squared=2.25 "));

  auto once = run_command(kSluice + " once" + flags);
  INFO(once.output);
  REQUIRE(once.exit_code == 0);
  std::string out = read_text(work / "out.lp");
  CHECK(contains(out, "numbers,line=1 value=3i,value_squared=9 "));
  CHECK(contains(out, "numbers,line=2 value=1.5,value_squared=2.25 "));
  CHECK(std::count(out.begin(), out.end(), '\n') == 2);

  // Without --plugin-dir the names are unknown, and the message lists what is known.
  auto unknown = run_command(kSluice + " check --config " + (work / "sluice.yaml").string());
  CHECK(unknown.exit_code == 1);
  CHECK(contains(unknown.output, "unknown input plugin \"numbers\""));
  // agent.plugin_dirs does the same as --plugin-dir.
  write(work / "dirs.yaml", "agent:\n  plugin_dirs: [" + plugins.string() + "]\n" +
                                pipeline_config(work, true).substr(std::string("agent:\n").size()));
  CHECK(run_command(kSluice + " check --config " + (work / "dirs.yaml").string()).exit_code == 0);
}

TEST_CASE("sluice plugins and sluice config describe plugins from libraries") {
  fs::path plugins = plugin_folder("agent-describe", {SLUICE_EXAMPLE_NUMBERS, SLUICE_EXAMPLE_SQUARE,
                                                      SLUICE_EXAMPLE_APPEND_FILE});
  std::string dir = " --plugin-dir " + plugins.string();
  auto list = run_command(kSluice + " plugins" + dir);
  REQUIRE(list.exit_code == 0);
  std::string numbers_so = fs::canonical(plugins / "numbers.so").string();
  CHECK(contains(list.output, "  numbers             Read numbers from a file, one per line  [" +
                                  numbers_so + ", version 1.0.0, input]\n"));
  CHECK(contains(list.output, "  cpu "));  // the built-ins too
  CHECK(contains(list.output, "libraries:\n"));
  CHECK(contains(list.output, "  " + numbers_so + "  version 1.0.0: input numbers\n"));

  auto options = run_command(kSluice + " plugins --options inputs.numbers" + dir);
  REQUIRE(options.exit_code == 0);
  CHECK(
      contains(options.output,
               "| `path` | string | `\"\"` | The file to read: one number per line (required) |"));

  auto sample = run_command(kSluice +
                            " config --inputs numbers --processors square --outputs "
                            "append_file" +
                            dir);
  REQUIRE(sample.exit_code == 0);
  CHECK(contains(sample.output, "  # Read numbers from a file, one per line\n  - numbers:\n"));
  CHECK(contains(sample.output,
                 "      ## The file to read: one number per line\n      path: \"\"\n"));
  CHECK(contains(sample.output, "      # measurement: numbers\n"));
  CHECK(contains(sample.output, "  - square:\n"));
  CHECK(contains(sample.output, "  - append_file:\n"));
  CHECK(run_command(kSluice + " config --inputs numbers").exit_code == 1);
}

TEST_CASE("a refused library stops the agent, or is skipped when the config says so") {
  fs::path work = work_dir("refused");
  fs::path plugins =
      plugin_folder("agent-refused", {SLUICE_EXAMPLE_NUMBERS, SLUICE_EXAMPLE_BROKEN_ABI});
  write(work / "a.yaml", "inputs:\n  - numbers:\n      path: /dev/null\n");
  std::string broken = (plugins / "broken_abi.so").string();
  auto refused = run_command(kSluice + " check --plugin-dir " + plugins.string() + " --config " +
                             (work / "a.yaml").string());
  CHECK(refused.exit_code == 1);
  CHECK(contains(refused.output, "sluice: plugin library " + broken +
                                     ": built for plugin ABI 2, this agent has ABI 1.1"));

  write(work / "skip.yaml",
        "agent:\n  plugin_load_error: skip\ninputs:\n  - numbers:\n      path: /dev/null\n");
  auto skipped = run_command(kSluice + " check --plugin-dir " + plugins.string() + " --config " +
                             (work / "skip.yaml").string());
  CHECK(skipped.exit_code == 0);
  CHECK(contains(skipped.output, "sluice: warning: plugin library " + broken + ": built for"));
  CHECK(contains(skipped.output, "; skipped\n"));

  // `sluice plugins` shows the refusal whatever the setting, to find out what is wrong.
  auto list = run_command(kSluice + " plugins --plugin-dir " + plugins.string());
  CHECK(list.exit_code == 0);
  CHECK(contains(list.output, "warnings:\n  plugin library " + broken));
}

TEST_CASE("exceptions in a library's plugins are logged with the alias, and the agent goes on") {
  fs::path work = work_dir("throwing");
  fs::path plugins =
      plugin_folder("agent-throwing",
                    {SLUICE_EXAMPLE_NUMBERS, SLUICE_EXAMPLE_APPEND_FILE, SLUICE_EXAMPLE_THROWING});
  write(work / "numbers.txt", "5\n");
  write(work / "sluice.yaml",
        "agent:\n  interval: 100ms\n  flush_interval: 100ms\n  omit_hostname: true\n"
        "  shutdown_timeout: 1s\n"
        "inputs:\n  - numbers:\n      path: " +
            (work / "numbers.txt").string() +
            "\n  - throwing:\n      alias: boom\n"
            "outputs:\n  - append_file:\n      path: " +
            (work / "out.lp").string() +
            "\n  - throwing:\n      alias: sink\n      retry_initial_backoff: 10ms\n");
  BackgroundProcess agent(kSluice + " run --plugin-dir " + plugins.string() + " --config " +
                          (work / "sluice.yaml").string() + " > " + (work / "log").string() +
                          " 2>&1");
  REQUIRE(agent.started());
  auto log = [&] { return read_text(work / "log"); };
  CHECK(eventually(
      [&] {
        std::string l = log();
        return contains(l, "[inputs.throwing::boom] gather failed: thrown on purpose") &&
               contains(l, "[inputs.throwing::boom] gather failed: unknown exception") &&
               contains(l, "[outputs.throwing::sink] write of ") &&
               contains(l, "failed, will retry in ");
      },
      10));
  // The input's metric added before it threw, and the other input's, reach the good output.
  CHECK(eventually(
      [&] {
        std::string out = read_text(work / "out.lp");
        return contains(out, "throwing before_throw=1i") &&
               contains(out, "numbers,line=1 value=5i");
      },
      10));
  CHECK(agent.running());
  agent.signal(SIGTERM);
  CHECK(agent.wait_exit(30) == 0);
  INFO(log());

  // A processor that throws drops its batch, logged; the chain goes on.
  write(work / "proc.yaml",
        "agent:\n  omit_hostname: true\ninputs:\n  - numbers:\n      path: " +
            (work / "numbers.txt").string() +
            "\nprocessors:\n  - throwing:\n      alias: crash\noutputs:\n  - append_file:\n"
            "      path: " +
            (work / "proc.lp").string() + "\n");
  auto once = run_command(kSluice + " once --plugin-dir " + plugins.string() + " --config " +
                          (work / "proc.yaml").string());
  CHECK(once.exit_code == 0);
  CHECK(contains(once.output,
                 "[processors.throwing::crash] processing failed, 1 metrics dropped: "
                 "thrown on purpose"));

  // A creation refused with an OptionError points at the option in the file.
  write(work / "create.yaml", "inputs:\n  - throwing:\n      fail_create: true\n");
  auto create = run_command(kSluice + " check --plugin-dir " + plugins.string() + " --config " +
                            (work / "create.yaml").string());
  CHECK(create.exit_code == 1);
  CHECK(create.output == "sluice: " + (work / "create.yaml").string() +
                             ":3:7: inputs.throwing: option \"fail_create\": refused on purpose\n");
}

TEST_CASE("a library copied into the plugin folder is picked up on SIGHUP") {
  fs::path work = work_dir("reload");
  fs::path plugins =
      plugin_folder("agent-reload", {SLUICE_EXAMPLE_NUMBERS, SLUICE_EXAMPLE_APPEND_FILE});
  write(work / "numbers.txt", "4\n");
  write(work / "sluice.yaml", pipeline_config(work, false));
  BackgroundProcess agent(kSluice + " run --plugin-dir " + plugins.string() + " --config " +
                          (work / "sluice.yaml").string() + " > " + (work / "log").string() +
                          " 2>&1");
  REQUIRE(agent.started());
  CHECK(eventually([&] { return contains(read_text(work / "out.lp"), "value=4i "); }, 10));
  CHECK(!contains(read_text(work / "out.lp"), "value_squared"));

  // A config naming a plugin that is not there yet: the reload fails, the old config runs on.
  write(work / "sluice.yaml", pipeline_config(work, true));
  agent.signal(SIGHUP);
  CHECK(eventually(
      [&] { return contains(read_text(work / "log"), "unknown processor plugin \"square\""); },
      10));
  CHECK(agent.running());

  add_library(plugins, SLUICE_EXAMPLE_SQUARE);
  agent.signal(SIGHUP);
  CHECK(eventually(
      [&] { return contains(read_text(work / "out.lp"), "value=4i,value_squared=16 "); }, 10));
  CHECK(contains(read_text(work / "log"), "configuration reloaded"));
  agent.signal(SIGTERM);
  CHECK(agent.wait_exit(30) == 0);
}

TEST_CASE("a parser from a library is a data_format of the agent's own inputs") {
  fs::path work = work_dir("parser");
  fs::path plugins =
      plugin_folder("agent-parser", {sluice::testing::abi_module("abi_c_plugins")});
  write(work / "values.txt", "load 0.25\nnot-a-pair\nmem 2048\n");
  write(work / "sluice.yaml", "agent:\n  omit_hostname: true\n"
                              "inputs:\n  - file:\n      files: [" +
                                  (work / "values.txt").string() +
                                  "]\n      data_format: c_parser\n"
                                  "outputs:\n  - file:\n      files: [" +
                                  (work / "out.lp").string() + "]\n");
  std::string flags =
      " --plugin-dir " + plugins.string() + " --config " + (work / "sluice.yaml").string();
  auto once = run_command(kSluice + " once" + flags);
  INFO(once.output);
  REQUIRE(once.exit_code == 0);
  std::string out = read_text(work / "out.lp");
  CHECK(contains(out, "load value=0.25 "));
  CHECK(contains(out, "mem value=2048 "));
  CHECK(std::count(out.begin(), out.end(), '\n') == 2);
  // The bad line is rejected with the format and the plugin's words, and the rest went on.
  CHECK(contains(once.output, "data_format c_parser: line 2: \"not-a-pair\" is not \"name value\""));
  // Without the library the format is unknown, named as such.
  auto unknown = run_command(kSluice + " check --config " + (work / "sluice.yaml").string());
  CHECK(unknown.exit_code == 1);
  CHECK(contains(unknown.output, "c_parser"));
}
