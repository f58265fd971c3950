// The exec input: commands run each interval in parallel, their stdout parsed with the data
// format; failures and timeouts name the command and the end of its stderr.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "input_test_support.hpp"
#include "inputs/exec/command.hpp"
#include "plugin_test_support.hpp"
#include "support/net.hpp"

using namespace sluice;
using sluice::testing::input_from_yaml;
using sluice::testing::LockedAccumulator;
using sluice::testing::NullLogger;
using sluice::testing::TempDir;
using namespace std::chrono_literals;

TEST_CASE("exec input: parses each command's stdout, commands run in parallel") {
  NullLogger log;
  // Each command sleeps 1 s: run one after the other they would take 2 s.
  auto input = input_from_yaml(
      "exec",
      R"(commands: ["sh -c 'sleep 1; echo \"cpu,core=0 usage=1.5 10\"'", )"
      R"("sh -c 'sleep 1; echo mem used=$USED_BYTES 20'"], environment: [USED_BYTES=42i])",
      log);
  LockedAccumulator acc;
  auto start = std::chrono::steady_clock::now();
  input->gather(acc);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() ==
        std::vector<std::string>{"cpu,core=0 usage=1.5 10", "mem used=42i 20"});
  CHECK(took < 1900ms);
}

TEST_CASE("exec input: a failing command names itself, its status and the end of its stderr") {
  NullLogger log;
  auto input = input_from_yaml(
      "exec",
      R"(commands: ["sh -c 'echo m v=1 1; echo first >&2; echo second >&2; echo third >&2; )"
      R"(echo fourth >&2; exit 3'"])",
      log);
  LockedAccumulator acc;
  input->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0] ==
        "command \"sh -c 'echo m v=1 1; echo first >&2; echo second >&2; echo third >&2; echo "
        "fourth >&2; exit 3'\": exit status 3; stderr: second | third | fourth");
  CHECK(acc.metrics().empty());
}

TEST_CASE("exec input: ignore_error parses the output of a command that exits non-zero") {
  NullLogger log;
  auto input = input_from_yaml(
      "exec", R"(commands: ["sh -c 'echo m v=1 1; exit 2'"], ignore_error: true)", log);
  LockedAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() == std::vector<std::string>{"m v=1 1"});
}

TEST_CASE(
    "exec input: a command that runs out of time is killed and reported, the next run works") {
  TempDir dir("exec-timeout");
  std::string flag = dir / "slow";
  std::ofstream(flag) << "";
  NullLogger log;
  // Slow while the flag file exists.
  auto input = input_from_yaml("exec",
                               "commands: [\"sh -c 'if [ -e " + flag +
                                   " ]; then echo waiting >&2; exec sleep 10; fi; echo m v=2 "
                                   "2'\"], timeout: 300ms",
                               log);
  LockedAccumulator acc;
  auto start = std::chrono::steady_clock::now();
  input->gather(acc);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0].ends_with(": timed out after 300ms; stderr: waiting"));
  CHECK(acc.metrics().empty());
  std::filesystem::remove(flag);
  acc.clear();
  input->gather(acc);
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() == std::vector<std::string>{"m v=2 2"});
}

TEST_CASE("exec input: garbage output is rejected line by line, other formats work") {
  NullLogger log;
  auto input =
      input_from_yaml("exec", R"(commands: ["printf 'm v=1 1\\nnot a metric\\nm v=3 3\\n'"])", log);
  LockedAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors().empty());
  REQUIRE(acc.rejected().size() == 1);
  CHECK(acc.rejected()[0].starts_with(
      "command \"printf 'm v=1 1\\nnot a metric\\nm v=3 3\\n'\": data_format influx, line 2"));
  CHECK(acc.sorted_lines() == std::vector<std::string>{"m v=1 1", "m v=3 3"});

  auto prom =
      input_from_yaml("exec",
                      R"(commands: ["printf '# TYPE jobs counter\\njobs_total{q=\"a\"} 7\\n'"], )"
                      R"(data_format: prometheus)",
                      log);
  LockedAccumulator acc2(5);
  prom->gather(acc2);
  CHECK(acc2.errors().empty());
  CHECK(acc2.sorted_lines() == std::vector<std::string>{"prometheus,q=a jobs_total=7 5"});
}

TEST_CASE("exec input: a program that cannot start is an error each run") {
  NullLogger log;
  auto input = input_from_yaml("exec", R"(commands: ["/nonexistent/collector --flag"])", log);
  LockedAccumulator acc;
  input->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0].starts_with("command \"/nonexistent/collector --flag\": "));
  input->gather(acc);
  CHECK(acc.errors().size() == 2);
}

TEST_CASE("exec input: a program given as a glob runs every match, found again each interval") {
  TempDir dir("exec-glob");
  auto script = [&](const std::string& name, const std::string& body) {
    std::string path = dir / name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  };
  script("a.sh", "echo \"from,script=a arg=\\\"$1\\\" 1\"");
  script("b.sh", "echo \"from,script=b arg=\\\"$1\\\" 2\"");
  NullLogger log;
  auto input = input_from_yaml("exec", "commands: ['" + (dir / "*.sh") + " x']", log);
  LockedAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() ==
        std::vector<std::string>{"from,script=a arg=\"x\" 1", "from,script=b arg=\"x\" 2"});
  script("c.sh", "echo oops >&2; exit 1");
  acc.clear();
  input->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0] == "command \"" + (dir / "c.sh") + " x\": exit status 1; stderr: oops");
  CHECK(acc.metrics().size() == 2);

  auto none = input_from_yaml("exec", "commands: ['" + (dir / "*.none") + "']", log);
  acc.clear();
  none->gather(acc);
  REQUIRE(acc.errors().size() == 1);
  CHECK(acc.errors()[0].ends_with(": no program matches \"" + (dir / "*.none") + "\""));
}

TEST_CASE("exec input: command lines are split as a shell splits words") {
  using inputs::exec::split_command;
  CHECK(split_command(R"(a  'b c' "d \"e\" \\ f" g\ h '')") ==
        std::vector<std::string>{"a", "b c", "d \"e\" \\ f", "g h", ""});
  CHECK_FALSE(split_command("a 'b").has_value());
  CHECK_FALSE(split_command("a \"b").has_value());
  CHECK_FALSE(split_command("a \\").has_value());
  NullLogger log;
  CHECK_THROWS_WITH_AS(input_from_yaml("exec", R"(commands: ["echo 'x"])", log),
                       doctest::Contains("unterminated quote"), std::exception);
  CHECK_THROWS_WITH_AS(input_from_yaml("exec", R"(commands: [echo], environment: [NOEQUALS])", log),
                       doctest::Contains("is not NAME=value"), std::exception);
}
