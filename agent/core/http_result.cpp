#include "core/http_result.hpp"

#include <fmt/format.h>

namespace sluice::core {

std::string body_excerpt(std::string_view body, size_t limit) {
  std::string out;
  for (char c : body) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

WriteResult http_write_result(const HttpResponse& response, std::string_view what) {
  if (!response.answered())
    return WriteResult::retry(fmt::format("{} failed: {}", what, response.error));
  const long status = response.status;
  if (response.success()) return WriteResult::ok();
  std::string said = body_excerpt(response.body);
  std::string from_server = said.empty() ? std::string() : ": " + said;
  std::chrono::nanoseconds after = response.retry_after.value_or(std::chrono::nanoseconds(0));
  if (status == 429) {
    return WriteResult::retry(
        fmt::format("{}: the server is busy (429 Too Many Requests){}", what, from_server), after);
  }
  if (status >= 500) {
    return WriteResult::retry(fmt::format("{}: server error {}{}", what, status, from_server),
                              after);
  }
  if (status == 401 || status == 403) {
    return WriteResult::retry(
        fmt::format("{}: the server refused the credentials ({}); check username/password or "
                    "token, then reload{}",
                    what, status, from_server),
        after);
  }
  if (status == 400 || status == 422) {
    if (said.find("partial write") != std::string::npos) {
      return WriteResult::reject(
          fmt::format("{}: the server wrote part of the batch and refused the rest ({}){}", what,
                      status, from_server));
    }
    return WriteResult::reject(
        fmt::format("{}: the server refused the batch ({}){}", what, status, from_server));
  }
  if (status == 413) {
    return WriteResult::split(
        fmt::format("{}: the batch is too large for the server (413){}", what, from_server));
  }
  return WriteResult::retry(fmt::format("{}: unexpected answer {}{}", what, status, from_server),
                            after);
}

}  // namespace sluice::core
