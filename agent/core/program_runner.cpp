#include "core/program_runner.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "core/units.hpp"

namespace sluice::core {
namespace {

using Clock = std::chrono::steady_clock;

// A program that ran this long before exiting restarts after restart_delay again.
constexpr auto kHealthyRun = std::chrono::minutes(1);
constexpr int kMaxBackoffShift = 4;

}  // namespace

std::string check_program(const std::string& program) {
  if (program.empty()) return "no program given";
  if (program.find('/') != std::string::npos) {
    if (::access(program.c_str(), X_OK) == 0) return "";
    return "cannot run " + program + ": " + std::strerror(errno);
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return "";
    start = end + 1;
  }
  return "no program \"" + program + "\" in PATH";
}

ProgramRunner::ProgramRunner(ProgramSpec spec, Logger& log, LineHandler on_stdout_line)
    : spec_(std::move(spec)), log_(log), on_line_(std::move(on_stdout_line)) {
  if (spec_.command.empty() || spec_.command[0].empty()) {
    throw std::runtime_error("no program to run");
  }
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  try {
    std::lock_guard lock(mutex_);
    start_child();
  } catch (...) {
    ::close(wake_fd_);
    throw;
  }
  reader_ = std::thread([this] { reader_loop(); });
}

ProgramRunner::~ProgramRunner() {
  stop();
  ::close(wake_fd_);
}

void ProgramRunner::start_child() {
  child_ = std::make_unique<ChildProcess>(spec_.command, spec_.environment);
  exited_ = false;
  started_at_ = Clock::now();
  ++generation_;
  log_.info("started " + spec_.command[0] + " (pid " + std::to_string(child_->pid()) + ")");
}

void ProgramRunner::wake() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd_, &one, sizeof one);
  (void)n;
}

void ProgramRunner::log_stderr(std::string_view line) {
  if (!line.empty()) log_.error("stderr: " + std::string(line));
}

size_t ProgramRunner::write(std::string_view data, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (child_ == nullptr || exited_ || stopping_) return 0;
  // The write goes on without the lock, so that the reader thread can drain the program's
  // output meanwhile (a program blocked on a full stdout reads no more stdin); the reader does
  // not replace the program while `writing_` is set.
  ChildProcess* child = child_.get();
  writing_ = true;
  lock.unlock();
  size_t n = child->write(data, timeout);
  lock.lock();
  writing_ = false;
  cv_.notify_all();
  return n;
}

bool ProgramRunner::signal(int sig) {
  std::lock_guard lock(mutex_);
  if (child_ == nullptr || exited_ || stopping_) return false;
  return ::kill(child_->pid(), sig) == 0;
}

bool ProgramRunner::running() const {
  std::lock_guard lock(mutex_);
  return child_ != nullptr && !exited_ && !stopping_;
}

uint64_t ProgramRunner::generation() const {
  std::lock_guard lock(mutex_);
  return generation_;
}

void ProgramRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  wake();
  if (reader_.joinable()) reader_.join();
  std::unique_ptr<ChildProcess> child;
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return !writing_; });
    child = std::move(child_);
  }
  if (child) {
    int status = child->stop(spec_.stdin_grace, spec_.term_grace,
                             [this](std::string_view line) { log_stderr(line); });
    log_.info("program stopped: " + ChildProcess::describe_status(status));
  }
}

void ProgramRunner::reader_loop() {
  int failures = 0;
  LineSplitter out_lines, err_lines;
  std::string chunk;
  auto deliver = [&](std::string_view line) {
    try {
      on_line_(line);
    } catch (const std::exception& e) {
      log_.error(std::string("cannot take the program's output: ") + e.what());
    }
  };
  while (true) {
    ChildProcess* child;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      child = child_.get();
    }
    pollfd fds[3];
    nfds_t n = 0;
    fds[n++] = {wake_fd_, POLLIN, 0};
    if (child->stdout_fd() >= 0) fds[n++] = {child->stdout_fd(), POLLIN, 0};
    if (child->stderr_fd() >= 0) fds[n++] = {child->stderr_fd(), POLLIN, 0};
    if (n == 1) {
      // Both streams ended: the program is gone, or going.
      if (!restart_after_exit(failures, out_lines, err_lines)) return;
      continue;
    }
    if (::poll(fds, n, -1) < 0 && errno != EINTR) {
      log_.error(std::string("poll: ") + std::strerror(errno));
      return;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      ssize_t r = ::read(wake_fd_, &count, sizeof count);
      (void)r;
    }
    chunk.clear();
    child->read_available(child->stdout_fd(), chunk);
    if (!chunk.empty()) out_lines.feed(chunk, deliver);
    chunk.clear();
    child->read_available(child->stderr_fd(), chunk);
    if (!chunk.empty()) err_lines.feed(chunk, [&](std::string_view l) { log_stderr(l); });
  }
}

bool ProgramRunner::restart_after_exit(int& failures, LineSplitter& out_lines,
                                       LineSplitter& err_lines) {
  std::unique_ptr<ChildProcess> old;
  {
    std::unique_lock lock(mutex_);
    exited_ = true;
    cv_.wait(lock, [&] { return !writing_; });
    old = std::move(child_);
  }
  // A last line without its line break is still the program's last word.
  if (std::string rest = out_lines.take_rest(); !rest.empty()) {
    try {
      on_line_(rest);
    } catch (const std::exception& e) {
      log_.error(std::string("cannot take the program's output: ") + e.what());
    }
  }
  log_stderr(err_lines.take_rest());
  // It closed its output; close its stdin too, then signal it if it does not end.
  int status = old->stop(spec_.stdin_grace, spec_.term_grace,
                         [this](std::string_view line) { log_stderr(line); });
  old.reset();
  if (Clock::now() - started_at_ >= kHealthyRun) failures = 0;
  auto delay = spec_.restart_delay * (1 << std::min(failures, kMaxBackoffShift));
  ++failures;
  log_.error("the program exited (" + ChildProcess::describe_status(status) + "); restarting in " +
             format_duration(delay));
  while (true) {
    std::unique_lock lock(mutex_);
    if (cv_.wait_for(lock, delay, [&] { return stopping_; })) return false;
    try {
      start_child();
      return true;
    } catch (const std::exception& e) {
      delay = spec_.restart_delay * (1 << std::min(failures, kMaxBackoffShift));
      ++failures;
      log_.error(std::string(e.what()) + "; trying again in " + format_duration(delay));
    }
  }
}

}  // namespace sluice::core
