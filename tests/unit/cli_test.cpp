// The sluice binary as a user runs it.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "support/process.hpp"
#include "support/test_plugins.hpp"

using sluice::testing::BackgroundProcess;
using sluice::testing::eventually;
using sluice::testing::read_text;
using sluice::testing::run_command;

namespace fs = std::filesystem;

namespace {

const std::string kSluice = SLUICE_BINARY;
const std::string kDefaultConfig = SLUICE_SOURCE_DIR "/config/sluice.yaml";

fs::path fresh_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / ("sluice-cli-test-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("sluice check names file, line, column and key of a typo, and exits 1") {
  fs::path dir = fresh_dir("check");
  write(dir / "sluice.yaml", "inputs:\n  - cpu:\n      percpuu: true\n");
  auto result = run_command(kSluice + " check --config " + (dir / "sluice.yaml").string());
  CHECK(result.exit_code == 1);
  CHECK(result.output == "sluice: " + (dir / "sluice.yaml").string() +
                             ":3:7: inputs.cpu: unknown option \"percpuu\" (did you mean "
                             "\"percpu\"?)\n");
}

TEST_CASE("sluice check accepts the default config") {
  auto result = run_command(kSluice + " check --config " + kDefaultConfig);
  CHECK(result.exit_code == 0);
  CHECK(result.output.starts_with("config OK: " + kDefaultConfig + " (9 inputs,"));
}

TEST_CASE("sluice test prints every default input once as line protocol") {
  auto result = run_command(kSluice + " test --config " + kDefaultConfig);
  REQUIRE(result.exit_code == 0);
  for (const char* name : {"cpu,", "mem,", "swap,", "disk,", "diskio,", "net,", "system,",
                           "kernel,", "processes,"}) {
    INFO("measurement " << name);
    CHECK((result.output.starts_with(name) ||
           result.output.find(std::string("\n") + name) != std::string::npos));
  }
  // The rate input reports usage from two gathers.
  CHECK(result.output.find("usage_idle=") != std::string::npos);
}

TEST_CASE("sluice config prints a sample that loads as a config") {
  fs::path dir = fresh_dir("sample");
  auto result = run_command(kSluice + " config --inputs cpu,mem --outputs file > " +
                            (dir / "sample.yaml").string());
  REQUIRE(result.exit_code == 0);
  std::string sample = read_text(dir / "sample.yaml");
  CHECK(sample.find("- cpu:") != std::string::npos);
  CHECK(sample.find("# percpu: true") != std::string::npos);
  auto check = run_command(kSluice + " check --config " + (dir / "sample.yaml").string());
  CHECK(check.exit_code == 0);

  auto full = run_command(kSluice + " config > " + (dir / "full.yaml").string());
  REQUIRE(full.exit_code == 0);
  CHECK(run_command(kSluice + " check --config " + (dir / "full.yaml").string()).exit_code == 0);
  CHECK(run_command(kSluice + " config --inputs nope").exit_code == 1);
}

TEST_CASE("sluice version, plugins and --help answer") {
  CHECK(run_command(kSluice + " version").output == "sluice " SLUICE_VERSION "\n");
  auto plugins = run_command(kSluice + " plugins");
  CHECK(plugins.exit_code == 0);
  CHECK(plugins.output.find("  cpu ") != std::string::npos);
  CHECK(plugins.output.find("  file ") != std::string::npos);
  for (const char* command : {"", " run", " test", " once", " check", " config", " plugins"}) {
    auto help = run_command(kSluice + command + " --help");
    INFO("command" << command);
    CHECK(help.exit_code == 0);
    CHECK(help.output.find("--") != std::string::npos);
  }
}

TEST_CASE("signals: SIGHUP with a bad config keeps running, with a good one reloads, SIGTERM "
          "drains and exits 0") {
  fs::path dir = fresh_dir("signals");
  auto config = [&](const std::string& out) {
    return "agent: {interval: 100ms, flush_interval: 100ms, omit_hostname: true}\n"
           "inputs:\n  - internal: {}\n"
           "outputs:\n  - file: {files: [" + (dir / out).string() + "]}\n";
  };
  write(dir / "sluice.yaml", config("first.out"));
  BackgroundProcess agent(kSluice + " run --config " + (dir / "sluice.yaml").string() +
                          " --pidfile " + (dir / "sluice.pid").string() + " 2> " +
                          (dir / "log").string());
  REQUIRE(agent.started());
  REQUIRE(eventually([&] { return read_text(dir / "first.out").find("internal_agent") != std::string::npos; }));
  CHECK(fs::exists(dir / "sluice.pid"));

  write(dir / "sluice.yaml", "inputs:\n  - internal: {colect_memstats: false}\n");
  agent.signal(SIGHUP);
  REQUIRE(eventually([&] { return read_text(dir / "log").find("reload failed") != std::string::npos; }));
  CHECK(read_text(dir / "log").find("unknown option \"colect_memstats\"") != std::string::npos);
  CHECK(agent.running());
  size_t before = read_text(dir / "first.out").size();
  REQUIRE(eventually([&] { return read_text(dir / "first.out").size() > before; }));  // still working

  write(dir / "sluice.yaml", config("second.out"));
  agent.signal(SIGHUP);
  REQUIRE(eventually([&] { return read_text(dir / "second.out").find("internal_agent") != std::string::npos; }));

  agent.signal(SIGUSR1);
  REQUIRE(eventually([&] { return read_text(dir / "log").find("SIGUSR1") != std::string::npos; }));
  agent.signal(SIGTERM);
  CHECK(agent.wait_exit(10) == 0);
  CHECK_FALSE(fs::exists(dir / "sluice.pid"));
  CHECK(read_text(dir / "log").find("SIGTERM: shutting down") != std::string::npos);
}
