#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/ordered_worker.hpp"

using sluice::WriteResult;
using sluice::core::OrderedWorker;

TEST_CASE("an ordered worker runs jobs one at a time, in the order given, off the caller's thread") {
  OrderedWorker worker;
  std::mutex mutex;
  std::vector<int> order;
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> on_caller{false};
  std::vector<std::future<WriteResult>> results;
  for (int i = 0; i < 20; ++i) {
    results.push_back(worker.submit([&, i] {
      if (running.fetch_add(1) != 0) overlapped = true;
      if (std::this_thread::get_id() == caller) on_caller = true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      {
        std::lock_guard lock(mutex);
        order.push_back(i);
      }
      running.fetch_sub(1);
      return i % 2 == 0 ? WriteResult::ok() : WriteResult::retry("odd " + std::to_string(i));
    }));
  }
  for (int i = 0; i < 20; ++i) {
    WriteResult r = results[static_cast<size_t>(i)].get();
    CHECK(r.status == (i % 2 == 0 ? WriteResult::Status::kOk : WriteResult::Status::kRetry));
    if (i % 2 == 1) CHECK(r.error == "odd " + std::to_string(i));
  }
  std::vector<int> expected;
  for (int i = 0; i < 20; ++i) expected.push_back(i);
  CHECK(order == expected);
  CHECK_FALSE(overlapped);
  CHECK_FALSE(on_caller);
}

TEST_CASE("an ordered worker hands a job's exception to its future and runs what is queued before it goes") {
  std::atomic<int> ran{0};
  std::future<WriteResult> failed;
  {
    OrderedWorker worker;
    failed = worker.submit([]() -> WriteResult { throw std::runtime_error("boom"); });
    for (int i = 0; i < 5; ++i) {
      worker.submit([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        ++ran;
        return WriteResult::ok();
      });
    }
  }  // the destructor waits for the queue
  CHECK(ran == 5);
  CHECK_THROWS_WITH_AS(failed.get(), "boom", std::runtime_error);
}
