// The postgresql output against a real PostgreSQL server (Debian's postgresql 15), initialised
// and started by the test in a temporary folder on 127.0.0.1. Metrics go through sluice's
// pipeline; they are read back with psql, values and column types compared.
#include <doctest/doctest.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <limits>
#include <memory>
#include <thread>

#include "config/config.hpp"
#include "core/log.hpp"
#include "support/output_pipeline.hpp"
#include "support/postgres_server.hpp"
#include "support/test_plugins.hpp"

using sluice::Batch;
using sluice::Metric;
using sluice::pipeline::Pipeline;
using sluice::pipeline::SystemClock;
using sluice::testing::eventually;
using sluice::testing::PostgresServer;
using sluice::testing::TempDir;

namespace {

// 2023-11-14 22:13:20.123456789 UTC.
constexpr int64_t kBaseTime = 1'700'000'000'123'456'789;

// A pipeline with one postgresql output, built from YAML and started; stopped (with a short
// last flush) when it goes.
// The postgresql output on `server`, with `options` added to its own.
class PgAgent : public sluice::testing::OutputPipeline {
 public:
  PgAgent(const PostgresServer& server, const std::string& options = "")
      : OutputPipeline("  - postgresql: {connection: \"" + server.conninfo() +
                           "\", retry_initial_backoff: 100ms, retry_max_backoff: 500ms" + options +
                           "}\n",
                       {.agent = "flush_interval: 100ms, metric_batch_size: 1000,"
                                 " metric_buffer_limit: 100000"}) {}
  // Waits until `n` metrics in all were written or rejected.
  bool settled(uint64_t n, double seconds = 20) {
    return eventually([&] { return stats().metrics_written + stats().metrics_rejected >= n; },
                      seconds);
  }
};

// "name|type" per column of a table, in column order.
std::string columns_of(const PostgresServer& server, const std::string& table) {
  return server.query(
      "SELECT string_agg(column_name || '|' || data_type, ',' ORDER BY ordinal_position) "
      "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '" +
      table + "'");
}

// Sends the agent's log to a file while it lives, so that a test can look for a warning; then
// the log goes where it went before. Made before the agent, so that the agent goes first.
class LogFile {
 public:
  LogFile() : dir_("pg-log"), previous_(spdlog::default_logger()) {
    sluice::core::setup_logging("info", path());
  }
  ~LogFile() { spdlog::set_default_logger(previous_); }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  std::string text() const { return sluice::testing::read_text(path()); }
  bool contains(const std::string& line) const { return text().find(line) != std::string::npos; }

 private:
  std::string path() const { return dir_ / "sluice.log"; }
  TempDir dir_;
  std::shared_ptr<spdlog::logger> previous_;
};

#define REQUIRE_SERVER(server)                                               \
  if (!(server).error().empty()) {                                           \
    MESSAGE("PostgreSQL server unavailable, skipped: " << (server).error()); \
    return;                                                                  \
  }

}  // namespace

TEST_CASE("postgresql: tables are created with typed columns and values read back exactly") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  PgAgent agent(server);

  Metric a("cpu", kBaseTime);
  a.set_tag("host", "web1");
  a.set_tag("cpu", "cpu0");
  a.set_field("usage", 97.5);
  a.set_field("count", int64_t{-42});
  a.set_field("big", std::numeric_limits<uint64_t>::max());
  a.set_field("up", true);
  a.set_field("state", std::string("tab\there, new\nline, back\\slash, 'quote', \"dq\", ünï"));
  Metric b("cpu", kBaseTime + 1'000'000'000);
  b.set_tag("host", "web2");  // no cpu tag: NULL
  b.set_field("usage", -0.1);
  b.set_field("count", std::numeric_limits<int64_t>::min());
  b.set_field("up", false);
  Metric c("we\"ird name", kBaseTime);  // quoted identifiers
  c.set_tag("tag with space", "x");
  c.set_field("nan", std::numeric_limits<double>::quiet_NaN());
  c.set_field("inf", -std::numeric_limits<double>::infinity());
  c.set_field("tiny", 2.5e-300);
  agent.send({a, b, c});
  REQUIRE(agent.settled(3));
  CHECK(agent.stats().metrics_written == 3);

  CHECK(columns_of(server, "cpu") ==
        "time|timestamp without time zone,cpu|text,host|text,usage|double precision,"
        "count|bigint,big|numeric,up|boolean,state|text");
  CHECK(server.query("SELECT numeric_precision || ',' || numeric_scale FROM "
                     "information_schema.columns WHERE table_name = 'cpu' AND "
                     "column_name = 'big'") == "20,0");
  CHECK(server.query("SELECT time, host, coalesce(cpu, '<null>'), usage, count, "
                     "coalesce(big::text, '<null>'), up FROM cpu ORDER BY time") ==
        "2023-11-14 22:13:20.123456|web1|cpu0|97.5|-42|18446744073709551615|t\n"
        "2023-11-14 22:13:21.123456|web2|<null>|-0.1|-9223372036854775808|<null>|f");
  CHECK(server.query("SELECT state = E'tab\\there, new\\nline, back\\\\slash, ''quote'', "
                     "\"dq\", ünï' FROM cpu WHERE host = 'web1'") == "t");
  CHECK(server.query("SELECT count(*) FROM cpu WHERE state IS NULL") == "1");

  CHECK(columns_of(server, "we\"ird name") ==
        "time|timestamp without time zone,tag with space|text,nan|double precision,"
        "inf|double precision,tiny|double precision");
  CHECK(server.query("SELECT \"tag with space\", nan, inf, tiny FROM \"we\"\"ird name\"") ==
        "x|NaN|-Infinity|2.5e-300");
}

TEST_CASE("postgresql: new fields and tags add columns (timestamptz and uint columns)") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  PgAgent agent(server, ", timestamp_column_type: timestamp with time zone");

  Metric first("mem", kBaseTime);
  first.set_tag("host", "a");
  first.set_field("used", int64_t{1});
  agent.send({first});
  REQUIRE(agent.settled(1));
  CHECK(columns_of(server, "mem") == "time|timestamp with time zone,host|text,used|bigint");

  Metric second("mem", kBaseTime + 1'000'000'000);
  second.set_tag("host", "b");
  second.set_tag("zone", "z1");
  second.set_field("used", int64_t{2});
  second.set_field("free", uint64_t{7});
  second.set_field("ratio", 0.25);
  agent.send({second});
  REQUIRE(agent.settled(2));
  CHECK(agent.stats().metrics_written == 2);
  CHECK(columns_of(server, "mem") ==
        "time|timestamp with time zone,host|text,used|bigint,zone|text,free|numeric,"
        "ratio|double precision");
  CHECK(server.query("SELECT time AT TIME ZONE 'UTC', host, coalesce(zone, '-'), used, "
                     "coalesce(free::text, '-'), coalesce(ratio::text, '-') FROM mem ORDER BY "
                     "time") ==
        "2023-11-14 22:13:20.123456|a|-|1|-|-\n"
        "2023-11-14 22:13:21.123456|b|z1|2|7|0.25");

  // A column of another type than a value's: the value is left out (NULL), the row written.
  Metric third("mem", kBaseTime + 2'000'000'000);
  third.set_tag("host", "c");
  third.set_field("used", std::string("not a number"));
  third.set_field("ratio", 0.5);
  agent.send({third});
  REQUIRE(agent.settled(3));
  CHECK(agent.stats().metrics_written == 3);
  CHECK(server.query("SELECT coalesce(used::text, 'NULL'), ratio FROM mem WHERE host = 'c'") ==
        "NULL|0.5");
}

TEST_CASE("postgresql: tags_as_foreign_keys keeps tag sets in <measurement>_tag") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  PgAgent agent(server, ", tags_as_foreign_keys: true, foreign_tag_constraint: true");

  Batch batch;
  for (int i = 0; i < 4; ++i) {
    Metric m("disk", kBaseTime + i * 1'000'000'000LL);
    m.set_tag("host", i % 2 == 0 ? "a" : "b");
    m.set_tag("path", "/");
    m.set_field("free", int64_t{100 + i});
    batch.push_back(std::move(m));
  }
  agent.send(batch);
  REQUIRE(agent.settled(4));
  CHECK(columns_of(server, "disk") == "time|timestamp without time zone,tag_id|bigint,free|bigint");
  CHECK(columns_of(server, "disk_tag") == "tag_id|bigint,host|text,path|text");
  CHECK(server.query("SELECT count(*) FROM disk_tag") == "2");
  CHECK(server.query("SELECT t.host, t.path, d.free FROM disk d JOIN disk_tag t USING (tag_id) "
                     "ORDER BY d.time") == "a|/|100\nb|/|101\na|/|102\nb|/|103");
  CHECK(server.query("SELECT constraint_type FROM information_schema.table_constraints WHERE "
                     "table_name = 'disk' AND constraint_type = 'FOREIGN KEY'") == "FOREIGN KEY");

  // A new tag key widens the tag table; known tag sets are not inserted twice.
  Metric m("disk", kBaseTime + 10'000'000'000LL);
  m.set_tag("host", "a");
  m.set_tag("path", "/");
  m.set_tag("fs", "ext4");
  m.set_field("free", int64_t{200});
  Metric again("disk", kBaseTime + 11'000'000'000LL);
  again.set_tag("host", "a");
  again.set_tag("path", "/");
  again.set_field("free", int64_t{201});
  agent.send({m, again});
  REQUIRE(agent.settled(6));
  CHECK(agent.stats().metrics_written == 6);
  CHECK(columns_of(server, "disk_tag") == "tag_id|bigint,host|text,path|text,fs|text");
  CHECK(server.query("SELECT count(*) FROM disk_tag") == "3");
  CHECK(server.query("SELECT coalesce(t.fs, '-'), d.free FROM disk d JOIN disk_tag t USING "
                     "(tag_id) WHERE d.free >= 200 ORDER BY d.time") == "ext4|200\n-|201");
}

TEST_CASE("postgresql: a measurement name of 63 bytes or more gets a tag table of its own name") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  PgAgent agent(server, ", tags_as_foreign_keys: true");
  // PostgreSQL keeps 63 bytes of a name: the suffix appended after them would be cut away.
  const std::string long_name(70, 'd');
  Metric m(long_name, kBaseTime);
  m.set_tag("host", "a");
  m.set_field("free", int64_t{7});
  agent.send({m});
  REQUIRE(agent.settled(1));
  CHECK(agent.stats().metrics_written == 1);
  const std::string table(63, 'd');
  const std::string tag_table = std::string(59, 'd') + "_tag";
  CHECK(columns_of(server, table) == "time|timestamp without time zone,tag_id|bigint,free|bigint");
  CHECK(columns_of(server, tag_table) == "tag_id|bigint,host|text");
  CHECK(server.query("SELECT t.host, d.free FROM " + table + " d JOIN " + tag_table +
                     " t USING (tag_id)") == "a|7");
}

TEST_CASE("postgresql: with tags_as_foreign_keys a field named like a tag keeps its own column") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  PgAgent agent(server, ", tags_as_foreign_keys: true");

  // The tag goes to net_tag, the field of the same name to net: the two do not meet.
  Metric m("net", kBaseTime);
  m.set_tag("host", "a");
  m.set_field("host", std::string("a-field"));
  m.set_field("bytes", int64_t{1});
  agent.send({m});
  REQUIRE(agent.settled(1));
  CHECK(agent.stats().metrics_written == 1);
  CHECK(columns_of(server, "net") ==
        "time|timestamp without time zone,tag_id|bigint,host|text,bytes|bigint");
  CHECK(columns_of(server, "net_tag") == "tag_id|bigint,host|text");
  CHECK(server.query("SELECT t.host, n.host, n.bytes FROM net n JOIN net_tag t USING (tag_id)") ==
        "a|a-field|1");
}

TEST_CASE("postgresql: table puts every measurement in one table with a measurement column") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  LogFile log;
  // Templates still apply to the one table: an index for reading one measurement back.
  PgAgent agent(server,
                ", table: metrics, create_templates: ['CREATE TABLE IF NOT EXISTS {{ .table }} "
                "({{ .columns }})', 'CREATE INDEX IF NOT EXISTS metrics_measurement_time ON "
                "{{ .table }} (measurement, time)']");

  Metric cpu("cpu", kBaseTime);
  cpu.set_tag("host", "web1");
  cpu.set_tag("cpu", "cpu0");
  cpu.set_field("usage", 97.5);
  cpu.set_field("x", 1.5);
  Metric mem("mem", kBaseTime + 1'000'000'000);
  mem.set_tag("host", "web2");
  mem.set_tag("zone", "z1");
  mem.set_field("used", int64_t{7});
  mem.set_field("x", std::string("seven"));  // x is a double precision column: left out
  agent.send({cpu, mem});
  REQUIRE(agent.settled(2));
  CHECK(agent.stats().metrics_written == 2);
  CHECK(columns_of(server, "metrics") ==
        "time|timestamp without time zone,measurement|text,cpu|text,host|text,zone|text,"
        "usage|double precision,x|double precision,used|bigint");
  CHECK(server.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                     "'public'") == "1");
  CHECK(server.query("SELECT measurement, host, coalesce(cpu, '-'), coalesce(zone, '-'), "
                     "coalesce(usage::text, '-'), coalesce(x::text, '-'), "
                     "coalesce(used::text, '-') FROM metrics ORDER BY time") ==
        "cpu|web1|cpu0|-|97.5|1.5|-\n"
        "mem|web2|-|z1|-|-|7");
  CHECK(
      log.contains("values of field x are left out of public.metrics: its column has type "
                   "double precision, which does not take a text"));
  CHECK(server.query("SELECT indexdef FROM pg_indexes WHERE tablename = 'metrics'") ==
        "CREATE INDEX metrics_measurement_time ON public.metrics USING btree (measurement, "
        "\"time\")");

  // A new measurement adds its tags and fields as columns. Its tag and field named like the
  // measurement column are left out; the column holds the name, which as a value is not cut to
  // 63 bytes.
  std::string long_name(70, 'd');
  Metric disk(long_name, kBaseTime + 2'000'000'000);
  disk.set_tag("path", "/");
  disk.set_tag("measurement", "tag value");
  disk.set_field("free", uint64_t{42});
  disk.set_field("measurement", std::string("field value"));
  agent.send({disk});
  REQUIRE(agent.settled(3));
  CHECK(agent.stats().metrics_written == 3);
  CHECK(columns_of(server, "metrics") ==
        "time|timestamp without time zone,measurement|text,cpu|text,host|text,zone|text,"
        "usage|double precision,x|double precision,used|bigint,path|text,free|numeric");
  CHECK(server.query("SELECT measurement, coalesce(path, '-'), coalesce(free::text, '-') FROM "
                     "metrics ORDER BY time") == "cpu|-|-\nmem|-|-\n" + long_name + "|/|42");
  CHECK(log.contains("tag \"measurement\" of " + long_name +
                     " is left out: its name is taken by the measurement column"));
  CHECK(log.contains("field \"measurement\" of " + long_name +
                     " is left out: its name is taken by the measurement column"));
  CHECK(server.query("SELECT count(*) FROM metrics WHERE measurement IN ('tag value', "
                     "'field value')") == "0");
}

TEST_CASE("postgresql: table with measurement_column and timestamptz") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  PgAgent agent(server,
                ", table: all, measurement_column: kind, timestamp_column_name: ts,"
                " timestamp_column_type: timestamp with time zone");
  Metric a("a", kBaseTime);
  a.set_field("v", int64_t{1});
  Metric b("b", kBaseTime + 1'000'000'000);
  b.set_field("w", true);
  agent.send({a, b});
  REQUIRE(agent.settled(2));
  CHECK(agent.stats().metrics_written == 2);
  CHECK(columns_of(server, "all") == "ts|timestamp with time zone,kind|text,v|bigint,w|boolean");
  CHECK(server.query("SELECT ts AT TIME ZONE 'UTC', kind, coalesce(v::text, '-'), "
                     "coalesce(w::text, '-') FROM \"all\" ORDER BY ts") ==
        "2023-11-14 22:13:20.123456|a|1|-\n"
        "2023-11-14 22:13:21.123456|b|-|true");
}

TEST_CASE("postgresql: table with tags_as_foreign_keys shares one tag table") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  PgAgent agent(server,
                ", table: metrics, tags_as_foreign_keys: true, foreign_tag_constraint: true");

  auto metric = [](const std::string& name, int second, const std::vector<sluice::Tag>& tags) {
    Metric m(name, kBaseTime + second * 1'000'000'000LL);
    for (const auto& t : tags) m.set_tag(t.key, t.value);
    return m;
  };
  Metric cpu_a = metric("cpu", 0, {{"host", "a"}});
  cpu_a.set_field("usage", 1.5);
  Metric mem_a = metric("mem", 1, {{"host", "a"}});  // the same tags as cpu_a: the same tag row
  mem_a.set_field("used", int64_t{2});
  Metric cpu_b = metric("cpu", 2, {{"host", "b"}});
  cpu_b.set_field("usage", 3.5);
  cpu_b.set_field("zone", std::string("field"));  // a field named like mem's tag below
  Metric mem_z = metric("mem", 3, {{"host", "a"}, {"zone", "z"}});
  mem_z.set_field("used", int64_t{4});
  agent.send({cpu_a, mem_a, cpu_b, mem_z});
  REQUIRE(agent.settled(4));
  CHECK(agent.stats().metrics_written == 4);

  CHECK(columns_of(server, "metrics") ==
        "time|timestamp without time zone,measurement|text,tag_id|bigint,usage|double precision,"
        "used|bigint,zone|text");
  CHECK(columns_of(server, "metrics_tag") == "tag_id|bigint,host|text,zone|text");
  CHECK(server.query("SELECT count(*) FROM metrics_tag") == "3");
  CHECK(server.query("SELECT m.measurement, t.host, coalesce(t.zone, '-'), "
                     "coalesce(m.usage::text, '-'), coalesce(m.used::text, '-'), "
                     "coalesce(m.zone, '-') FROM metrics m JOIN metrics_tag t USING (tag_id) "
                     "ORDER BY m.time") ==
        "cpu|a|-|1.5|-|-\n"
        "mem|a|-|-|2|-\n"
        "cpu|b|-|3.5|-|field\n"
        "mem|a|z|-|4|-");
  // cpu and mem on host a share a tag row; the measurement column tells their rows apart.
  CHECK(server.query("SELECT count(DISTINCT tag_id) || ',' || count(*) FROM metrics WHERE "
                     "time < '2023-11-14 22:13:22'") == "1,2");
  CHECK(server.query("SELECT constraint_type FROM information_schema.table_constraints WHERE "
                     "table_name = 'metrics' AND constraint_type = 'FOREIGN KEY'") ==
        "FOREIGN KEY");
}

TEST_CASE("postgresql: one transaction per batch (a bad value rejects the whole batch)") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  // A table made by hand with a narrower column than we would create.
  REQUIRE(server.psql("CREATE TABLE narrow (time timestamp, v smallint)").exit_code == 0);
  PgAgent agent(server);

  // Good rows in two tables and a value out of the smallint's range: nothing of it stays.
  Metric good1("good", kBaseTime);
  good1.set_field("v", int64_t{1});
  Metric good2("other", kBaseTime);
  good2.set_field("v", int64_t{2});
  Metric bad("narrow", kBaseTime);
  bad.set_field("v", int64_t{100000});
  agent.send({good1, good2, bad});
  REQUIRE(agent.settled(3));
  CHECK(agent.stats().metrics_rejected == 3);
  CHECK(agent.stats().metrics_written == 0);
  CHECK(server.query("SELECT count(*) FROM good") == "0");
  CHECK(server.query("SELECT count(*) FROM other") == "0");
  CHECK(server.query("SELECT count(*) FROM narrow") == "0");

  // Invalid UTF-8 in a string is a data error too (SQLSTATE 22021).
  Metric bad_text("good", kBaseTime + 1);
  bad_text.set_field("v", int64_t{3});
  bad_text.set_field("s", std::string("bad \xff byte"));
  agent.send({bad_text});
  REQUIRE(agent.settled(4));
  CHECK(agent.stats().metrics_rejected == 4);

  // The next batch goes through: the rejection did not stick to the connection.
  Metric fine("good", kBaseTime + 2);
  fine.set_field("v", int64_t{4});
  Metric fits("narrow", kBaseTime + 2);
  fits.set_field("v", int64_t{7});
  agent.send({fine, fits});
  REQUIRE(agent.settled(6));
  CHECK(agent.stats().metrics_written == 2);
  CHECK(server.query("SELECT v FROM good") == "4");
  CHECK(server.query("SELECT v FROM narrow") == "7");

  // DDL the server refuses for good (a view cannot take columns, SQLSTATE 42809): that table's
  // metrics are dropped and logged, the rest of the batch is written.
  REQUIRE(server.psql("CREATE VIEW blocked AS SELECT now()::timestamp AS time").exit_code == 0);
  Metric refused("blocked", kBaseTime + 3);
  refused.set_field("v", int64_t{5});
  Metric beside("good", kBaseTime + 3);
  beside.set_field("v", int64_t{6});
  agent.send({refused, beside});
  REQUIRE(agent.settled(8));
  CHECK(agent.stats().metrics_written == 4);
  CHECK(server.query("SELECT v FROM good ORDER BY time") == "4\n6");
  CHECK(columns_of(server, "blocked") == "time|timestamp without time zone");
}

TEST_CASE("postgresql: a server down at start and one restarted mid-run lose nothing") {
  PostgresServer server;
  REQUIRE_SERVER(server);
  REQUIRE(server.stop());

  constexpr int kBatches = 40, kPerBatch = 25;
  auto batch_of = [](int b) {
    Batch batch;
    for (int i = 0; i < kPerBatch; ++i) {
      int64_t seq = int64_t{b} * kPerBatch + i;
      Metric m("seq", kBaseTime + seq * 1000);
      m.set_tag("host", "h" + std::to_string(seq % 3));
      m.set_field("n", seq);
      batch.push_back(std::move(m));
    }
    return batch;
  };

  PgAgent agent(server);
  // Down at start: the agent runs, keeps the metrics and retries.
  agent.send(batch_of(0));
  REQUIRE(eventually([&] { return agent.stats().retries >= 2; }, 10));
  CHECK(agent.stats().metrics_written == 0);
  REQUIRE(server.start());
  REQUIRE(eventually([&] { return agent.stats().metrics_written == kPerBatch; }, 20));

  // Stopped in the middle of a stream of batches, then started again.
  for (int b = 1; b < kBatches; ++b) {
    agent.send(batch_of(b));
    if (b == kBatches / 2) REQUIRE(server.stop());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  uint64_t retries_before = agent.stats().retries;
  REQUIRE(eventually([&] { return agent.stats().retries >= retries_before + 2; }, 10));
  REQUIRE(server.start());
  REQUIRE(eventually(
      [&] { return agent.stats().metrics_written == uint64_t{kBatches} * kPerBatch; }, 30));
  CHECK(agent.stats().metrics_rejected == 0);
  CHECK(server.query("SELECT count(*), count(DISTINCT n), min(n), max(n) FROM seq") ==
        std::to_string(kBatches * kPerBatch) + "|" + std::to_string(kBatches * kPerBatch) + "|0|" +
            std::to_string(kBatches * kPerBatch - 1));
}
