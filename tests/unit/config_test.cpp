#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/config.hpp"
#include "pipeline/pipeline.hpp"
#include "support/test_plugins.hpp"

using sluice::config::ConfigError;
using sluice::config::load_text;
using sluice::testing::test_registry;
using namespace std::chrono_literals;

namespace {

// The message of the ConfigError that loading `yaml` raises ("" when it loads).
std::string error_of(const std::string& yaml) {
  try {
    load_text(yaml, "/etc/sluice/test.yaml", test_registry());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

// The same, but also creating the plugins (where plugins check their own values).
std::string build_error_of(const std::string& yaml) {
  try {
    auto config = load_text(yaml, "/etc/sluice/test.yaml", sluice::plugin::Registry::builtins());
    sluice::pipeline::Pipeline pipeline(config, sluice::pipeline::SystemClock::instance());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("sluice-config-test-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

void write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("defaults of the agent section follow Telegraf's") {
  auto config = load_text("inputs:\n  - gen: {}\n", "t.yaml", test_registry());
  CHECK(config.agent.interval == 10s);
  CHECK(config.agent.flush_interval == 10s);
  CHECK(config.agent.round_interval);
  CHECK(config.agent.metric_batch_size == 1000);
  CHECK(config.agent.metric_buffer_limit == 10000);
  CHECK(config.agent.shutdown_timeout == 30s);
  CHECK_FALSE(config.agent.omit_hostname);
  CHECK(config.agent.plugin_dirs == std::vector<std::string>{"/usr/lib/sluice/plugins"});
  REQUIRE(config.inputs.size() == 1);
  CHECK(config.inputs[0].options.get_int("count") == 1);
  CHECK_FALSE(config.inputs[0].options.is_set("count"));
}

TEST_CASE("an unknown option names file, line, column, plugin and the likely option") {
  std::string e = error_of(
      "agent:\n"
      "  interval: 5s\n"
      "inputs:\n"
      "  - gen:\n"
      "      cuont: 3\n");
  CHECK(e == "/etc/sluice/test.yaml:5:7: inputs.gen: unknown option \"cuont\" (did you mean "
             "\"count\"?)");
}

TEST_CASE("the alias appears in the plugin's errors") {
  std::string e = error_of("inputs:\n  - gen: {alias: fast, count: many}\n");
  CHECK(e == "/etc/sluice/test.yaml:2:31: inputs.gen::fast: option \"count\": expected an "
             "integer, got \"many\"");
}

TEST_CASE("wrong types and bad values") {
  CHECK(error_of("agent:\n  interval: soon\n") ==
        "/etc/sluice/test.yaml:2:13: agent: option \"interval\": expected a duration such as "
        "500ms, 10s, 1m or 1h30m, got \"soon\"");
  CHECK(error_of("agent:\n  round_interval: maybe\n") ==
        "/etc/sluice/test.yaml:2:19: agent: option \"round_interval\": expected true or false, "
        "got \"maybe\"");
  CHECK(error_of("outputs:\n  - recorder: {name: [a, b]}\n") ==
        "/etc/sluice/test.yaml:2:22: outputs.recorder: option \"name\": expected a single "
        "value, not a list or map");
  CHECK(error_of("outputs:\n  - recorder: {name: x, namepass: cpu}\n") ==
        "/etc/sluice/test.yaml:2:35: outputs.recorder: option \"namepass\": expected a list "
        "such as [a, b]");
  CHECK(error_of("outputs:\n  - recorder: {}\n") ==
        "/etc/sluice/test.yaml:2:15: outputs.recorder: option \"name\" is required");
  CHECK(error_of("agent:\n  log_level: loud\n").find("log_level") != std::string::npos);
}

TEST_CASE("unknown plugins, sections and malformed entries") {
  CHECK(error_of("inputs:\n  - gne: {}\n") ==
        "/etc/sluice/test.yaml:2:5: inputs: unknown input plugin \"gne\" (known: gen, lines, tracked)");
  CHECK(error_of("input:\n  - gen: {}\n").starts_with(
      "/etc/sluice/test.yaml:1:1: unknown section \"input\""));
  CHECK(error_of("inputs:\n  gen: {}\n").starts_with(
      "/etc/sluice/test.yaml:2:3: inputs: expected a list of plugins"));
  CHECK(error_of("inputs:\n  - gen: {}\n    tag: {}\n").starts_with(
      "/etc/sluice/test.yaml:2:5: inputs: each entry names one plugin"));
  CHECK(error_of("inputs:\n  - gen: {count: 1}\n  - gen: {count: 2}\n").empty());
}

TEST_CASE("invalid YAML is reported where the parser stopped") {
  std::string e = error_of("inputs:\n  - gen: {count: 1\n");
  CHECK(e.starts_with("/etc/sluice/test.yaml:"));
  CHECK(e.find("invalid YAML") != std::string::npos);
}

TEST_CASE("values a plugin refuses are reported at the option") {
  CHECK(build_error_of("outputs:\n  - file:\n      files: [stdout]\n      data_format: xml\n") ==
        "/etc/sluice/test.yaml:4:7: outputs.file: option \"data_format\": unknown data format "
        "\"xml\" (known: influx, json)");
  CHECK(build_error_of("outputs:\n  - discard: {when_full: explode}\n") ==
        "/etc/sluice/test.yaml:2:15: outputs.discard: option \"when_full\": expected "
        "drop_oldest or block, got \"explode\"");
}

TEST_CASE("${VAR} and ${VAR:-default} are substituted inside scalars") {
  setenv("SLUICE_TEST_COUNT", "7", 1);
  setenv("SLUICE_TEST_EMPTY", "", 1);
  unsetenv("SLUICE_TEST_UNSET");
  auto config = load_text(
      "inputs:\n"
      "  - gen: {count: \"${SLUICE_TEST_COUNT}\", metric: \"m_${SLUICE_TEST_UNSET:-dflt}\"}\n"
      "  - gen: {metric: \"${SLUICE_TEST_EMPTY:-fallback}\", alias: \"$${literal}\"}\n",
      "t.yaml", test_registry());
  CHECK(config.inputs[0].options.get_int("count") == 7);
  CHECK(config.inputs[0].options.get_string("metric") == "m_dflt");
  CHECK(config.inputs[1].options.get_string("metric") == "fallback");
  CHECK(config.inputs[1].alias == "${literal}");

  CHECK(error_of("inputs:\n  - gen: {metric: \"${SLUICE_TEST_UNSET}\"}\n") ==
        "/etc/sluice/test.yaml:2:19: inputs.gen: option \"metric\": environment variable "
        "SLUICE_TEST_UNSET is not set (write ${SLUICE_TEST_UNSET:-default} to give a default)");
}

TEST_CASE("several files and a directory merge, lists concatenate, later agent options win") {
  auto dir = temp_dir("merge");
  write(dir / "main.yaml", "agent:\n  interval: 5s\n  flush_interval: 3s\ninputs:\n  - gen: {metric: a}\n");
  std::filesystem::create_directories(dir / "d");
  write(dir / "d" / "20-more.yaml", "inputs:\n  - gen: {metric: c}\n");
  write(dir / "d" / "10-agent.yaml", "agent:\n  interval: 2s\ninputs:\n  - gen: {metric: b}\n");
  write(dir / "d" / "ignored.txt", "not: yaml: at: all");
  sluice::config::LoadOptions options;
  options.files = {(dir / "main.yaml").string()};
  options.directories = {(dir / "d").string()};
  options.registry = &test_registry();
  auto config = sluice::config::load(options);
  CHECK(config.agent.interval == 2s);
  CHECK(config.agent.flush_interval == 3s);
  REQUIRE(config.inputs.size() == 3);
  CHECK(config.inputs[0].options.get_string("metric") == "a");
  CHECK(config.inputs[1].options.get_string("metric") == "b");
  CHECK(config.inputs[2].options.get_string("metric") == "c");
  CHECK(config.inputs[1].location == (dir / "d" / "10-agent.yaml").string() + ":4:5");

  options.input_filter = {"nothing-by-this-name"};
  CHECK(sluice::config::load(options).inputs.empty());
}

TEST_CASE("a missing file is an error naming it") {
  sluice::config::LoadOptions options;
  options.files = {"/nonexistent/sluice.yaml"};
  CHECK_THROWS_WITH_AS(sluice::config::load(options),
                       "/nonexistent/sluice.yaml: cannot read config file: no such file",
                       ConfigError);
}

TEST_CASE("processors run by order, then file order") {
  auto config = load_text(
      "processors:\n"
      "  - tag: {alias: second, order: 2}\n"
      "  - tag: {alias: first, order: 1}\n"
      "  - tag: {alias: third, order: 2}\n",
      "t.yaml", test_registry());
  REQUIRE(config.processors.size() == 3);
  CHECK(config.processors[0].alias == "first");
  CHECK(config.processors[1].alias == "second");
  CHECK(config.processors[2].alias == "third");
}

TEST_CASE("the repository's default config is valid and builds") {
  sluice::config::LoadOptions options;
  options.files = {SLUICE_SOURCE_DIR "/config/sluice.yaml"};
  auto config = sluice::config::load(options);
  CHECK(config.inputs.size() == 9);
  CHECK(config.outputs.size() == 1);
  sluice::pipeline::Pipeline pipeline(config, sluice::pipeline::SystemClock::instance());
}
