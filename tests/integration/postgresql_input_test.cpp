// The postgresql input against a real PostgreSQL server (Debian's postgresql 15) started by the
// test on 127.0.0.1: pg_stat_database and custom query values compared with what psql reports,
// a server that goes away and comes back, errors that name the server without its password.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "config/config.hpp"
#include "plugins/plugin_test_support.hpp"
#include "support/postgres_server.hpp"
#include "support/test_plugins.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

// Runs SQL in database `db` with psql (quiet: rows only); the output without its last newline.
std::string psql_in(const PostgresServer& server, const std::string& db, const std::string& sql) {
  CommandResult r =
      run_command("psql -X -h 127.0.0.1 -p " + std::to_string(server.port()) + " -U postgres -d " +
                  db + " -qAt -v ON_ERROR_STOP=1 -c " + shell_quote(sql));
  while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
  return r.exit_code == 0 ? r.output : "psql failed: " + r.output;
}

// An input created from YAML as the agent creates it (the option table, types and checks).
struct ConfiguredInput {
  config::Config config;
  std::unique_ptr<Input> input;
  explicit ConfiguredInput(const std::string& options)
      : config(config::load_text("inputs:\n  - postgresql: {" + options + "}\n", "pg-input.yaml")) {
    static NullLogger log;
    const config::PluginConfig& pc = config.inputs.at(0);
    input = pc.info->create_input(PluginContext{pc.options, log});
  }
  RecordingAccumulator gather() {
    RecordingAccumulator acc;
    input->gather(acc);
    return acc;
  }
};

const Metric* find_db(const RecordingAccumulator& acc, const std::string& db) {
  for (const Metric& m : acc.metrics) {
    if (m.name() == "postgresql" && m.tag("db") == db && m.field("xact_commit") != nullptr) {
      return &m;
    }
  }
  return nullptr;
}

int64_t int_field(const Metric& m, const std::string& name) {
  const FieldValue* v = m.field(name);
  REQUIRE_MESSAGE(v != nullptr, "no field " << name);
  return std::get<int64_t>(*v);
}

std::string address_of(const PostgresServer& server, const std::string& db) {
  return "host=127.0.0.1 port=" + std::to_string(server.port()) + " user=postgres dbname=" + db +
         " password=secret123";
}

}  // namespace

TEST_CASE("postgresql input: pg_stat_database and pg_stat_bgwriter agree with psql") {
  PostgresServer server;
  REQUIRE_MESSAGE(server.error().empty(), server.error());
  REQUIRE(psql_in(server, "postgres", "CREATE DATABASE appdb") == "");
  REQUIRE(psql_in(server, "appdb", "CREATE TABLE items (id int, name text)") == "");
  REQUIRE(psql_in(server, "appdb",
                  "INSERT INTO items SELECT g, 'n' || (g % 3) FROM generate_series(1, 5) g") == "");

  ConfiguredInput pg("address: \"" + address_of(server, "postgres") +
                     "\", databases: [appdb, postgres]");
  // Statistics reach the shared counters when a backend ends, a moment after psql returns:
  // compare once psql reads the same values before and after the gather.
  auto same_as_psql = [&](int64_t& inserted) {
    std::string before = psql_in(server, "postgres",
                                 "SELECT tup_inserted || ' ' || xact_commit FROM pg_stat_database "
                                 "WHERE datname = 'appdb'");
    RecordingAccumulator acc = pg.gather();
    std::string after = psql_in(server, "postgres",
                                "SELECT tup_inserted || ' ' || xact_commit FROM pg_stat_database "
                                "WHERE datname = 'appdb'");
    const Metric* m = find_db(acc, "appdb");
    if (m == nullptr || before != after) return false;
    inserted = int_field(*m, "tup_inserted");
    return std::to_string(inserted) + " " + std::to_string(int_field(*m, "xact_commit")) == after;
  };
  int64_t inserted = 0;
  REQUIRE(eventually([&] { return same_as_psql(inserted); }, 20));

  // Seven more rows: tup_inserted grows by exactly seven.
  REQUIRE(psql_in(server, "appdb",
                  "INSERT INTO items SELECT g, 'n' || (g % 3) FROM "
                  "generate_series(6, 12) g") == "");
  int64_t later = 0;
  REQUIRE(eventually([&] { return same_as_psql(later) && later == inserted + 7; }, 20));
  CHECK(later == inserted + 7);

  RecordingAccumulator acc = pg.gather();
  CHECK(acc.errors.empty());
  const Metric* app = find_db(acc, "appdb");
  REQUIRE(app != nullptr);
  const std::string server_tag =
      "user=postgres dbname=postgres host=127.0.0.1 port=" + std::to_string(server.port());
  CHECK(app->tag("server") == server_tag);
  CHECK(app->field("datname") != nullptr);
  CHECK(std::get<std::string>(*app->field("datname")) == "appdb");
  for (const char* f :
       {"numbackends", "xact_rollback", "blks_read", "blks_hit", "tup_returned", "tup_fetched",
        "tup_updated", "tup_deleted", "conflicts", "temp_files", "temp_bytes", "deadlocks"}) {
    CAPTURE(f);
    CHECK(std::holds_alternative<int64_t>(*app->field(f)));
  }
  CHECK(std::holds_alternative<double>(*app->field("blk_read_time")));
  CHECK(std::holds_alternative<double>(*app->field("blk_write_time")));
  CHECK(app->field("stats_reset") == nullptr);
  // databases: only the two named, plus the row of pg_stat_bgwriter tagged db=postgres.
  std::vector<std::string> dbs;
  for (const Metric& m : acc.metrics) dbs.emplace_back(*m.tag("db"));
  std::sort(dbs.begin(), dbs.end());
  CHECK(dbs == std::vector<std::string>{"appdb", "postgres", "postgres"});
  const Metric* bgwriter = nullptr;
  for (const Metric& m : acc.metrics) {
    if (m.field("checkpoints_timed") != nullptr) bgwriter = &m;
  }
  REQUIRE(bgwriter != nullptr);
  CHECK(int_field(*bgwriter, "buffers_alloc") > 0);
  CHECK(bgwriter->tag("db") == "postgres");

  // ignored_databases leaves a database out.
  ConfiguredInput ignoring("address: \"" + address_of(server, "postgres") +
                           "\", ignored_databases: [appdb, template0, template1]");
  RecordingAccumulator acc2 = ignoring.gather();
  CHECK(find_db(acc2, "appdb") == nullptr);
  CHECK(find_db(acc2, "postgres") != nullptr);
  CHECK(find_db(acc2, "postgres_global") != nullptr);  // the row of shared objects
}

TEST_CASE("postgresql input: custom queries give the values psql gives, tags from tagvalue") {
  PostgresServer server;
  REQUIRE_MESSAGE(server.error().empty(), server.error());
  REQUIRE(psql_in(server, "postgres", "CREATE DATABASE appdb") == "");
  REQUIRE(psql_in(server, "appdb",
                  "CREATE TABLE items (id int, name text, price numeric, seen timestamptz);"
                  "INSERT INTO items SELECT g, 'n' || (g % 3), g * 1.25, "
                  "'2024-05-01 12:00:00+00'::timestamptz + g * interval '1 second' "
                  "FROM generate_series(1, 10) g") == "");

  const std::string sql =
      "SELECT name, count(*)::int AS n, sum(id)::bigint AS total, sum(price) AS amount, "
      "max(seen) AS at FROM items GROUP BY name ORDER BY name";
  ConfiguredInput pg(
      "address: \"" + address_of(server, "appdb") +
      "\", databases: [appdb], query: ["
      "{sqlquery: \"" +
      sql +
      "\", measurement: items_by_name, tagvalue: name, timestamp: at},"
      "{sqlquery: \"SELECT datname, numbackends AS backends FROM pg_stat_database WHERE datname\","
      " measurement: with_db, withdbname: true},"
      "{sqlquery: \"SELEC oops\", measurement: broken},"
      "{sqlquery: \"SELECT 1 AS one\", measurement: too_new, min_version: 990000}]");
  RecordingAccumulator acc = pg.gather();

  // psql's view of the same query, one "name|n|total|amount|epoch" line per row.
  std::string want = psql_in(server, "appdb",
                             "SELECT name || '|' || n || '|' || total || '|' || amount || '|' || "
                             "extract(epoch FROM at)::bigint FROM (" +
                                 sql + ") q");
  std::string got;
  for (const Metric& m : acc.metrics) {
    if (m.name() != "items_by_name") continue;
    CHECK(m.tag("db") == "appdb");
    CHECK(m.field("name") == nullptr);
    char amount[64];
    snprintf(amount, sizeof amount, "%.2f", std::get<double>(*m.field("amount")));
    got += (got.empty() ? "" : "\n") + std::string(*m.tag("name")) + "|" +
           std::to_string(int_field(m, "n")) + "|" + std::to_string(int_field(m, "total")) + "|" +
           amount + "|" + std::to_string(m.time() / 1'000'000'000);
  }
  CHECK(got == want);
  CHECK(want == "n0|3|18|22.50|1714564809\nn1|4|22|27.50|1714564810\nn2|3|15|18.75|1714564808");

  size_t with_db = 0;
  for (const Metric& m : acc.metrics) {
    if (m.name() != "with_db") continue;
    ++with_db;
    CHECK(m.tag("db") == "appdb");
    CHECK(int_field(m, "backends") >= 1);  // this input's own connection
  }
  CHECK(with_db == 1);
  for (const Metric& m : acc.metrics) CHECK(m.name() != "too_new");

  // The broken query is reported and the others still ran.
  REQUIRE(acc.errors.size() == 1);
  CHECK(acc.errors[0].starts_with("postgresql user=postgres dbname=appdb host=127.0.0.1 port=" +
                                  std::to_string(server.port()) + ": query 3 (broken): "));
  CHECK(acc.errors[0].find("syntax error") != std::string::npos);
}

TEST_CASE(
    "postgresql input: connects again after the server went away, errors without the password") {
  PostgresServer server;
  REQUIRE_MESSAGE(server.error().empty(), server.error());
  ConfiguredInput pg("address: \"postgres://postgres:secret123@127.0.0.1:" +
                     std::to_string(server.port()) + "/postgres?sslmode=disable\"");
  RecordingAccumulator acc = pg.gather();
  CHECK(acc.errors.empty());
  REQUIRE(find_db(acc, "postgres") != nullptr);
  const std::string tag =
      "user=postgres dbname=postgres host=127.0.0.1 port=" + std::to_string(server.port());
  CHECK(find_db(acc, "postgres")->tag("server") == tag);

  REQUIRE(server.stop("fast"));
  acc = pg.gather();
  CHECK(acc.metrics.empty());
  REQUIRE(!acc.errors.empty());
  CHECK(acc.errors[0].starts_with("postgresql " + tag + ": "));
  for (const std::string& e : acc.errors) CHECK(e.find("secret123") == std::string::npos);

  REQUIRE(server.start());
  acc = pg.gather();
  CHECK(acc.errors.empty());
  CHECK(find_db(acc, "postgres") != nullptr);
}

TEST_CASE("postgresql input: bad options are refused at creation") {
  auto error_of = [](const std::string& options) -> std::string {
    try {
      ConfiguredInput pg(options);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error_of("address: \"host=a port\"").find("not a libpq connection string") !=
        std::string::npos);
  CHECK(error_of("databases: [a], ignored_databases: [b]")
            .find("give databases or ignored_databases, not both") != std::string::npos);
  CHECK(error_of("query: [{measurement: x}]").find("entry 1: sqlquery is missing") !=
        std::string::npos);
  CHECK(error_of("query: [{sqlquery: \"SELECT 1\", tags: x}]").find("unknown key \"tags\"") !=
        std::string::npos);
}
