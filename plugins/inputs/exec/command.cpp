#include "inputs/exec/command.hpp"

#include <poll.h>
#include <sys/wait.h>

#include <algorithm>
#include <exception>
#include <string_view>
#include <thread>

#include "core/child_process.hpp"
#include "core/units.hpp"

namespace sluice::inputs::exec {

std::optional<std::vector<std::string>> split_command(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (++i == line.size()) return std::nullopt;
      word += line[i];
    } else if (c == '\'') {
      size_t end = line.find('\'', i + 1);
      if (end == std::string::npos) return std::nullopt;
      word.append(line, i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      for (++i;; ++i) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '"') break;
        if (line[i] == '\\' && i + 1 < line.size() &&
            std::string_view("\"\\$`").find(line[i + 1]) != std::string_view::npos) {
          ++i;
        }
        word += line[i];
      }
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

RunResult run_command(const std::vector<std::string>& argv,
                      const std::vector<std::string>& environment, std::chrono::nanoseconds timeout,
                      size_t max_stdout) {
  using Clock = std::chrono::steady_clock;
  using namespace std::chrono_literals;
  RunResult result;
  std::optional<core::ChildProcess> child;
  try {
    child.emplace(argv, environment);
  } catch (const std::exception& e) {
    result.failure = std::string("cannot start: ") + e.what();
    return result;
  }
  child->close_stdin();
  const bool limited = timeout.count() > 0;
  const auto deadline = Clock::now() + timeout;
  bool killed = false;
  auto trim_stderr = [&] {
    if (result.stderr_text.size() > kMaxStderr) {
      result.stderr_text.erase(0, result.stderr_text.size() - kMaxStderr);
    }
  };
  while (child->stdout_fd() >= 0 || child->stderr_fd() >= 0) {
    int wait_ms = 1000;
    if (limited) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        result.failure = "timed out after " + core::format_duration(timeout);
        killed = true;
        break;
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left.count() + 1, 1000));
    }
    pollfd fds[2] = {{child->stdout_fd(), POLLIN, 0}, {child->stderr_fd(), POLLIN, 0}};
    ::poll(fds, 2, wait_ms);  // a descriptor of -1 is ignored
    child->read_available(child->stdout_fd(), result.stdout_text);
    child->read_available(child->stderr_fd(), result.stderr_text);
    trim_stderr();
    if (max_stdout > 0 && result.stdout_text.size() > max_stdout) {
      result.failure = "wrote more than " + std::to_string(max_stdout) + " bytes to stdout";
      killed = true;
      break;
    }
  }
  if (killed) {
    child->stop(0ms, 1000ms);
    return result;
  }
  // Both streams are closed: the program is about to exit, or has (it may have closed them
  // early, so its time still counts).
  std::optional<int> status;
  while (!(status = child->try_wait())) {
    if (limited && Clock::now() >= deadline) {
      result.failure = "timed out after " + core::format_duration(timeout);
      child->stop(0ms, 1000ms);
      return result;
    }
    std::this_thread::sleep_for(2ms);
  }
  if (!(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)) {
    result.failure = core::ChildProcess::describe_status(*status);
    result.exit_status_failure = WIFEXITED(*status);
  }
  return result;
}

std::string last_lines(const std::string& text, size_t count) {
  std::vector<std::string_view> lines;
  std::string_view rest(text);
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  std::string out;
  size_t first = lines.size() > count ? lines.size() - count : 0;
  for (size_t i = first; i < lines.size(); ++i) {
    if (!out.empty()) out += " | ";
    out += lines[i];
  }
  return out;
}

}  // namespace sluice::inputs::exec
