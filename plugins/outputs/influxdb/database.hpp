// Creating the target database of an InfluxDB 1.x server (POST /query "CREATE DATABASE").
#pragma once

#include <string>
#include <string_view>

#include "core/http_client.hpp"

namespace sluice::outputs::influxdb {

// The InfluxQL statement that creates `database` if it does not exist (CREATE DATABASE is
// idempotent in InfluxDB 1.x). The name is a double-quoted identifier.
std::string create_database_statement(std::string_view database);

enum class CreateOutcome {
  kCreated,       // it exists now
  kUnreachable,   // no answer, or a server error: try again later
  kNotPermitted,  // 401/403: the user may write but not create; the database may exist anyway
  kFailed,        // the server refused the statement
};

struct CreateResult {
  CreateOutcome outcome;
  std::string error;  // a sentence naming the database and the URL, when not created
};

// Sends the statement to `base_url`/query.
CreateResult create_database(core::HttpClient& client, const std::string& base_url,
                             std::string_view database);

// True when a 404 answer to /write says that the database does not exist.
bool is_database_not_found(const core::HttpResponse& response);

}  // namespace sluice::outputs::influxdb
