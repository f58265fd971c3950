// execd: runs an external program for the whole life of the processor, writes each metric to
// its stdin as line protocol and passes on the metrics it writes to its stdout, as Telegraf's
// execd processor. process() is synchronous: it writes the batch, then waits up to
// response_timeout for as many lines as it wrote, and returns whatever the program has written
// by then; lines that come later go out with a later batch.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/child_process.hpp"
#include "core/units.hpp"
#include "lineproto/parser.hpp"
#include "lineproto/serializer.hpp"
#include "plugin/registry.hpp"

namespace sluice::processors::execd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::vector<OptionSpec> kOptions = {
    {"command", OptionType::kStringList, "", "The program and its arguments", true},
    {"environment", OptionType::kStringList, "",
     "Variables added to the program's environment, as NAME=value"},
    {"restart_delay", OptionType::kDuration, "10s",
     "Wait before restarting the program after it exits; doubled after each quick exit, up to "
     "16 times"},
    {"response_timeout", OptionType::kDuration, "200ms",
     "How long a batch waits for the program's output before going on without it"},
};

// Deadlines of a stop: after closing stdin, then after SIGTERM (then SIGKILL).
constexpr auto kStdinGrace = 2s;
constexpr auto kTermGrace = 3s;
// A program that ran this long before exiting restarts after restart_delay again.
constexpr auto kHealthyRun = 1min;
constexpr int kMaxBackoffShift = 4;
// Bytes of line protocol kept for a program that does not read fast enough; beyond, the
// oldest batch's rest is dropped.
constexpr size_t kMaxUnsent = 16 << 20;

int64_t wall_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Execd final : public Processor {
 public:
  Execd(const Options& options, Logger& log)
      : command_(options.get_strings("command")),
        environment_(options.get_strings("environment")),
        restart_delay_(options.get_duration("restart_delay")),
        response_timeout_(options.get_duration("response_timeout")),
        log_(log) {
    if (command_.empty() || command_[0].empty()) {
      throw OptionError("command", "give the program to run, e.g. [/usr/bin/my-filter, --flag]");
    }
    for (const std::string& e : environment_) {
      if (e.find('=') == std::string::npos || e.front() == '=') {
        throw OptionError("environment", "\"" + e + "\" is not NAME=value");
      }
    }
    wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
    // A program that cannot be started is a configuration error.
    try {
      start_child();
    } catch (const std::exception& e) {
      ::close(wake_fd_);
      throw OptionError("command", e.what());
    }
    reader_ = std::thread([this] { reader_loop(); });
  }

  ~Execd() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    wake();
    reader_.join();
    if (child_) {
      int status = child_->stop(kStdinGrace, kTermGrace,
                                [this](std::string_view line) { log_stderr(line); });
      log_.debug("program stopped: " + core::ChildProcess::describe_status(status));
    }
    ::close(wake_fd_);
  }

  Batch process(Batch batch) override {
    serialized_.clear();
    size_t lines = lineproto::serialize_batch(batch, serialized_);
    batch.clear();
    std::unique_lock lock(mutex_);
    uint64_t target = received_lines_;
    if (child_ == nullptr || child_exited_) {
      if (!down_reported_ && lines > 0) {
        log_.warn("the program is not running; metrics are dropped until it restarts");
        down_reported_ = true;
      }
    } else if (lines > 0) {
      if (unsent_generation_ != generation_) unsent_.clear();  // left for a program now gone
      unsent_generation_ = generation_;
      if (unsent_.size() + serialized_.size() > kMaxUnsent) {
        log_.error("the program does not read its input; " + std::to_string(lines) +
                   " metrics dropped");
      } else {
        unsent_ += serialized_;
        target += lines;
        // The write goes on without the lock, so that the reader thread can take the program's
        // output meanwhile (a program blocked on a full stdout would not read its stdin); the
        // reader does not replace the program while `writing_` is set.
        core::ChildProcess* child = child_.get();
        writing_ = true;
        lock.unlock();
        size_t n = child->write(
            unsent_, std::chrono::duration_cast<std::chrono::milliseconds>(response_timeout_));
        unsent_.erase(0, n);
        lock.lock();
        writing_ = false;
        cv_.notify_all();
      }
    }
    auto deadline = Clock::now() + response_timeout_;
    cv_.wait_until(lock, deadline, [&] { return received_lines_ >= target || stopping_; });
    batch.swap(output_);
    return batch;
  }

 private:
  // Starts the program; called with mutex_ held (or before the reader thread exists).
  void start_child() {
    child_ = std::make_unique<core::ChildProcess>(command_, environment_);
    child_exited_ = false;
    down_reported_ = false;
    started_at_ = Clock::now();
    ++generation_;
    log_.info("started " + command_[0] + " (pid " + std::to_string(child_->pid()) + ")");
  }

  void wake() {
    uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof(one));
    (void)n;
  }

  void log_stderr(std::string_view line) {
    if (!line.empty()) log_.error("stderr: " + std::string(line));
  }

  // The reader thread: parses the program's stdout, logs its stderr, and restarts it when it
  // exits.
  void reader_loop() {
    int failures = 0;
    core::LineSplitter out_lines, err_lines;
    lineproto::Parser parser;
    std::string chunk;
    Batch parsed;
    while (true) {
      core::ChildProcess* child;
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
        // Both streams ended: the program is gone (or going).
        if (!restart_after_exit(failures, out_lines, err_lines)) return;
        continue;
      }
      if (::poll(fds, n, -1) < 0 && errno != EINTR) return;
      if (fds[0].revents & POLLIN) {
        uint64_t count;
        ssize_t r = ::read(wake_fd_, &count, sizeof(count));
        (void)r;
      }
      chunk.clear();
      if (child->read_available(child->stdout_fd(), chunk) !=
              core::ChildProcess::ReadStatus::kWouldBlock &&
          !chunk.empty()) {
        uint64_t lines = 0;
        parsed.clear();
        lineproto::ParserOptions popts;
        popts.default_time = wall_now_ns();
        parser.set_options(popts);
        out_lines.feed(chunk, [&](std::string_view line) {
          ++lines;
          std::vector<lineproto::ParseError> errors;
          parser.parse(line, parsed, &errors);
          if (!errors.empty()) {
            log_.error("cannot read the program's output \"" + std::string(line) +
                       "\": " + errors[0].reason);
          }
        });
        if (lines > 0) {
          {
            std::lock_guard lock(mutex_);
            for (Metric& m : parsed) output_.push_back(std::move(m));
            received_lines_ += lines;
          }
          cv_.notify_all();
        }
      }
      chunk.clear();
      if (child->read_available(child->stderr_fd(), chunk) ==
          core::ChildProcess::ReadStatus::kData) {
        err_lines.feed(chunk, [&](std::string_view line) { log_stderr(line); });
      }
    }
  }

  // Reaps the program that ended, waits the back-off and starts it again. False when stopping.
  bool restart_after_exit(int& failures, core::LineSplitter& out_lines,
                          core::LineSplitter& err_lines) {
    std::unique_ptr<core::ChildProcess> old;
    {
      std::unique_lock lock(mutex_);
      child_exited_ = true;
      cv_.wait(lock, [&] { return !writing_; });
      old = std::move(child_);
    }
    log_stderr(err_lines.take_rest());
    if (!out_lines.take_rest().empty()) log_.warn("the program's last line had no line break");
    // It closed its output; close its stdin too, then signal it if it does not end.
    int status = old->stop(kStdinGrace, kTermGrace, [this](std::string_view l) { log_stderr(l); });
    old.reset();
    if (Clock::now() - started_at_ >= kHealthyRun) failures = 0;
    auto delay = restart_delay_ * (1 << std::min(failures, kMaxBackoffShift));
    ++failures;
    log_.error("the program exited (" + core::ChildProcess::describe_status(status) +
               "); restarting in " + core::format_duration(delay));
    while (true) {
      std::unique_lock lock(mutex_);
      if (cv_.wait_for(lock, delay, [&] { return stopping_; })) return false;
      try {
        start_child();
        return true;
      } catch (const std::exception& e) {
        delay = restart_delay_ * (1 << std::min(failures, kMaxBackoffShift));
        ++failures;
        log_.error(std::string(e.what()) + "; trying again in " + core::format_duration(delay));
      }
    }
  }

  std::vector<std::string> command_;
  std::vector<std::string> environment_;
  std::chrono::nanoseconds restart_delay_;
  std::chrono::nanoseconds response_timeout_;
  Logger& log_;

  std::mutex mutex_;
  std::condition_variable cv_;
  // Replaced only by the reader thread, under mutex_; process() writes under mutex_.
  std::unique_ptr<core::ChildProcess> child_;
  bool child_exited_ = false;
  bool down_reported_ = false;
  bool stopping_ = false;
  Clock::time_point started_at_;
  Batch output_;                 // parsed from the program, not yet passed on
  uint64_t received_lines_ = 0;  // lines the program wrote, in all
  bool writing_ = false;         // process() is writing to the program without the lock
  uint64_t generation_ = 0;      // counts starts of the program
  std::string unsent_;           // written to stdin only in part (process() only)
  uint64_t unsent_generation_ = 0;
  int wake_fd_ = -1;
  std::thread reader_;
  std::string serialized_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "execd";
  info.description = "Process metrics with an external program over line protocol";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Execd>(ctx.options, ctx.log);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::execd
