// The postgresql output's SQL without a server: the COPY text format, timestamps, column types,
// DDL templates, tag ids and the mapping of SQLSTATEs to retry or reject.
#include <doctest/doctest.h>

#include <limits>

#include "config/config.hpp"
#include "outputs/postgresql/sql.hpp"
#include "plugin/registry.hpp"

using namespace sluice::outputs::postgresql;
using sluice::FieldValue;
using sluice::TagRef;

namespace {

std::string copy_value(const FieldValue& v) {
  std::string out;
  append_copy_value(out, v);
  return out;
}

std::string timestamp(int64_t ns, bool tz = false) {
  std::string out;
  append_copy_timestamp(out, ns, tz);
  return out;
}

}  // namespace

TEST_CASE("postgresql sql: values in COPY's text format") {
  CHECK(copy_value(97.5) == "97.5");
  CHECK(copy_value(0.1) == "0.1");
  CHECK(copy_value(-2.5e-300) == "-2.5e-300");
  CHECK(copy_value(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(copy_value(std::numeric_limits<double>::infinity()) == "Infinity");
  CHECK(copy_value(-std::numeric_limits<double>::infinity()) == "-Infinity");
  CHECK(copy_value(std::numeric_limits<int64_t>::min()) == "-9223372036854775808");
  CHECK(copy_value(std::numeric_limits<uint64_t>::max()) == "18446744073709551615");
  CHECK(copy_value(true) == "t");
  CHECK(copy_value(false) == "f");
  // Backslash, tab, newline and carriage return are escaped; everything else goes as it is.
  CHECK(copy_value(std::string("a\\b\tc\nd\re 'q' \"dq\" ü")) == "a\\\\b\\tc\\nd\\re 'q' \"dq\" ü");
  CHECK(copy_value(std::string("\\N")) == "\\\\N");  // not a NULL
}

TEST_CASE("postgresql sql: timestamps with microseconds rounded toward the past") {
  CHECK(timestamp(0) == "1970-01-01 00:00:00.000000");
  CHECK(timestamp(1'700'000'000'123'456'789) == "2023-11-14 22:13:20.123456");
  CHECK(timestamp(1'700'000'000'123'456'789, true) == "2023-11-14 22:13:20.123456+00");
  CHECK(timestamp(-1) == "1969-12-31 23:59:59.999999");
  CHECK(timestamp(951'782'400'000'000'000) == "2000-02-29 00:00:00.000000");  // leap day
  CHECK(timestamp(std::numeric_limits<int64_t>::max()) == "2262-04-11 23:47:16.854775");
  CHECK(timestamp(std::numeric_limits<int64_t>::min()) == "1677-09-21 00:12:43.145224");
}

TEST_CASE("postgresql sql: column types and which values a column takes") {
  CHECK(column_type_for(1.5, "numeric") == "double precision");
  CHECK(column_type_for(int64_t{1}, "numeric") == "bigint");
  CHECK(column_type_for(uint64_t{1}, "numeric") == "numeric(20,0)");
  CHECK(column_type_for(uint64_t{1}, "uint8") == "uint8");
  CHECK(column_type_for(true, "numeric") == "boolean");
  CHECK(column_type_for(std::string("x"), "numeric") == "text");

  CHECK(column_accepts("double precision", 1.5));
  CHECK(column_accepts("numeric", 1.5));
  CHECK_FALSE(column_accepts("bigint", 1.5));  // "1.5" would not parse as bigint
  CHECK(column_accepts("double precision", int64_t{1}));
  CHECK(column_accepts("smallint", int64_t{1}));  // the server checks the range
  CHECK(column_accepts("bigint", uint64_t{1}));
  CHECK(column_accepts("uint8", uint64_t{1}));
  CHECK_FALSE(column_accepts("text", int64_t{1}));
  CHECK(column_accepts("boolean", true));
  CHECK_FALSE(column_accepts("integer", true));
  CHECK(column_accepts("text", std::string("x")));
  CHECK(column_accepts("character varying", std::string("x")));
  CHECK_FALSE(column_accepts("jsonb", std::string("x")));
  CHECK_FALSE(column_accepts("bigint", std::string("1")));
  CHECK(column_accepts_text("text"));
  CHECK_FALSE(column_accepts_text("bigint"));
}

TEST_CASE("postgresql sql: identifiers are cut to 63 bytes at a character boundary") {
  CHECK(truncate_identifier("cpu") == "cpu");
  std::string long_ascii(70, 'a');
  CHECK(truncate_identifier(long_ascii) == std::string(63, 'a'));
  // 62 ASCII bytes then a two-byte character: it does not fit whole, so it goes.
  std::string split = std::string(62, 'a') + "é";
  CHECK(truncate_identifier(split) == std::string(62, 'a'));
  CHECK(quote_identifier("we\"ird name") == "\"we\"\"ird name\"");
}

TEST_CASE("postgresql sql: tag ids are stable and differ between tag sets") {
  std::vector<TagRef> a{{"host", "a"}, {"path", "/"}};
  std::vector<TagRef> b{{"host", "b"}, {"path", "/"}};
  std::vector<TagRef> shifted{{"host", "a/"}, {"path", ""}};  // same bytes, other split
  CHECK(tag_id(a) == tag_id(std::vector<TagRef>{{"host", "a"}, {"path", "/"}}));
  CHECK(tag_id(a) != tag_id(b));
  CHECK(tag_id(a) != tag_id(shifted));
  // FNV-1a of nothing: the offset basis, as a signed bigint.
  CHECK(tag_id(std::vector<TagRef>{}) == static_cast<int64_t>(14695981039346656037ull));
}

TEST_CASE("postgresql sql: DDL templates in Telegraf's notation") {
  DdlTemplate::Context c;
  c.table = "\"public\".\"cpu\"";
  c.table_literal = "'\"public\".\"cpu\"'";
  c.metric_table = c.table;
  c.tag_table = "\"public\".\"cpu_tag\"";
  c.columns = {"\"time\" timestamp without time zone", "\"host\" text"};
  CHECK(DdlTemplate("CREATE TABLE IF NOT EXISTS {{ .table }} ({{ .columns }})").render(c) ==
        "CREATE TABLE IF NOT EXISTS \"public\".\"cpu\" (\"time\" timestamp without time zone, "
        "\"host\" text)");
  CHECK(DdlTemplate("ALTER TABLE {{.table}} ADD COLUMN IF NOT EXISTS "
                    "{{ .columns|join \", ADD COLUMN IF NOT EXISTS \" }}")
            .render(c) ==
        "ALTER TABLE \"public\".\"cpu\" ADD COLUMN IF NOT EXISTS \"time\" timestamp without time "
        "zone, ADD COLUMN IF NOT EXISTS \"host\" text");
  CHECK(DdlTemplate("SELECT create_hypertable({{ .table | quoteLiteral }}, 'time'); "
                    "COMMENT ON TABLE {{ .tagTable }} IS 'of {{ .metricTable }}'")
            .render(c) ==
        "SELECT create_hypertable('\"public\".\"cpu\"', 'time'); COMMENT ON TABLE "
        "\"public\".\"cpu_tag\" IS 'of \"public\".\"cpu\"'");
  CHECK(DdlTemplate("{{ .columns|join `;` }}").render(c) ==
        "\"time\" timestamp without time zone;\"host\" text");
  CHECK_THROWS_WITH_AS(DdlTemplate("CREATE TABLE {{ .table.name }}"),
                       doctest::Contains("unsupported template expression {{ .table.name }}"),
                       std::invalid_argument);
  CHECK_THROWS_AS(DdlTemplate("CREATE TABLE {{ .table"), std::invalid_argument);
  CHECK_THROWS_AS(DdlTemplate("{{ .columns|join }}"), std::invalid_argument);
}

TEST_CASE("postgresql sql: SQLSTATEs map to reconnect or retry or refresh or reject") {
  using A = ErrorAction;
  CHECK(classify_error("", "server closed the connection unexpectedly", true) == A::kReconnect);
  CHECK(classify_error("", "could not send data", false) == A::kReconnect);
  CHECK(classify_error("08006", "connection failure", false) == A::kReconnect);
  CHECK(classify_error("57P01", "terminating connection due to administrator command", false) ==
        A::kReconnect);
  CHECK(classify_error("57P03", "the database system is starting up", false) == A::kReconnect);
  CHECK(classify_error("57014", "canceling statement due to statement timeout", false) ==
        A::kRetry);
  CHECK(classify_error("40001", "could not serialize access", false) == A::kRetry);
  CHECK(classify_error("40P01", "deadlock detected", false) == A::kRetry);
  CHECK(classify_error("53100", "could not extend file: No space left on device", false) ==
        A::kRetry);
  CHECK(classify_error("53300", "too many connections", false) == A::kRetry);
  CHECK(classify_error("55P03", "could not obtain lock", false) == A::kRetry);
  CHECK(classify_error("25P02", "current transaction is aborted", false) == A::kReconnect);
  CHECK(classify_error("23505",
                       "duplicate key value violates unique constraint "
                       "\"pg_type_typname_nsp_index\"",
                       false) == A::kRetry);
  CHECK(classify_error("23505", "duplicate key value violates unique constraint \"mine\"", false) ==
        A::kReject);
  CHECK(classify_error("23503", "violates foreign key constraint", false) == A::kRefresh);
  CHECK(classify_error("42P01", "relation \"cpu\" does not exist", false) == A::kRefresh);
  CHECK(classify_error("42703", "column \"x\" does not exist", false) == A::kRefresh);
  CHECK(classify_error("42P07", "relation \"cpu\" already exists", false) == A::kRetry);
  CHECK(classify_error("42701", "column \"x\" already exists", false) == A::kRetry);
  CHECK(classify_error("42601", "syntax error at or near", false) == A::kReject);
  CHECK(classify_error("42501", "permission denied for table cpu", false) == A::kReject);
  CHECK(classify_error("22003", "value out of range for type smallint", false) == A::kReject);
  CHECK(classify_error("22021", "invalid byte sequence for encoding \"UTF8\"", false) ==
        A::kReject);
  CHECK(classify_error("22P02", "invalid input syntax for type bigint", false) == A::kReject);
  CHECK(classify_error("3F000", "schema \"nope\" does not exist", false) == A::kReject);
  CHECK(classify_error("XX000", "internal error", false) == A::kReject);
}

TEST_CASE("postgresql: unacceptable options are refused with the option's name") {
  const auto* info =
      sluice::plugin::Registry::builtins().find(sluice::plugin::Kind::kOutput, "postgresql");
  REQUIRE(info != nullptr);
  auto refused = [&](const std::string& options) -> std::string {
    auto config = sluice::config::load_text("outputs:\n  - postgresql: {" + options + "}\n",
                                            "postgresql-test.yaml");
    struct : sluice::Logger {
      void log(sluice::LogLevel, std::string_view) override {}
      bool enabled(sluice::LogLevel) const override { return false; }
    } quiet;
    try {
      info->create_output(sluice::PluginContext{config.outputs.at(0).options, quiet});
    } catch (const sluice::OptionError& e) {
      return e.option() + ": " + e.what();
    }
    return "accepted";
  };
  CHECK(refused("connection: \"host=localhost\"") == "accepted");
  CHECK(refused("connection: \"postgres://u@localhost:5432/db?sslmode=verify-full\"") ==
        "accepted");
  CHECK(refused("connection: \"nonsense\"").rfind("connection: is not a valid libpq", 0) == 0);
  CHECK(refused("timestamp_column_type: date") ==
        "timestamp_column_type: expected \"timestamp without time zone\" or \"timestamp with "
        "time zone\", got \"date\"");
  CHECK(refused("uint64_type: bigint") == "uint64_type: expected numeric or uint8, got \"bigint\"");
  CHECK(refused("create_templates: [\"CREATE TABLE {{ .table.name }}\"]")
            .rfind("create_templates: unsupported template expression", 0) == 0);
  CHECK(refused("create_templates: []") == "create_templates: needs at least one statement");
  CHECK(refused("tag_cache_size: 0") == "tag_cache_size: must be positive");
  CHECK(refused("table: metrics") == "accepted");
  CHECK(refused("table: metrics, measurement_column: kind, tags_as_foreign_keys: true") ==
        "accepted");
  CHECK(refused("measurement_column: kind") ==
        "measurement_column: applies only with table (one table for every measurement), which "
        "is not set");
  CHECK(refused("table: metrics, measurement_column: \"\"") ==
        "measurement_column: must not be empty with table");
  CHECK(refused("table: metrics, measurement_column: ts, timestamp_column_name: ts") ==
        "measurement_column: is the time column's name too (\"ts\"): choose another, or another "
        "timestamp_column_name");
  CHECK(refused("table: metrics, measurement_column: tag_id, tags_as_foreign_keys: true") ==
        "measurement_column: must not be tag_id with tags_as_foreign_keys");
  // A long table name leaves the tag table's suffix room by being cut shorter for it.
  CHECK(refused("table: " + std::string(63, 't') + ", tags_as_foreign_keys: true") == "accepted");
  CHECK(refused("tag_table_suffix: " + std::string(63, 's') + ", tags_as_foreign_keys: true") ==
        "tag_table_suffix: must be shorter than 63 bytes, the longest name PostgreSQL keeps");
  // Creating the output connects to nothing: that waits for the first write.
  CHECK(refused("connection: \"host=127.0.0.1 port=1\"") == "accepted");
}
