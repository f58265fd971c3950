#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>

#include "core/child_process.hpp"
#include "plugin_test_support.hpp"
#include "processor_test_support.hpp"

using sluice::testing::CapturingLogger;
using sluice::testing::fixture;
using sluice::testing::make_processor;
using sluice::testing::run_lines;
using namespace std::chrono_literals;

namespace {

// Waits up to 10 s for `done`.
template <typename F>
bool eventually(F done) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

size_t count_lines(const CapturingLogger& log, std::string_view needle) {
  size_t n = 0;
  for (const std::string& l : log.lines()) n += l.find(needle) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("execd: the program rewrites each metric, its stderr is logged") {
  CapturingLogger log;
  auto p = make_processor(
      "execd", "{command: [sh, '" + fixture("execd/rewrite.sh") + "'], response_timeout: 5s}", log);
  CHECK(run_lines(*p, "cpu,host=a usage=1.5 1\nmem,host=b used=2i 2\ndisk free=3u 3\n") ==
        "rewritten,host=a,via=sh usage=1.5 1\nrewritten,host=b,via=sh used=2i 2\n"
        "rewritten,via=sh free=3u 3\n");
  CHECK(run_lines(*p, "net bytes=4i 4\n") == "rewritten,via=sh bytes=4i 4\n");
  CHECK(eventually([&] { return log.contains("error: stderr: ready"); }));
  CHECK(p->process({}).empty());
}

TEST_CASE("execd: a program that exits is restarted after restart_delay") {
  CapturingLogger log;
  auto p = make_processor("execd",
                          "{command: [sh, '" + fixture("execd/exit_after_one.sh") +
                              "'], restart_delay: 10ms, response_timeout: 5s}",
                          log);
  CHECK(run_lines(*p, "first v=1i 1\n") == "first v=1i 1\n");
  REQUIRE(eventually([&] { return count_lines(log, "info: started sh") == 2; }));
  CHECK(log.contains("error: stderr: exiting after one line"));
  CHECK(log.contains("the program exited (exit status 3); restarting in 10ms"));
  CHECK(run_lines(*p, "second v=2i 2\n") == "second v=2i 2\n");
  // The next exit waits twice as long.
  REQUIRE(eventually([&] { return count_lines(log, "info: started sh") == 3; }));
  CHECK(log.contains("restarting in 20ms"));
}

TEST_CASE("execd: output that does not come in time goes out with a later batch") {
  CapturingLogger log;
  // Answers each line only after the next one arrives: the first batch gets nothing back.
  auto p = make_processor(
      "execd",
      "{command: [sh, -c, 'p=; while IFS= read -r l; do [ -n \"$p\" ] && printf \"%s\\n\" \"$p\"; "
      "p=$l; done'], response_timeout: 100ms}",
      log);
  CHECK(run_lines(*p, "a v=1i 1\n") == "");
  CHECK(run_lines(*p, "b v=2i 2\n") == "a v=1i 1\n");
}

TEST_CASE("execd: bad output lines are logged and skipped") {
  CapturingLogger log;
  auto p = make_processor(
      "execd",
      "{command: [sh, -c, 'while IFS= read -r l; do printf \"not line protocol\\n%s\\n\" \"$l\"; "
      "done'], response_timeout: 5s}",
      log);
  CHECK(run_lines(*p, "a v=1i 1\n") == "a v=1i 1\n");
  CHECK(log.contains("cannot read the program's output \"not line protocol\""));
}

TEST_CASE("execd: environment and option errors") {
  CapturingLogger log;
  auto p = make_processor("execd",
                          "{command: [sh, -c, 'read l; echo \"env value=\\\"$SLUICE_T\\\" 1\"'], "
                          "environment: [SLUICE_T=set], response_timeout: 5s}",
                          log);
  CHECK(run_lines(*p, "x v=1i 1\n") == "env value=\"set\" 1\n");
  CHECK_THROWS_WITH_AS(make_processor("execd", "{command: [/nonexistent/program]}"),
                       doctest::Contains("cannot start /nonexistent/program"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("execd", "{command: [cat], environment: [NOEQUALS]}"),
                  sluice::OptionError);
  CHECK_THROWS(make_processor("execd", "{}"));  // command is required
}

TEST_CASE("child process: stopping closes stdin, then sends SIGTERM, then SIGKILL") {
  using sluice::core::ChildProcess;
  {
    ChildProcess cat({"cat"}, {});
    int status = cat.stop(2000ms, 2000ms);
    CHECK(ChildProcess::describe_status(status) == "exit status 0");
  }
  {
    ChildProcess sleeper({"sh", "-c", "exec sleep 30"}, {});
    auto start = std::chrono::steady_clock::now();
    int status = sleeper.stop(50ms, 2000ms);
    CHECK(ChildProcess::describe_status(status).rfind("killed by signal 15", 0) == 0);
    CHECK(std::chrono::steady_clock::now() - start < 2000ms);
  }
  {
    std::vector<std::string> lines;
    ChildProcess stubborn(
        {"sh", "-c", "trap '' TERM; echo going >&2; while :; do sleep 0.02; done"}, {});
    std::this_thread::sleep_for(100ms);
    int status = stubborn.stop(50ms, 100ms, [&](std::string_view l) { lines.emplace_back(l); });
    CHECK(ChildProcess::describe_status(status).rfind("killed by signal 9", 0) == 0);
    CHECK(lines == std::vector<std::string>{"going"});
  }
}

TEST_CASE("child process: writing to a program that is gone fails without SIGPIPE") {
  using sluice::core::ChildProcess;
  ChildProcess gone({"true"}, {});
  REQUIRE(eventually([&] { return gone.try_wait().has_value(); }));
  std::string big(1 << 20, 'x');
  CHECK(gone.write(big, 100ms) < big.size());
  CHECK(ChildProcess::describe_status(*gone.try_wait()) == "exit status 0");

  ChildProcess echo({"cat"}, {});
  CHECK(echo.write("hello\n", 1000ms) == 6);
  std::string out;
  REQUIRE(eventually([&] {
    echo.read_available(echo.stdout_fd(), out);
    return out == "hello\n";
  }));
  echo.close_stdin();
  REQUIRE(eventually([&] {
    return echo.read_available(echo.stdout_fd(), out) == ChildProcess::ReadStatus::kEof;
  }));
  CHECK_THROWS_AS(ChildProcess({"/nonexistent/program"}, {}), std::runtime_error);
}

TEST_CASE("line splitter: complete lines only, CRLF trimmed") {
  sluice::core::LineSplitter s;
  std::vector<std::string> lines;
  auto add = [&](std::string_view l) { lines.emplace_back(l); };
  s.feed("a\r\nb", add);
  CHECK(lines == std::vector<std::string>{"a"});
  s.feed("c\n\n", add);
  CHECK(lines == std::vector<std::string>{"a", "bc", ""});
  s.feed("tail", add);
  CHECK(s.take_rest() == "tail");
}
