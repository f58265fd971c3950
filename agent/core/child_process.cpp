#include "core/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace sluice::core {

namespace {

using Clock = std::chrono::steady_clock;

std::runtime_error system_error(const std::string& what, int err) {
  return std::runtime_error(what + ": " + std::strerror(err));
}

void set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// The environment of the child: the agent's, with `extra` entries replacing those of the
// same name.
std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> vars;
  std::vector<std::string> order;
  auto put = [&](std::string_view entry) {
    size_t eq = entry.find('=');
    std::string name(entry.substr(0, eq));
    if (vars.find(name) == vars.end()) order.push_back(name);
    vars[name] = std::string(entry);
  };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) put(*e);
  for (const std::string& e : extra) put(e);
  std::vector<std::string> out;
  out.reserve(order.size());
  for (const std::string& name : order) out.push_back(vars[name]);
  return out;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::vector<std::string>& environment) {
  if (argv.empty() || argv[0].empty()) throw std::runtime_error("no program to run");
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) throw system_error("pipe", errno);
  if (pipe2(out, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(in[0]);
    ::close(in[1]);
    throw system_error("pipe", e);
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    int e = errno;
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    throw system_error("pipe", e);
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);

  // The agent's threads may block signals; the child starts with none blocked and every
  // signal at its default action.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env = child_environment(environment);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int rc = posix_spawnp(&pid_, argv[0].c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    pid_ = -1;
    throw system_error("cannot start " + argv[0], rc);
  }
  stdin_ = in[1];
  stdout_ = out[0];
  stderr_ = err[0];
  set_nonblocking(stdin_);
  set_nonblocking(stdout_);
  set_nonblocking(stderr_);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) {
    stop(std::chrono::milliseconds(1000), std::chrono::milliseconds(1000));
  }
  close_fd(stdin_);
  close_fd(stdout_);
  close_fd(stderr_);
}

void ChildProcess::close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void ChildProcess::close_stdin() { close_fd(stdin_); }

size_t ChildProcess::write(std::string_view data, std::chrono::milliseconds timeout) {
  if (stdin_ < 0) return 0;
  // A write to a pipe whose reader is gone raises SIGPIPE, which would end the agent: block it
  // in this thread for the write, and take back any that became pending.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

  auto deadline = Clock::now() + timeout;
  size_t written = 0;
  bool broken = false;
  while (written < data.size()) {
    ssize_t n = ::write(stdin_, data.data() + written, data.size() - written);
    if (n > 0) {
      written += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{stdin_, POLLOUT, 0};
      int wait = remaining_ms(deadline);
      if (wait == 0) break;
      if (::poll(&p, 1, wait) < 0 && errno != EINTR) break;
      if (p.revents & (POLLERR | POLLHUP)) {
        broken = true;
        break;
      }
      continue;
    }
    broken = n < 0 && errno == EPIPE;
    break;
  }
  if (broken && !was_pending) {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  return written;
}

ChildProcess::ReadStatus ChildProcess::read_available(int fd, std::string& out) {
  if (fd < 0) return ReadStatus::kEof;
  char buf[16384];
  bool got = false;
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      got = true;
      if (static_cast<size_t>(n) < sizeof(buf)) return ReadStatus::kData;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return got ? ReadStatus::kData : ReadStatus::kWouldBlock;
    // End of stream, or an error that means the same.
    if (fd == stdout_) close_fd(stdout_);
    if (fd == stderr_) close_fd(stderr_);
    return got ? ReadStatus::kData : ReadStatus::kEof;
  }
}

std::optional<int> ChildProcess::try_wait() {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) status_ = status;
  if (r < 0 && errno == ECHILD) status_ = 0;  // reaped elsewhere
  return status_;
}

bool ChildProcess::wait_exit(std::chrono::milliseconds timeout,
                             const std::function<void(std::string_view)>& on_stderr_line) {
  auto deadline = Clock::now() + timeout;
  std::string discard;
  while (true) {
    if (try_wait()) return true;
    pollfd fds[2];
    nfds_t n = 0;
    if (stdout_ >= 0) fds[n++] = {stdout_, POLLIN, 0};
    if (stderr_ >= 0) fds[n++] = {stderr_, POLLIN, 0};
    int wait = std::min(remaining_ms(deadline), 10);
    if (n > 0) {
      ::poll(fds, n, wait);
    } else if (wait > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
    discard.clear();
    read_available(stdout_, discard);
    std::string err;
    read_available(stderr_, err);
    if (!err.empty()) {
      stderr_partial_ += err;
      size_t start = 0;
      for (size_t nl = stderr_partial_.find('\n'); nl != std::string::npos;
           nl = stderr_partial_.find('\n', start)) {
        if (on_stderr_line)
          on_stderr_line(std::string_view(stderr_partial_).substr(start, nl - start));
        start = nl + 1;
      }
      stderr_partial_.erase(0, start);
    }
    if (try_wait()) return true;
    if (remaining_ms(deadline) == 0) return false;
  }
}

int ChildProcess::stop(std::chrono::milliseconds stdin_grace, std::chrono::milliseconds term_grace,
                       const std::function<void(std::string_view)>& on_stderr_line) {
  if (pid_ <= 0) return 0;
  close_stdin();
  if (!wait_exit(stdin_grace, on_stderr_line)) {
    ::kill(pid_, SIGTERM);
    if (!wait_exit(term_grace, on_stderr_line)) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      status_ = status;
    }
  }
  if (!stderr_partial_.empty() && on_stderr_line) on_stderr_line(stderr_partial_);
  stderr_partial_.clear();
  return *status_;
}

std::string ChildProcess::describe_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = strsignal(sig);
    return "killed by signal " + std::to_string(sig) + (name ? std::string(" (") + name + ")" : "");
  }
  return "status " + std::to_string(status);
}

}  // namespace sluice::core
