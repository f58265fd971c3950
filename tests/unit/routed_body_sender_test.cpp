#include <doctest/doctest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "core/http_gzip.hpp"
#include "core/routed_body_sender.hpp"

using sluice::WriteResult;
using sluice::core::RoutedBody;
using sluice::core::RoutedBodySender;

namespace {

std::vector<RoutedBody> bodies_of(const std::string& text) {
  RoutedBody body;
  body.destination = {"db"};
  body.text = text;
  body.metrics = 1;
  return {body};
}

}  // namespace

TEST_CASE("a routed body sender posts compressed bodies in the order started") {
  std::mutex mutex;
  std::vector<std::string> posted;
  RoutedBodySender sender(true, [&](const std::vector<RoutedBody>& bodies) {
    auto text = sluice::core::gzip_decompress(bodies.at(0).text);
    std::lock_guard lock(mutex);
    posted.push_back(text ? *text : "<not gzip>");
    return WriteResult::ok();
  });
  CHECK(sender.gzip());
  for (int i = 0; i < 5; ++i) {
    sender.start(bodies_of("m v=" + std::to_string(i) + " 1\n"));
    if (i % 2 == 1) CHECK(sender.finish().status == WriteResult::Status::kOk);
  }
  while (true) {
    WriteResult r = sender.finish();
    if (r.error == "no write was started") break;
    CHECK(r.status == WriteResult::Status::kOk);
  }
  CHECK(posted == std::vector<std::string>{"m v=0 1\n", "m v=1 1\n", "m v=2 1\n", "m v=3 1\n",
                                           "m v=4 1\n"});
}

TEST_CASE("after a failed post the writes queued behind it are not sent, until the host writes again") {
  std::promise<void> second_queued;
  std::shared_future<void> queued = second_queued.get_future().share();
  std::mutex mutex;
  std::vector<std::string> posted;
  bool fail_next = true;
  RoutedBodySender sender(false, [&](const std::vector<RoutedBody>& bodies) {
    queued.wait();  // the first post answers only once the second write is queued behind it
    std::lock_guard lock(mutex);
    posted.push_back(bodies.at(0).text);
    if (fail_next) {
      fail_next = false;
      return WriteResult::retry("503");
    }
    return WriteResult::ok();
  });
  CHECK_FALSE(sender.gzip());
  sender.start(bodies_of("a"));
  sender.start(bodies_of("b"));
  second_queued.set_value();
  WriteResult first = sender.finish();
  CHECK(first.status == WriteResult::Status::kRetry);
  CHECK(first.error == "503");
  WriteResult second = sender.finish();
  CHECK(second.status == WriteResult::Status::kRetry);
  CHECK(second.error.find("an earlier write failed") != std::string::npos);
  {
    std::lock_guard lock(mutex);
    CHECK(posted == std::vector<std::string>{"a"});  // "b" never reached the server
  }
  // The host writes both again, in order.
  sender.start(bodies_of("a"));
  sender.start(bodies_of("b"));
  CHECK(sender.finish().status == WriteResult::Status::kOk);
  CHECK(sender.finish().status == WriteResult::Status::kOk);
  std::lock_guard lock(mutex);
  CHECK(posted == std::vector<std::string>{"a", "a", "b"});
}
