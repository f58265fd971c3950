#include "database.hpp"

#include <fmt/format.h>

#include "core/http_result.hpp"
#include "core/http_url.hpp"

namespace sluice::outputs::influxdb {

std::string create_database_statement(std::string_view database) {
  std::string out = "CREATE DATABASE \"";
  for (char c : database) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

CreateResult create_database(core::HttpClient& client, const std::string& base_url,
                             std::string_view database) {
  core::HttpRequest request;
  request.method = "POST";
  request.url = core::join_url(base_url, "/query");
  std::string form = "q=" + core::url_encode(create_database_statement(database));
  request.body = form;
  request.content_type = "application/x-www-form-urlencoded";
  request.compress = false;
  core::HttpResponse response = client.send(request);
  std::string what = fmt::format("creating database \"{}\" on {}", database, base_url);
  if (!response.answered()) {
    return {CreateOutcome::kUnreachable, fmt::format("{} failed: {}", what, response.error)};
  }
  std::string said = core::body_excerpt(response.body);
  if (response.status == 401 || response.status == 403) {
    return {CreateOutcome::kNotPermitted,
            fmt::format("{}: not permitted ({}): {}", what, response.status, said)};
  }
  if (response.status >= 500 || response.status == 429) {
    return {CreateOutcome::kUnreachable,
            fmt::format("{}: server error {}: {}", what, response.status, said)};
  }
  // InfluxQL errors come back as 200 with {"results":[{"error":"..."}]}, or as 400.
  if (!response.success() || response.body.find("\"error\"") != std::string::npos) {
    return {CreateOutcome::kFailed,
            fmt::format("{}: refused ({}): {}", what, response.status, said)};
  }
  return {CreateOutcome::kCreated, {}};
}

bool is_database_not_found(const core::HttpResponse& response) {
  return response.status == 404 && response.body.find("database not found") != std::string::npos;
}

}  // namespace sluice::outputs::influxdb
