// ProgramRunner: the stages of a stop, each after its deadline.
#include "core/program_runner.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

class Lines final : public sluice::Logger {
 public:
  void log(sluice::LogLevel, std::string_view m) override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(m);
  }
  bool enabled(sluice::LogLevel) const override { return true; }
  bool contains(std::string_view needle) const {
    std::lock_guard lock(mutex_);
    for (const std::string& l : lines_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// Runs `script`, stops it, and returns how long the stop took.
std::chrono::milliseconds stop_time(const std::string& script, Lines& log) {
  sluice::core::ProgramSpec spec;
  spec.command = {"sh", "-c", script};
  spec.stdin_grace = 300ms;
  spec.term_grace = 300ms;
  sluice::core::ProgramRunner runner(spec, log, [](std::string_view) {});
  // Let the shell set its traps.
  for (int i = 0; i < 200 && !log.contains("stderr: ready"); ++i) std::this_thread::sleep_for(5ms);
  auto start = std::chrono::steady_clock::now();
  runner.stop();
  CHECK(!runner.running());
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

}  // namespace

TEST_CASE("a program that ends at the end of its input stops when its stdin closes") {
  Lines log;
  CHECK(stop_time("echo ready >&2; cat > /dev/null", log) < 300ms);
  CHECK(log.contains("program stopped: exit status 0"));
}

TEST_CASE("a program that ignores its closed stdin gets SIGTERM after the first deadline") {
  Lines log;
  auto took = stop_time("trap 'exit 7' TERM; echo ready >&2; while :; do sleep 0.01; done", log);
  CHECK(took >= 250ms);
  CHECK(took < 600ms + 200ms);
  CHECK(log.contains("program stopped: exit status 7"));
}

TEST_CASE("a program that ignores SIGTERM too gets SIGKILL after the second deadline") {
  Lines log;
  auto took = stop_time("trap '' TERM; echo ready >&2; while :; do sleep 0.01; done", log);
  CHECK(took >= 550ms);  // both deadlines, give or take the 10 ms polls
  CHECK(log.contains("program stopped: killed by signal 9"));
}

TEST_CASE("check_program finds programs in PATH and refuses what cannot run") {
  CHECK(sluice::core::check_program("sh") == "");
  CHECK(sluice::core::check_program("/bin/sh") == "");
  CHECK(sluice::core::check_program("no-such-program-sluice") ==
        "no program \"no-such-program-sluice\" in PATH");
  std::filesystem::path text = std::filesystem::temp_directory_path() /
                               ("sluice-not-a-program-" + std::to_string(::getpid()));
  std::ofstream(text) << "just text\n";
  std::filesystem::permissions(
      text, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CHECK(sluice::core::check_program(text.string()) ==
        "cannot run " + text.string() + ": Permission denied");
}
