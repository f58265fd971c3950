// The influxdb output against a real InfluxDB 1.x (Debian's influxd 1.6), started by the test
// on 127.0.0.1. Metrics go through sluice's pipeline; they are read back with InfluxQL over the
// server's HTTP API (curl), values and types compared.
//
// On duplicates: InfluxDB keeps one point per series (measurement + tag set) and timestamp; a
// batch written again (after a retry whose first attempt did land) overwrites the same points
// with the same values. Every metric here has its own timestamp, so the point count is the
// number of distinct metrics delivered: equal to what was sent means none lost.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "config/config.hpp"
#include "support/output_pipeline.hpp"
#include "support/influxd.hpp"
#include "support/test_plugins.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using sluice::Batch;
using sluice::Metric;
using sluice::pipeline::Pipeline;
using sluice::pipeline::SystemClock;
using sluice::testing::eventually;
using sluice::testing::Influxd;

namespace {

constexpr int64_t kBaseTime = 1'700'000'000'000'000'000;

// A pipeline built from YAML, started; stopped (with a short last flush) when it goes.
using Agent = sluice::testing::OutputPipeline;

std::string output(const std::string& urls, const std::string& extra = "") {
  return "  - influxdb: {urls: [" + urls +
         "], database: sluice, retry_initial_backoff: 100ms, retry_max_backoff: 1s" + extra + "}\n";
}

// `count` metrics "load" with seq = first.., each at its own nanosecond.
Batch sequence(int64_t first, int64_t count) {
  Batch batch;
  for (int64_t i = first; i < first + count; ++i) {
    Metric m("load", kBaseTime + i * 1000);
    m.set_tag("host", "h" + std::to_string(i % 3));
    m.set_field("seq", i);
    m.set_field("value", static_cast<double>(i) * 0.5);
    batch.push_back(std::move(m));
  }
  return batch;
}

// Sum of seq over [first, first + count).
int64_t seq_sum(int64_t first, int64_t count) { return count * (2 * first + count - 1) / 2; }

json first_value(const Influxd& server, const std::string& db, const std::string& q) {
  auto rows = server.rows(db, q);
  if (rows.empty()) return nullptr;
  for (auto& [column, value] : rows[0]) {
    if (column != "time") return value;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("influxdb: values and types arrive exactly with gzip on the wire") {
  if (!sluice::testing::influxd_available()) {
    MESSAGE("influxd is not installed (Debian package influxdb); skipped");
    return;
  }
  Influxd server("influxdb-types");
  REQUIRE(server.start());
  {
    Agent agent(output("\"" + server.url() + "\""));  // content_encoding: gzip by default
    Batch batch;
    Metric a("types", kBaseTime + 123456789);
    a.set_tag("host", "web 1");
    a.set_tag("region", "eu,west=1");
    a.set_field("f", 1.5);
    a.set_field("f_tiny", -2.25e-10);
    a.set_field("f_whole", 3.0);
    a.set_field("i", int64_t{-42});
    a.set_field("i_max", std::numeric_limits<int64_t>::max());
    a.set_field("u", uint64_t{7});
    a.set_field("u_big", std::numeric_limits<uint64_t>::max());
    a.set_field("b", true);
    a.set_field("s", std::string("a \"quoted\" string, with \\ and ünïcode"));
    batch.push_back(a);
    Metric b("types", kBaseTime + 123456790);
    b.set_tag("host", "web 2");
    b.set_field("f", -0.1);
    b.set_field("i", int64_t{0});
    b.set_field("b", false);
    b.set_field("s", std::string("second"));
    batch.push_back(b);
    agent.send(batch);
    REQUIRE(eventually([&] { return server.count("sluice", "types", "f") == 2; }, 20));
  }

  // Types as InfluxDB stores them. influxd 1.6 has no unsigned type (see the next test), so
  // uint64 fields go as integers (influx_uint_support: false, Telegraf's default).
  auto types = server.field_types("sluice", "types");
  CHECK(types == std::map<std::string, std::string>{{"b", "boolean"},
                                                    {"f", "float"},
                                                    {"f_tiny", "float"},
                                                    {"f_whole", "float"},
                                                    {"i", "integer"},
                                                    {"i_max", "integer"},
                                                    {"s", "string"},
                                                    {"u", "integer"},
                                                    {"u_big", "integer"}});

  auto rows = server.rows("sluice", "SELECT * FROM \"types\" ORDER BY time");
  REQUIRE(rows.size() == 2);
  auto& r = rows[0];
  CHECK(r["time"].get<int64_t>() == kBaseTime + 123456789);
  CHECK(r["host"] == "web 1");
  CHECK(r["region"] == "eu,west=1");
  CHECK(r["f"].get<double>() == 1.5);
  CHECK(r["f_tiny"].get<double>() == -2.25e-10);
  CHECK(r["f_whole"].get<double>() == 3.0);
  CHECK(r["i"].get<int64_t>() == -42);
  CHECK(r["i_max"].get<int64_t>() == std::numeric_limits<int64_t>::max());
  CHECK(r["u"].get<int64_t>() == 7);
  // Past the int64 range a uint64 is clipped, as Telegraf does without uint support.
  CHECK(r["u_big"].get<int64_t>() == std::numeric_limits<int64_t>::max());
  CHECK(r["b"].is_boolean());
  CHECK(r["b"].get<bool>() == true);
  CHECK(r["s"] == "a \"quoted\" string, with \\ and ünïcode");
  auto& r2 = rows[1];
  CHECK(r2["time"].get<int64_t>() == kBaseTime + 123456790);
  CHECK(r2["host"] == "web 2");
  CHECK(r2["region"].is_null());
  CHECK(r2["f"].get<double>() == -0.1);
  CHECK(r2["i"].get<int64_t>() == 0);
  CHECK(r2["b"].get<bool>() == false);
  CHECK(r2["s"] == "second");
  CHECK(r2["u"].is_null());
}

TEST_CASE(
    "influxdb: influxd 1.6 refuses unsigned integers and with influx_uint_support they are "
    "rejected") {
  if (!sluice::testing::influxd_available()) return;
  Influxd server("influxdb-uint");
  REQUIRE(server.start());
  Agent agent(output("\"" + server.url() + "\"", ", influx_uint_support: true"));
  Batch batch;
  Metric m("unsigned", kBaseTime);
  m.set_field("u", uint64_t{42});
  batch.push_back(m);
  agent.send(batch);
  // 400 "invalid number": a permanent refusal, so dropped and counted, not retried forever.
  REQUIRE(eventually([&] { return agent.stats().metrics_rejected == 1; }, 20));
  CHECK(agent.stats().metrics_written == 0);
  CHECK(server.count("sluice", "unsigned", "u") == 0);
}

TEST_CASE("influxdb: influxd killed mid-run and restarted: every metric arrives") {
  if (!sluice::testing::influxd_available()) return;
  Influxd server("influxdb-restart");
  REQUIRE(server.start());
  Agent agent(output("\"" + server.url() + "\"", ", content_encoding: identity"));
  constexpr int64_t kBatch = 500;
  int64_t sent = 0;
  for (int i = 0; i < 10; ++i, sent += kBatch) {
    agent.send(sequence(sent, kBatch));
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(eventually([&] { return server.count("sluice", "load", "seq") >= 1000; }, 20));
  server.kill_hard();  // SIGKILL, possibly in the middle of a write
  for (int i = 0; i < 20; ++i, sent += kBatch) {
    agent.send(sequence(sent, kBatch));
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(eventually([&] { return agent.stats().retries > 0; }, 10));
  const uint64_t written_while_down = agent.stats().metrics_written;
  std::this_thread::sleep_for(500ms);
  CHECK(agent.stats().metrics_written == written_while_down);  // nothing can be written

  REQUIRE(server.start());  // the same data folder and port
  REQUIRE(eventually([&] { return server.count("sluice", "load", "seq") == sent; }, 60));
  CHECK(first_value(server, "sluice", "SELECT sum(\"seq\") FROM \"load\"") == seq_sum(0, sent));
  CHECK(first_value(server, "sluice", "SELECT min(\"seq\") FROM \"load\"") == 0);
  CHECK(first_value(server, "sluice", "SELECT max(\"seq\") FROM \"load\"") == sent - 1);
  CHECK(agent.stats().metrics_dropped == 0);
  CHECK(agent.stats().metrics_rejected == 0);
  // Every metric was acknowledged once by the host, even those whose write the kill cut off.
  REQUIRE(eventually([&] { return agent.stats().metrics_written == static_cast<uint64_t>(sent); }));
}

TEST_CASE("influxdb: the server is down at start and gets everything once it appears") {
  if (!sluice::testing::influxd_available()) return;
  Influxd server("influxdb-late");
  Agent agent(output("\"" + server.url() + "\""));  // nothing listens yet
  agent.send(sequence(0, 2000));
  REQUIRE(eventually([&] { return agent.stats().retries >= 2; }, 10));
  CHECK(agent.stats().metrics_written == 0);
  REQUIRE(server.start());
  REQUIRE(eventually([&] { return server.count("sluice", "load", "seq") == 2000; }, 30));
  CHECK(first_value(server, "sluice", "SELECT sum(\"seq\") FROM \"load\"") == seq_sum(0, 2000));
  // The database was created by the agent (connect, then write).
  auto databases = server.rows("", "SHOW DATABASES");
  bool found = false;
  for (auto& row : databases) found = found || row["name"] == "sluice";
  CHECK(found);
}

TEST_CASE("influxdb: fail-over to the next URL when the first is down") {
  if (!sluice::testing::influxd_available()) return;
  Influxd first("influxdb-first");
  Influxd second("influxdb-second");
  REQUIRE(first.start());
  REQUIRE(second.start());
  Agent agent(output("\"" + first.url() + "\", \"" + second.url() + "\""));
  agent.send(sequence(0, 1000));
  REQUIRE(eventually([&] { return first.count("sluice", "load", "seq") == 1000; }, 20));
  CHECK(second.count("sluice", "load", "seq") == 0);  // the first URL takes the writes

  first.kill_hard();
  agent.send(sequence(1000, 1000));
  // The second server gets them without the batch waiting for a back-off: the same write tries
  // the next URL, and creates the database there first.
  REQUIRE(eventually([&] { return second.count("sluice", "load", "seq") == 1000; }, 20));
  CHECK(first_value(second, "sluice", "SELECT min(\"seq\") FROM \"load\"") == 1000);
  CHECK(agent.stats().metrics_rejected == 0);
}

TEST_CASE(
    "influxdb: database_tag and retention_policy_tag route metrics and excluded tags are not "
    "stored") {
  if (!sluice::testing::influxd_available()) return;
  Influxd server("influxdb-routing");
  REQUIRE(server.start());
  REQUIRE(server.query("", "CREATE DATABASE \"alpha\"").is_object());
  REQUIRE(server
              .query("",
                     "CREATE RETENTION POLICY \"week\" ON \"alpha\" DURATION 7d "
                     "REPLICATION 1")
              .is_object());
  Agent agent(output("\"" + server.url() + "\"",
                     ", database_tag: tenant, exclude_database_tag: true, retention_policy_tag: "
                     "rp, exclude_retention_policy_tag: true"));
  // Recent timestamps: the 7-day policy refuses older points.
  const int64_t now = sluice::pipeline::SystemClock::instance().now();
  Batch batch;
  for (int i = 0; i < 6; ++i) {
    Metric m("routed", now + i);
    m.set_tag("n", std::to_string(i));
    if (i % 3 == 1) m.set_tag("tenant", "alpha");
    if (i % 3 == 2) {
      m.set_tag("tenant", "alpha");
      m.set_tag("rp", "week");
    }
    m.set_field("v", int64_t{i});
    batch.push_back(m);
  }
  agent.send(batch);
  REQUIRE(eventually(
      [&] {
        return server.rows("alpha", "SELECT count(\"v\") FROM \"alpha\".\"week\".\"routed\"")
                   .size() == 1;
      },
      20));
  REQUIRE(eventually([&] { return server.count("sluice", "routed", "v") == 2; }, 20));
  auto main_rows = server.rows("sluice", "SELECT * FROM \"routed\" ORDER BY time");
  REQUIRE(main_rows.size() == 2);
  CHECK(main_rows[0]["v"] == 0);
  CHECK(main_rows[1]["v"] == 3);
  auto alpha_default = server.rows("alpha", "SELECT * FROM \"routed\" ORDER BY time");
  REQUIRE(alpha_default.size() == 2);
  CHECK(alpha_default[0]["v"] == 1);
  CHECK(alpha_default[1]["v"] == 4);
  CHECK(alpha_default[0].count("tenant") == 0);  // excluded: not a column
  auto alpha_week =
      server.rows("alpha", "SELECT * FROM \"alpha\".\"week\".\"routed\" ORDER BY time");
  REQUIRE(alpha_week.size() == 2);
  CHECK(alpha_week[0]["v"] == 2);
  CHECK(alpha_week[1]["v"] == 5);
  CHECK(alpha_week[0].count("rp") == 0);
}

TEST_CASE("influxdb: a partial write is rejected and counted and the good points are stored") {
  if (!sluice::testing::influxd_available()) return;
  Influxd server("influxdb-partial");
  REQUIRE(server.start());
  Agent agent(output("\"" + server.url() + "\""));
  Batch first;
  Metric m("conflict", kBaseTime);
  m.set_field("f", int64_t{1});
  first.push_back(m);
  agent.send(first);
  REQUIRE(eventually([&] { return agent.stats().metrics_written == 1; }, 20));

  Batch mixed;
  for (int i = 1; i <= 3; ++i) {
    Metric p("conflict", kBaseTime + i);
    if (i == 2) {
      p.set_field("f", 2.5);  // a float where InfluxDB has an integer field
    } else {
      p.set_field("f", int64_t{i});
    }
    mixed.push_back(p);
  }
  agent.send(mixed);
  // 400 "partial write: field type conflict ... dropped=1": the batch is done with, not retried.
  REQUIRE(eventually([&] { return agent.stats().metrics_rejected == 3; }, 20));
  CHECK(server.count("sluice", "conflict", "f") == 3);  // 1, 1 and 3 of the mixed batch
  CHECK(agent.stats().retries == 0);
}

TEST_CASE("influxdb: a database dropped while running is created again") {
  if (!sluice::testing::influxd_available()) return;
  Influxd server("influxdb-dropped");
  REQUIRE(server.start());
  Agent agent(output("\"" + server.url() + "\""));
  agent.send(sequence(0, 10));
  REQUIRE(eventually([&] { return server.count("sluice", "load", "seq") == 10; }, 20));
  REQUIRE(server.query("", "DROP DATABASE \"sluice\"").is_object());
  agent.send(sequence(10, 10));
  // 404 "database not found" -> CREATE DATABASE -> the same write again.
  REQUIRE(eventually([&] { return server.count("sluice", "load", "seq") == 10; }, 20));
  CHECK(first_value(server, "sluice", "SELECT min(\"seq\") FROM \"load\"") == 10);
  CHECK(
      eventually([&] { return agent.stats().metrics_written == 20; }));  // counted after the answer
  CHECK(agent.stats().retries == 0);
}

TEST_CASE("influxdb: skip_database_creation leaves a missing database to the operator") {
  if (!sluice::testing::influxd_available()) return;
  Influxd server("influxdb-skip");
  REQUIRE(server.start());
  Agent agent(output("\"" + server.url() + "\"", ", skip_database_creation: true"));
  agent.send(sequence(0, 10));
  REQUIRE(eventually([&] { return agent.stats().retries >= 1; }, 20));  // kept, not dropped
  CHECK(agent.stats().metrics_rejected == 0);
  REQUIRE(server.query("", "CREATE DATABASE \"sluice\"").is_object());
  REQUIRE(eventually([&] { return server.count("sluice", "load", "seq") == 10; }, 20));
}
