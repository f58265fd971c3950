#include <doctest/doctest.h>

#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "core/http_gzip.hpp"
#include "core/routed_body_sender.hpp"

using sluice::Metric;
using sluice::WriteResult;
using sluice::core::RouteTag;
using sluice::core::RoutedBody;
using sluice::core::RoutedBodySender;

namespace {

const std::vector<RouteTag> kOneDatabase = {RouteTag{"", "db", false}};

// A batch of one metric, written as "m v=<value>i 1\n".
std::vector<Metric> batch_of(int value) {
  Metric m("m", 1);
  m.set_field("v", int64_t{value});
  return {m};
}

std::string line_of(int value) { return "m v=" + std::to_string(value) + "i 1\n"; }

}  // namespace

TEST_CASE("a routed body sender posts compressed bodies in the order started") {
  std::mutex mutex;
  std::vector<std::string> posted;
  RoutedBodySender sender(kOneDatabase, {}, true, [&](const std::vector<RoutedBody>& bodies) {
    auto text = sluice::core::gzip_decompress(bodies.at(0).text);
    std::lock_guard lock(mutex);
    posted.push_back(text ? *text : "<not gzip>");
    return WriteResult::ok();
  });
  CHECK(sender.gzip());
  for (int i = 0; i < 5; ++i) {
    sender.start(batch_of(i));
    if (i % 2 == 1) CHECK(sender.finish().status == WriteResult::Status::kOk);
  }
  while (true) {
    WriteResult r = sender.finish();
    if (r.error == "no write was started") break;
    CHECK(r.status == WriteResult::Status::kOk);
  }
  CHECK(posted ==
        std::vector<std::string>{line_of(0), line_of(1), line_of(2), line_of(3), line_of(4)});
}

TEST_CASE("after a failed post the writes queued behind it are not sent, until the host writes again") {
  std::promise<void> second_queued;
  std::shared_future<void> queued = second_queued.get_future().share();
  std::mutex mutex;
  std::vector<std::string> posted;
  bool fail_next = true;
  RoutedBodySender sender(kOneDatabase, {}, false, [&](const std::vector<RoutedBody>& bodies) {
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
  sender.start(batch_of(1));
  sender.start(batch_of(2));
  second_queued.set_value();
  WriteResult first = sender.finish();
  CHECK(first.status == WriteResult::Status::kRetry);
  CHECK(first.error == "503");
  WriteResult second = sender.finish();
  CHECK(second.status == WriteResult::Status::kRetry);
  CHECK(second.error.find("an earlier write failed") != std::string::npos);
  {
    std::lock_guard lock(mutex);
    CHECK(posted == std::vector<std::string>{line_of(1)});  // the second never reached the server
  }
  // The host writes both again, in order.
  sender.start(batch_of(1));
  sender.start(batch_of(2));
  CHECK(sender.finish().status == WriteResult::Status::kOk);
  CHECK(sender.finish().status == WriteResult::Status::kOk);
  std::lock_guard lock(mutex);
  CHECK(posted == std::vector<std::string>{line_of(1), line_of(1), line_of(2)});
}
