// One run of a command for the exec input: its words split as a shell would (without running
// a shell), its output read until it exits or its time runs out.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sluice::inputs::exec {

// Splits a command line into words: blanks separate words, '...' keeps everything literally,
// "..." keeps everything but \" \\ \$ \` escapes, and a backslash outside quotes escapes the next
// character. Returns nullopt for an unterminated quote or a trailing backslash.
std::optional<std::vector<std::string>> split_command(const std::string& line);

struct RunResult {
  std::string stdout_text;
  std::string stderr_text;  // its last kMaxStderr bytes
  // Why the run failed ("exit status 2", "timed out after 5s", "cannot start: ..."), or empty.
  std::string failure;
  bool exit_status_failure = false;  // the program ran to its end but exited non-zero
};

inline constexpr size_t kMaxStderr = 4096;

// Runs argv with `environment` (NAME=value) added to the agent's, its stdin closed; kills it when
// `timeout` (0: none) passes or its stdout exceeds `max_stdout` bytes.
RunResult run_command(const std::vector<std::string>& argv,
                      const std::vector<std::string>& environment, std::chrono::nanoseconds timeout,
                      size_t max_stdout);

// The last `count` non-empty lines of `text`, joined with " | ", for error messages.
std::string last_lines(const std::string& text, size_t count);

}  // namespace sluice::inputs::exec
