// postgresql: statistics of a PostgreSQL server, as Telegraf's postgresql input (a row of
// pg_stat_database per database and the row of pg_stat_bgwriter, measurement `postgresql`),
// plus custom queries as Telegraf's postgresql_extensible (option `query`). The connection is
// made at the first gather and made again after it broke; messages name the server without
// its password.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "custom_query.hpp"
#include "pg_session.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::postgresql {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"address", OptionType::kString, "host=localhost user=postgres sslmode=disable",
     "libpq connection string (key=value ...) or URI (postgres://user@host:5432/db)"},
    {"outputaddress", OptionType::kString, "",
     "The server tag; \"\" uses the address without its password"},
    {"databases", OptionType::kStringList, "",
     "Databases whose pg_stat_database row is read; empty for all"},
    {"ignored_databases", OptionType::kStringList, "",
     "Databases whose pg_stat_database row is not read (not with databases)"},
    {"max_lifetime", OptionType::kDuration, "0s",
     "Connect again after the connection is this old; 0 keeps it"},
    {"query", OptionType::kStringMapList, "",
     "Custom queries: [{sqlquery: ..., measurement: ..., tagvalue: \"col1,col2\", withdbname: "
     "false, timestamp: col, min_version: 0, max_version: 0}]"},
};

class Postgresql final : public Input {
 public:
  explicit Postgresql(const Options& o)
      : session_(o.get_string("address")),
        databases_(o.get_strings("databases")),
        ignored_(o.get_strings("ignored_databases")),
        max_lifetime_(o.get_duration("max_lifetime")),
        queries_(read_custom_queries(o.get_string_map_list("query"))) {
    std::string error;
    server_ = sanitized_address(o.get_string("address"), error);
    if (!error.empty()) throw OptionError("address", "not a libpq connection string: " + error);
    if (!o.get_string("outputaddress").empty()) server_ = o.get_string("outputaddress");
    if (!databases_.empty() && !ignored_.empty()) {
      throw OptionError("ignored_databases", "give databases or ignored_databases, not both");
    }
    if (max_lifetime_.count() < 0) throw OptionError("max_lifetime", "must not be negative");
  }

  void gather(Accumulator& acc) override {
    if (!connect(acc)) return;
    Batch batch;
    Result result;
    std::string error = session_.query(stat_database_sql(), result);
    if (!error.empty() && !session_.connected()) {
      // The server went away since the last gather (a restart): connect once more now.
      if (!connect(acc)) return;
      error = session_.query(stat_database_sql(), result);
    }
    if (error.empty()) {
      rows_to_metrics(result, "postgresql", {}, "", server_, "postgres", batch);
    } else {
      acc.add_error(prefix() + "pg_stat_database: " + error);
    }
    error = session_.query("SELECT * FROM pg_stat_bgwriter", result);
    if (error.empty()) {
      rows_to_metrics(result, "postgresql", {}, "", server_, "postgres", batch);
    } else {
      acc.add_error(prefix() + "pg_stat_bgwriter: " + error);
    }
    int version = session_.server_version();
    for (size_t i = 0; i < queries_.size() && session_.connected(); ++i) {
      const CustomQuery& q = queries_[i];
      if ((q.min_version > 0 && version < q.min_version) ||
          (q.max_version > 0 && version >= q.max_version)) {
        continue;
      }
      error = session_.query(custom_sql(q), result);
      if (!error.empty()) {
        acc.add_error(prefix() + "query " + std::to_string(i + 1) + " (" + q.measurement +
                      "): " + error);
        continue;
      }
      rows_to_metrics(result, q.measurement, q.tag_columns, q.timestamp, server_,
                      session_.database(), batch);
    }
    if (!batch.empty()) acc.add_batch(std::move(batch));
  }

 private:
  std::string prefix() const { return "postgresql " + server_ + ": "; }

  bool connect(Accumulator& acc) {
    auto now = std::chrono::steady_clock::now();
    if (session_.connected() && max_lifetime_.count() > 0 && now - connected_at_ > max_lifetime_) {
      session_.disconnect();
    }
    if (session_.connected()) return true;
    std::string error = session_.ensure_connected();
    if (!error.empty()) {
      acc.add_error(prefix() + "cannot connect: " + error);
      return false;
    }
    connected_at_ = now;
    return true;
  }

  std::string name_list(const std::vector<std::string>& names) const {
    std::string s;
    for (const std::string& n : names) s += (s.empty() ? "" : ", ") + session_.quote_literal(n);
    return s;
  }

  std::string stat_database_sql() const {
    std::string sql = "SELECT * FROM pg_stat_database";
    if (!databases_.empty()) sql += " WHERE datname IN (" + name_list(databases_) + ")";
    if (!ignored_.empty()) {
      sql += " WHERE datname IS NULL OR datname NOT IN (" + name_list(ignored_) + ")";
    }
    return sql;
  }

  // withdbname, as Telegraf: the query ends with a column to compare and gets the database
  // list (or "IS NOT NULL" without one) appended.
  std::string custom_sql(const CustomQuery& q) const {
    if (!q.withdbname) return q.sqlquery;
    if (databases_.empty()) return q.sqlquery + " IS NOT NULL";
    return q.sqlquery + " IN (" + name_list(databases_) + ")";
  }

  Session session_;
  std::string server_;
  std::vector<std::string> databases_;
  std::vector<std::string> ignored_;
  std::chrono::nanoseconds max_lifetime_;
  std::vector<CustomQuery> queries_;
  std::chrono::steady_clock::time_point connected_at_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "postgresql";
  info.description =
      "Statistics of a PostgreSQL server (pg_stat_database, pg_stat_bgwriter) and "
      "custom queries";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<Postgresql>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::postgresql
