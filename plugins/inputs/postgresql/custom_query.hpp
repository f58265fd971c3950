// Custom queries, as Telegraf's postgresql_extensible: each row of `sqlquery` becomes a metric
// named `measurement`, with the columns named in `tagvalue` as tags and the others as fields.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pg_session.hpp"
#include "sluice/options.hpp"
#include "sluice/plugin.hpp"

namespace sluice::inputs::postgresql {

struct CustomQuery {
  std::string sqlquery;
  std::string measurement = "postgresql";
  std::vector<std::string> tag_columns;
  bool withdbname = false;
  std::string timestamp;  // a timestamp column giving the metric's time
  int min_version = 0;    // server_version_num bounds; 0 for none
  int max_version = 0;
};

// Reads the `query` option; throws OptionError("query") naming the entry and key at fault.
std::vector<CustomQuery> read_custom_queries(const std::vector<StringMap>& entries);

// The text of a timestamp column ("2024-05-01 12:00:00.5+02") in ns since the epoch.
std::optional<int64_t> parse_pg_timestamp(std::string_view text);

// Appends one metric per row: tags server, db (the row's datname, else the connection's
// database), the tag columns; every other non-NULL column a field.
void rows_to_metrics(const Result& result, const std::string& measurement,
                     const std::vector<std::string>& tag_columns, const std::string& timestamp,
                     const std::string& server, const std::string& default_db, Batch& out);

}  // namespace sluice::inputs::postgresql
