// A program that runs for the life of a plugin (the execd input and output): started with its
// standard streams on pipes (ChildProcess), restarted with back-off when it exits, each line of
// its stdout handed to the plugin, each line of its stderr logged, and stopped in stages: its
// stdin closed, then SIGTERM, then SIGKILL, each after a deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/child_process.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

struct ProgramSpec {
  std::vector<std::string> command;      // the program and its arguments
  std::vector<std::string> environment;  // NAME=value, added to the agent's
  // Wait before a restart; doubled after each exit within a minute of the start, up to 16 times.
  std::chrono::nanoseconds restart_delay{std::chrono::seconds(10)};
  // Deadlines of a stop: after closing stdin, then after SIGTERM (then SIGKILL).
  std::chrono::milliseconds stdin_grace{2000};
  std::chrono::milliseconds term_grace{3000};
};

// Checks that `program` (argv[0]) can be started: a path to an executable file, or a name
// found in PATH. Returns why not, or "".
std::string check_program(const std::string& program);

class ProgramRunner {
 public:
  using LineHandler = std::function<void(std::string_view line)>;

  // Starts the program and the thread that reads it; on_stdout_line runs on that thread.
  // Throws std::runtime_error when the program cannot be started.
  ProgramRunner(ProgramSpec spec, Logger& log, LineHandler on_stdout_line);
  // Stops the program (see stop()).
  ~ProgramRunner();
  ProgramRunner(const ProgramRunner&) = delete;
  ProgramRunner& operator=(const ProgramRunner&) = delete;

  // Writes to the program's stdin, waiting at most `timeout` for room. Returns the bytes
  // written: fewer when the time ran out, 0 while no program runs (between exit and restart).
  size_t write(std::string_view data, std::chrono::milliseconds timeout);
  // Sends `signal` to the running program; false when none runs.
  bool signal(int signal);
  // True while a program runs.
  bool running() const;
  // Counts the starts: a restarted program is another generation, with a fresh stdin.
  uint64_t generation() const;
  // Stops the program in stages and the reading thread; no restart follows. Idempotent.
  void stop();

 private:
  void start_child();  // with mutex_ held
  void reader_loop();
  bool restart_after_exit(int& failures, LineSplitter& out_lines, LineSplitter& err_lines);
  void wake();
  void log_stderr(std::string_view line);

  ProgramSpec spec_;
  Logger& log_;
  LineHandler on_line_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  // Replaced only by the reader thread, under mutex_, and never while `writing_`.
  std::unique_ptr<ChildProcess> child_;
  bool exited_ = false;
  bool stopping_ = false;
  bool writing_ = false;
  uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point started_at_;
  int wake_fd_ = -1;
  std::thread reader_;
};

}  // namespace sluice::core
