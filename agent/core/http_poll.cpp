#include "core/http_poll.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "core/http_result.hpp"

namespace sluice::core {

std::optional<std::string> read_bearer_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string token = ss.str();
  auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  token.erase(token.begin(), std::find_if_not(token.begin(), token.end(), blank));
  token.erase(std::find_if_not(token.rbegin(), token.rend(), blank).base(), token.end());
  return token;
}

std::optional<std::string> fetch_body(HttpClient& client, HttpRequest request,
                                      const std::string& token_file,
                                      const std::function<bool(long)>& accepted,
                                      const std::string& what, Accumulator& acc) {
  if (!token_file.empty()) {
    std::optional<std::string> token = read_bearer_token(token_file);
    if (!token) {
      acc.add_error(what + ": cannot read the bearer_token file \"" + token_file + "\"");
      return std::nullopt;
    }
    request.headers.emplace_back("Authorization", "Bearer " + *token);
  }
  HttpResponse response = client.send(request);
  if (!response.answered()) {
    acc.add_error(what + ": " + response.error);
    return std::nullopt;
  }
  if (!accepted(response.status)) {
    std::string message = what + ": HTTP " + std::to_string(response.status);
    std::string excerpt = body_excerpt(response.body);
    if (!excerpt.empty()) message += ": " + excerpt;
    acc.add_error(message);
    return std::nullopt;
  }
  if (response.body_truncated) {
    acc.add_error(what + ": the answer is longer than content_length_limit (" +
                  std::to_string(client.options().max_response_body) + " bytes)");
    return std::nullopt;
  }
  return std::move(response.body);
}

}  // namespace sluice::core
