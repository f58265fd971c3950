// Time as the pipeline sees it. Schedules, flushes and retries ask this clock, so tests drive
// them with a ManualClock instead of sleeping.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace sluice::pipeline {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in ns since the Unix epoch.
  virtual int64_t now() const = 0;
  // Waits on `cv` (with `lock` held) until `wake()` is true or now() reaches `deadline`.
  // Returns wake(). The caller's notify_all on `cv` re-checks wake().
  virtual bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          int64_t deadline, const std::function<bool()>& wake) const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now() const override;
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  int64_t deadline, const std::function<bool()>& wake) const override;
  static const SystemClock& instance();
};

// A clock that moves only when told. Waiters poll it every millisecond of real time, which
// keeps it independent of the code under test.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start) : now_(start) {}
  int64_t now() const override { return now_.load(); }
  void advance(int64_t ns) { now_ += ns; }
  void set(int64_t ns) { now_ = ns; }
  bool wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  int64_t deadline, const std::function<bool()>& wake) const override;
  // Threads inside wait_until now. A test that waits for all its threads to be waiting
  // before it advances the clock knows each has seen the time before.
  int waiters() const { return waiters_.load(); }

 private:
  std::atomic<int64_t> now_;
  mutable std::atomic<int> waiters_{0};
};

}  // namespace sluice::pipeline
