// What the inputs that poll HTTP endpoints each interval (http, prometheus) share: the bearer
// token read from its file before each request, the checks of the answer, and one request per
// URL at once.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/http_client.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

// The token in `path` without surrounding blanks, or nullopt when the file cannot be read.
std::optional<std::string> read_bearer_token(const std::string& path);

// Sends `request`, with "Authorization: Bearer <token>" read from `token_file` when it is set,
// and returns the answer's body. Returns nullopt after telling `acc` why there is none: the token
// file cannot be read, no answer came, `accepted(status)` is false, or the body is longer than the
// client's max_response_body. `what` ("GET <url>") starts each error.
std::optional<std::string> fetch_body(HttpClient& client, HttpRequest request,
                                      const std::string& token_file,
                                      const std::function<bool(long)>& accepted,
                                      const std::string& what, Accumulator& acc);

// Calls poll(target) for each target, on threads of their own when there are several, so that
// one slow endpoint does not hold back the others.
template <typename Target, typename Poll>
void poll_all(std::vector<Target>& targets, Poll poll) {
  if (targets.size() == 1) {
    poll(targets[0]);
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(targets.size());
  for (Target& t : targets) threads.emplace_back([&poll, &t] { poll(t); });
  for (std::thread& t : threads) t.join();
}

}  // namespace sluice::core
