// postgresql input without a server: the server tag without secrets, custom query options,
// timestamps read from their text, rows turned into metrics. The integration test
// (tests/integration/postgresql_input_test.cpp) runs it against a real server.
#include "inputs/postgresql/custom_query.hpp"
#include "inputs/postgresql/pg_session.hpp"
#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::inputs::postgresql;

TEST_CASE("postgresql server tag: the address without password or TLS files, URI or key=value") {
  std::string error;
  CHECK(sanitized_address("host=db1 port=5433 user=u password=p sslmode=require dbname=app",
                          error) == "user=u dbname=app host=db1 port=5433");
  CHECK(sanitized_address("postgres://u:secret@db1:5433/app?sslmode=verify-full&sslkey=/k",
                          error) == "user=u dbname=app host=db1 port=5433");
  CHECK(error.empty());
  CHECK(sanitized_address("host=a port", error) == "");
  CHECK(error == "missing \"=\" after \"port\" in connection info string");
}

TEST_CASE("postgresql timestamps are read with their offset and fraction") {
  CHECK(parse_pg_timestamp("2024-05-01 12:00:00+00") == 1714564800'000000000);
  CHECK(parse_pg_timestamp("2024-05-01 14:00:00.25+02") == 1714564800'250000000);
  CHECK(parse_pg_timestamp("2024-05-01 06:30:00-05:30") == 1714564800'000000000);
  CHECK(parse_pg_timestamp("2024-05-01 12:00:00") == 1714564800'000000000);  // timestamp
  CHECK(parse_pg_timestamp("9999-01-01 00:00:00+00") == std::nullopt);       // beyond int64 ns
  CHECK(parse_pg_timestamp("yesterday") == std::nullopt);
  CHECK(parse_pg_timestamp("2024-05-01 12:00:00 UTC") == std::nullopt);
}

TEST_CASE("postgresql custom query options") {
  std::vector<CustomQuery> q = read_custom_queries({{{"sqlquery", "SELECT 1"}},
                                                    {{"sqlquery", "SELECT a, b, c"},
                                                     {"measurement", "m"},
                                                     {"tagvalue", "a, b"},
                                                     {"withdbname", "true"},
                                                     {"timestamp", "c"},
                                                     {"min_version", "120000"},
                                                     {"max_version", "170000"}}});
  REQUIRE(q.size() == 2);
  CHECK(q[0].measurement == "postgresql");
  CHECK(q[0].tag_columns.empty());
  CHECK_FALSE(q[0].withdbname);
  CHECK(q[1].measurement == "m");
  CHECK(q[1].tag_columns == std::vector<std::string>{"a", "b"});
  CHECK(q[1].withdbname);
  CHECK(q[1].timestamp == "c");
  CHECK(q[1].min_version == 120000);
  CHECK(q[1].max_version == 170000);

  auto error_of = [](std::vector<StringMap> entries) -> std::string {
    try {
      read_custom_queries(entries);
    } catch (const OptionError& e) {
      return e.option() + ": " + e.what();
    }
    return "";
  };
  CHECK(error_of({{{"measurement", "x"}}}) == "query: entry 1: sqlquery is missing");
  CHECK(error_of({{{"sqlquery", "SELECT 1"}}, {{"sqlquery", "SELECT 1"}, {"withdbname", "yes"}}}) ==
        "query: entry 2: withdbname is true or false, not \"yes\"");
  CHECK(error_of({{{"sqlquery", "SELECT 1"}, {"min_version", "15"}, {"maxversion", "1"}}}) ==
        "query: entry 1: unknown key \"maxversion\" (sqlquery, measurement, tagvalue, "
        "withdbname, timestamp, min_version, max_version)");
}

TEST_CASE("postgresql rows become metrics: tags from tagvalue and datname, NULLs left out") {
  Result r;
  r.rows = 2;
  r.columns = {
      {"datname", {FieldValue(std::string("app")), std::nullopt}, {"app", std::nullopt}},
      {"state",
       {FieldValue(std::string("idle")), FieldValue(std::string("active"))},
       {"idle", "active"}},
      {"n", {FieldValue(int64_t{3}), std::nullopt}, {"3", std::nullopt}},
      {"stats_reset", {std::nullopt, std::nullopt}, {"2024-01-01 00:00:00+00", std::nullopt}},
      {"ratio", {FieldValue(0.5), FieldValue(1.5)}, {"0.5", "1.5"}},
  };
  Batch out;
  rows_to_metrics(r, "activity", {"state"}, "", "host=h", "postgres", out);
  REQUIRE(out.size() == 2);
  CHECK(out[0].name() == "activity");
  CHECK(out[0].tags() == std::vector<Tag>{{"db", "app"}, {"server", "host=h"}, {"state", "idle"}});
  CHECK(out[0].fields() ==
        std::vector<Field>{{"datname", std::string("app")}, {"n", int64_t{3}}, {"ratio", 0.5}});
  // A NULL datname is the row of objects shared by all databases.
  CHECK(out[1].tags() ==
        std::vector<Tag>{{"db", "postgres_global"}, {"server", "host=h"}, {"state", "active"}});
  CHECK(out[1].fields() == std::vector<Field>{{"ratio", 1.5}});
}
