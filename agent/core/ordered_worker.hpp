// A thread of its own that runs jobs one at a time, in the order they were given. An output
// that writes ahead prepares the next batch on the agent's thread (serializing, compressing)
// while this thread sends the previous one and waits for the server's answer.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "sluice/plugin.hpp"

namespace sluice::core {

class OrderedWorker {
 public:
  OrderedWorker() = default;
  // Runs what is queued, then joins.
  ~OrderedWorker();
  OrderedWorker(const OrderedWorker&) = delete;
  OrderedWorker& operator=(const OrderedWorker&) = delete;

  // Queues `job` after those given before; the future gives its result (or its exception).
  // The thread starts with the first job.
  std::future<WriteResult> submit(std::function<WriteResult()> job);

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<WriteResult()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sluice::core
