// A child process with its standard streams on pipes, for plugins that run external programs
// (the execd processor; later the execd input and output). The parent's ends are non-blocking;
// the child is reaped without blocking, and stopped in stages: close its stdin, then SIGTERM,
// then SIGKILL, each after a deadline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::core {

class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH when it has no '/') with argv, the agent's environment plus
  // `environment` ("NAME=value" entries, which replace variables of the same name). Throws
  // std::runtime_error when the pipes cannot be made or the program cannot be started.
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& environment);
  // Stops the child if it still runs (see stop(), with short deadlines) and closes the pipes.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  int stdin_fd() const { return stdin_; }    // -1 once closed
  int stdout_fd() const { return stdout_; }  // -1 once closed
  int stderr_fd() const { return stderr_; }  // -1 once closed

  // Writes all of `data` to the child's stdin, waiting at most `timeout` for room in the pipe.
  // Returns the number of bytes written: less than data.size() when the time ran out or the
  // child closed its stdin (a broken pipe never raises SIGPIPE in the agent).
  size_t write(std::string_view data, std::chrono::milliseconds timeout);
  void close_stdin();

  // What a non-blocking read of stdout or stderr gives.
  enum class ReadStatus { kData, kWouldBlock, kEof };
  // Appends what can be read now from `fd` (stdout_fd() or stderr_fd()) to `out`; at end of
  // stream the descriptor is closed.
  ReadStatus read_available(int fd, std::string& out);

  // The exit status (as waitpid reports it) once the child has exited and been reaped; does not
  // block.
  std::optional<int> try_wait();
  bool exited() const { return status_.has_value(); }

  // Stops the child: closes its stdin and waits up to `stdin_grace` for it to exit, then sends
  // SIGTERM and waits up to `term_grace`, then sends SIGKILL. Meanwhile its stdout is read and
  // discarded and each stderr line is passed to `on_stderr_line` (if set), so a child blocked
  // on a full pipe can still exit. Returns the exit status.
  int stop(std::chrono::milliseconds stdin_grace, std::chrono::milliseconds term_grace,
           const std::function<void(std::string_view)>& on_stderr_line = {});

  // "exit status 3", "killed by signal 9 (Killed)".
  static std::string describe_status(int status);

 private:
  void close_fd(int& fd);
  // Waits up to `timeout` for the child to exit, draining its output.
  bool wait_exit(std::chrono::milliseconds timeout,
                 const std::function<void(std::string_view)>& on_stderr_line);

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  std::optional<int> status_;
  std::string stderr_partial_;  // a stderr line not yet complete, while stopping
};

// Splits a byte stream into lines: feed it what was read, then take the complete lines.
class LineSplitter {
 public:
  // Appends data and calls on_line(line) for each complete line, without its "\n" (or "\r\n").
  template <typename F>
  void feed(std::string_view data, F&& on_line) {
    buffer_.append(data);
    size_t start = 0;
    for (size_t nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n', start)) {
      std::string_view line(buffer_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      on_line(line);
      start = nl + 1;
    }
    buffer_.erase(0, start);
  }
  // The unterminated rest (at end of stream), which is then forgotten.
  std::string take_rest() {
    std::string rest;
    rest.swap(buffer_);
    return rest;
  }
  size_t pending_bytes() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

}  // namespace sluice::core
