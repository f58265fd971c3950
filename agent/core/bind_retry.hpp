// Listeners bind when started, not when created: on a reload the new configuration's plugins
// are created while the old ones still hold their ports. A bind that fails (the port still
// taken, a socket path not yet there) is reported and tried again in the background, with
// back-off, until it works or the listener stops; start() itself never fails.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace sluice::core {

class BindRetry {
 public:
  // `attempt` returns "" once bound, else why not; `report` is told each new reason.
  using Attempt = std::function<std::string()>;
  using Report = std::function<void(const std::string& why)>;

  BindRetry() = default;
  ~BindRetry() { stop(); }
  BindRetry(const BindRetry&) = delete;
  BindRetry& operator=(const BindRetry&) = delete;

  // Tries once now; when that fails, keeps trying on a thread. True when bound now.
  bool start(Attempt attempt, Report report,
             std::chrono::milliseconds first_delay = std::chrono::milliseconds(500)) {
    stop();
    std::string why = attempt();
    if (why.empty()) return true;
    report(why + "; trying again in the background");
    stopping_ = false;
    thread_ = std::thread([this, attempt = std::move(attempt), report = std::move(report),
                           delay = first_delay, last = why]() mutable {
      std::unique_lock lock(mutex_);
      while (!wake_.wait_for(lock, delay, [&] { return stopping_; })) {
        lock.unlock();
        std::string now = attempt();
        lock.lock();
        if (now.empty()) return;
        if (now != last) report(now + "; trying again in the background");
        last = now;
        delay = std::min(delay * 2, std::chrono::milliseconds(30'000));
      }
    });
    return false;
  }

  // Stops trying; returns once no attempt runs.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::core
