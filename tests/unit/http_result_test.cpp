// The delivery rules of HTTP outputs: status codes to write results, Retry-After, fail-over.
#include "core/http_result.hpp"

#include <doctest/doctest.h>

#include "core/http_failover.hpp"
#include "core/http_retry_after.hpp"

using sluice::WriteResult;
using sluice::core::http_write_result;
using sluice::core::HttpResponse;
using sluice::core::parse_retry_after;
using Status = sluice::WriteResult::Status;
using namespace std::chrono_literals;

namespace {

HttpResponse answer(long status, std::string body = "",
                    std::optional<std::chrono::nanoseconds> after = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.retry_after = after;
  return r;
}

std::chrono::system_clock::time_point at(int64_t seconds) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

}  // namespace

TEST_CASE("2xx answers are delivered") {
  for (long status : {200L, 201L, 202L, 204L}) {
    CHECK(http_write_result(answer(status), "POST x").status == Status::kOk);
  }
}

TEST_CASE("no answer and 429 and 5xx are retried with the server's Retry-After") {
  HttpResponse refused;
  refused.error = "Failed to connect to 127.0.0.1 port 9: Connection refused";
  WriteResult r = http_write_result(refused, "POST http://127.0.0.1:9/write");
  CHECK(r.status == Status::kRetry);
  CHECK(r.error ==
        "POST http://127.0.0.1:9/write failed: Failed to connect to 127.0.0.1 port 9: "
        "Connection refused");
  CHECK(r.retry_after == 0ns);

  r = http_write_result(answer(429, "slow down", 30s), "POST x");
  CHECK(r.status == Status::kRetry);
  CHECK(r.retry_after == 30s);
  CHECK(r.error == "POST x: the server is busy (429 Too Many Requests): slow down");

  for (long status : {500L, 502L, 503L, 504L}) {
    r = http_write_result(answer(status, "", 2s), "POST x");
    CHECK(r.status == Status::kRetry);
    CHECK(r.retry_after == 2s);
  }
}

TEST_CASE("401 and 403 are retried with a sentence about the credentials") {
  for (long status : {401L, 403L}) {
    WriteResult r =
        http_write_result(answer(status, "{\"error\":\"authorization failed\"}"), "POST x");
    CHECK(r.status == Status::kRetry);
    CHECK(r.error.find("refused the credentials") != std::string::npos);
    CHECK(r.error.find("authorization failed") != std::string::npos);
  }
}

TEST_CASE("400 and 422 reject the batch and InfluxDB's partial write is told apart") {
  WriteResult r = http_write_result(answer(400, "{\"error\":\"unable to parse\"}"), "POST x");
  CHECK(r.status == Status::kReject);
  CHECK(r.error == "POST x: the server refused the batch (400): {\"error\":\"unable to parse\"}");
  CHECK(http_write_result(answer(422), "POST x").status == Status::kReject);

  r = http_write_result(
      answer(
          400,
          "{\"error\":\"partial write: field type conflict: input field \\\"f\\\" dropped=1\"}\n"),
      "POST x");
  CHECK(r.status == Status::kReject);
  CHECK(r.error.find("wrote part of the batch") != std::string::npos);
  CHECK(r.error.find("dropped=1") != std::string::npos);
}

TEST_CASE("413 splits the batch") {
  CHECK(http_write_result(answer(413), "POST x").status == Status::kSplit);
}

TEST_CASE("other answers are retried: the data is not at fault") {
  for (long status : {301L, 404L, 405L, 409L}) {
    CHECK(http_write_result(answer(status), "POST x").status == Status::kRetry);
  }
}

TEST_CASE("long or multi-line bodies are cut for the log") {
  std::string body(1000, 'x');
  body[3] = '\n';
  std::string excerpt = sluice::core::body_excerpt(body, 10);
  CHECK(excerpt == "xxx xxxxxx...");
}

TEST_CASE("Retry-After: delay-seconds") {
  CHECK(parse_retry_after("120", at(0)) == 120s);
  CHECK(parse_retry_after(" 0 ", at(0)) == 0s);
  CHECK(parse_retry_after("999999999999", at(0)) == 24h);  // capped at a day
  CHECK_FALSE(parse_retry_after("", at(0)));
  CHECK_FALSE(parse_retry_after("-5", at(0)));
  CHECK_FALSE(parse_retry_after("1.5", at(0)));
  CHECK_FALSE(parse_retry_after("soon", at(0)));
}

TEST_CASE("Retry-After: HTTP-date in its three forms counted from now") {
  // Wed, 21 Oct 2015 07:28:00 GMT is 1445412480.
  const auto now = at(1445412480 - 90);
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now) == 90s);
  CHECK(parse_retry_after("Wednesday, 21-Oct-15 07:28:00 GMT", now) == 90s);
  CHECK(parse_retry_after("Wed Oct 21 07:28:00 2015", now) == 90s);
  // A date in the past: no wait.
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", at(1445412480 + 5)) == 0s);
  CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00", now));
  CHECK_FALSE(parse_retry_after("Wed, 32 Oct 2015 07:28:00 GMT", now));
}

TEST_CASE("fail-over tries each URL once from the current one and remembers who answered") {
  std::vector<size_t> tried;
  std::vector<std::string> warned;
  size_t current = 1;
  auto attempt = [&](size_t i) {
    tried.push_back(i);
    if (i == 1) return WriteResult::retry("url1 down", 5s);
    return WriteResult::ok();
  };
  auto warn = [&](const std::string& e) { warned.push_back(e); };
  WriteResult r = sluice::core::write_with_failover(3, current, attempt, warn);
  CHECK(r.status == Status::kOk);
  CHECK(tried == std::vector<size_t>{1, 2});
  CHECK(current == 2);
  CHECK(warned == std::vector<std::string>{"url1 down"});

  SUBCASE("a verdict on the data is not failed over") {
    tried.clear();
    current = 0;
    r = sluice::core::write_with_failover(
        3, current,
        [&](size_t i) {
          tried.push_back(i);
          return WriteResult::reject("bad");
        },
        warn);
    CHECK(r.status == Status::kReject);
    CHECK(tried == std::vector<size_t>{0});
  }
  SUBCASE("all down: one retry with every error and the longest Retry-After") {
    current = 0;
    int n = 0;
    r = sluice::core::write_with_failover(
        2, current,
        [&](size_t i) {
          ++n;
          return WriteResult::retry("u" + std::to_string(i), std::chrono::seconds(i + 1));
        },
        warn);
    CHECK(n == 2);
    CHECK(r.status == Status::kRetry);
    CHECK(r.error == "no URL took the batch: u0; u1");
    CHECK(r.retry_after == 2s);
    CHECK(current == 1);  // the next write starts with the other one
  }
}
