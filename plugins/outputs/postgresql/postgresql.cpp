// Writes metrics to PostgreSQL: a table per measurement (or one table for all, with a column
// naming the measurement), created and widened as metrics need, filled with COPY in one
// transaction per batch (Telegraf's outputs.postgresql).
#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/libpq_connect.hpp"
#include "connection.hpp"
#include "plugin/registry.hpp"
#include "sql.hpp"

namespace sluice::outputs::postgresql {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"connection", OptionType::kString, "",
     "libpq connection string or URI, TLS by sslmode etc. (empty: the PG* environment)"},
    {"schema", OptionType::kString, "public", "Schema of the tables (it must exist)"},
    {"table", OptionType::kString, "",
     "One table for every measurement, in the schema (empty: a table per measurement)"},
    {"measurement_column", OptionType::kString, "measurement",
     "With table: the text column that holds each metric's measurement name"},
    {"tags_as_foreign_keys", OptionType::kBool, "false",
     "Keep tags in a tag table per metric table, referenced by a tag_id column"},
    {"tag_table_suffix", OptionType::kString, "_tag", "Suffix of the tag tables' names"},
    {"foreign_tag_constraint", OptionType::kBool, "false",
     "Declare tag_id a foreign key of the tag table"},
    {"create_templates", OptionType::kStringList,
     "['CREATE TABLE IF NOT EXISTS {{ .table }} ({{ .columns }})']",
     "Statements that create a metric table"},
    {"add_column_templates", OptionType::kStringList,
     "['ALTER TABLE {{ .table }} ADD COLUMN IF NOT EXISTS {{ .columns|join \", ADD COLUMN IF NOT "
     "EXISTS \" }}']",
     "Statements that add columns to a metric table"},
    {"tag_table_create_templates", OptionType::kStringList,
     "['CREATE TABLE IF NOT EXISTS {{ .table }} ({{ .columns }}, PRIMARY KEY (tag_id))']",
     "Statements that create a tag table"},
    {"tag_table_add_column_templates", OptionType::kStringList,
     "['ALTER TABLE {{ .table }} ADD COLUMN IF NOT EXISTS {{ .columns|join \", ADD COLUMN IF NOT "
     "EXISTS \" }}']",
     "Statements that add columns to a tag table"},
    {"timestamp_column_name", OptionType::kString, "time", "Name of the time column"},
    {"timestamp_column_type", OptionType::kString, "timestamp without time zone",
     "timestamp without time zone (UTC) or timestamp with time zone"},
    {"uint64_type", OptionType::kString, "numeric",
     "Column type of unsigned fields: numeric or uint8 (the pguint extension)"},
    {"tag_cache_size", OptionType::kInt, "100000",
     "Tag sets per tag table remembered as already stored"},
};

constexpr std::string_view kTagIdColumn = "tag_id";
constexpr size_t kMaxWarnings = 10000;
constexpr size_t kMaxParameters = 60000;  // below the protocol's 65535 per statement

std::vector<DdlTemplate> parse_templates(const Options& o, const std::string& option) {
  std::vector<DdlTemplate> out;
  for (const std::string& text : o.get_strings(option)) {
    try {
      out.emplace_back(text);
    } catch (const std::invalid_argument& e) {
      throw OptionError(option, e.what());
    }
  }
  if (out.empty()) throw OptionError(option, "needs at least one statement");
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// What the server knows of a table, as far as we have asked.
struct TableState {
  bool loaded = false;                                      // columns read since the last error
  std::map<std::string, std::string, std::less<>> columns;  // name -> type (data_type or udt_name)
  std::unordered_set<int64_t> tag_ids;  // tag sets known to be in this tag table
};

using ColumnList = std::vector<std::pair<std::string, std::string>>;  // name, SQL type

// The metrics of one batch that go to one table.
struct TablePlan {
  std::string table;      // metric table name (truncated)
  std::string tag_table;  // with tags_as_foreign_keys
  std::vector<const Metric*> metrics;
  std::vector<std::string> tag_columns;  // sorted
  ColumnList field_columns;              // in order of first appearance
  std::optional<std::string> skipped;    // why the table cannot be written (DDL refused)
};

// Where each column of a COPY is: positions into `columns`. Position 0 is always the time
// column, so 0 also means "no such column" for the measurement and tag_id columns.
struct CopyLayout {
  std::vector<std::string> columns;
  std::vector<std::string> types;  // as the server has them ("" when unknown)
  std::map<std::string, size_t, std::less<>> position;
  size_t measurement = 0;  // one table for all measurements
  size_t tag_id = 0;       // tags_as_foreign_keys
  size_t first_tag = 0;    // tag columns are [first_tag, first_field)
  size_t first_field = 0;
};

// One row of a COPY being put together, reused from metric to metric.
struct CopyRow {
  std::vector<std::optional<std::string_view>> texts;  // per column: tag value, name or tag_id
  std::vector<const FieldValue*> values;               // per column: field value
  std::string id_text;
  std::vector<TagRef> kept;
};

class PostgresqlOutput final : public Output {
 public:
  explicit PostgresqlOutput(const PluginContext& ctx)
      : log_(ctx.log),
        conninfo_(ctx.options.get_string("connection")),
        schema_(ctx.options.get_string("schema")),
        tags_as_foreign_keys_(ctx.options.get_bool("tags_as_foreign_keys")),
        tag_table_suffix_(ctx.options.get_string("tag_table_suffix")),
        foreign_tag_constraint_(ctx.options.get_bool("foreign_tag_constraint")),
        create_templates_(parse_templates(ctx.options, "create_templates")),
        add_column_templates_(parse_templates(ctx.options, "add_column_templates")),
        tag_create_templates_(parse_templates(ctx.options, "tag_table_create_templates")),
        tag_add_column_templates_(parse_templates(ctx.options, "tag_table_add_column_templates")),
        time_column_(truncate_identifier(ctx.options.get_string("timestamp_column_name"))),
        single_table_(truncate_identifier(ctx.options.get_string("table"))),
        measurement_column_(truncate_identifier(ctx.options.get_string("measurement_column"))),
        uint64_type_(lower(ctx.options.get_string("uint64_type"))) {
    const Options& o = ctx.options;
    if (std::string error = plugins_common::libpq_conninfo_problem(conninfo_); !error.empty()) {
      throw OptionError("connection", "is not a valid libpq connection string or URI: " + error);
    }
    if (schema_.empty()) throw OptionError("schema", "must not be empty");
    if (tags_as_foreign_keys_ && tag_table_suffix_.empty()) {
      throw OptionError("tag_table_suffix", "must not be empty with tags_as_foreign_keys");
    }
    if (tags_as_foreign_keys_ && tag_table_suffix_.size() >= kMaxIdentifierBytes) {
      throw OptionError("tag_table_suffix", "must be shorter than 63 bytes, the longest name "
                                            "PostgreSQL keeps");
    }
    if (time_column_.empty()) throw OptionError("timestamp_column_name", "must not be empty");
    check_single_table(o);
    std::string time_type = lower(o.get_string("timestamp_column_type"));
    if (time_type == "timestamp without time zone") {
      with_time_zone_ = false;
    } else if (time_type == "timestamp with time zone") {
      with_time_zone_ = true;
    } else {
      throw OptionError("timestamp_column_type",
                        "expected \"timestamp without time zone\" or \"timestamp with time "
                        "zone\", got \"" +
                            o.get_string("timestamp_column_type") + "\"");
    }
    time_type_ = time_type;
    if (uint64_type_ != "numeric" && uint64_type_ != "uint8") {
      throw OptionError("uint64_type",
                        "expected numeric or uint8, got \"" + o.get_string("uint64_type") + "\"");
    }
    int64_t cache = o.get_int("tag_cache_size");
    if (cache <= 0) throw OptionError("tag_cache_size", "must be positive");
    tag_cache_size_ = static_cast<size_t>(cache);
  }

  WriteResult connect() override {
    if (auto failure = ensure_connection()) return *failure;
    return WriteResult::ok();
  }

  WriteResult write(std::span<const Metric> batch) override {
    if (batch.empty()) return WriteResult::ok();
    if (auto failure = ensure_connection()) return *failure;
    std::vector<TablePlan> plans = plan(batch);
    if (plans.empty()) return WriteResult::ok();

    size_t skipped = 0;
    for (TablePlan& p : plans) {
      if (auto failure = prepare(p)) return *failure;
      if (p.skipped) ++skipped;
    }
    if (skipped == plans.size()) return WriteResult::reject(*plans.front().skipped);

    if (auto e = conn_->exec("BEGIN")) return fail(*e, "BEGIN", "BEGIN");
    std::vector<std::pair<TableState*, std::vector<int64_t>>> new_tag_ids;
    for (TablePlan& p : plans) {
      if (p.skipped) continue;
      if (tags_as_foreign_keys_) {
        std::vector<int64_t> inserted;
        if (auto failure = insert_tag_sets(p, inserted)) return *failure;
        new_tag_ids.emplace_back(&tables_[p.tag_table], std::move(inserted));
      }
      if (auto failure = copy_rows(p)) return *failure;
    }
    if (auto e = conn_->exec("COMMIT")) return fail(*e, "COMMIT", "COMMIT");
    // Only now are the tag rows certainly there.
    for (auto& [state, ids] : new_tag_ids) {
      if (state->tag_ids.size() + ids.size() > tag_cache_size_) state->tag_ids.clear();
      state->tag_ids.insert(ids.begin(), ids.end());
    }
    return WriteResult::ok();
  }

  void close() override { conn_.reset(); }

 private:
  // The options of one table for every measurement, against each other and the other columns.
  void check_single_table(const Options& o) const {
    if (single_table_.empty()) {
      // Without `table` there is no measurement column; a name given for it is a mistake.
      if (o.is_set("measurement_column")) {
        throw OptionError("measurement_column",
                          "applies only with table (one table for every measurement), which is "
                          "not set");
      }
      return;
    }
    if (measurement_column_.empty()) {
      throw OptionError("measurement_column", "must not be empty with table");
    }
    if (measurement_column_ == time_column_) {
      throw OptionError("measurement_column",
                        "is the time column's name too (\"" + time_column_ +
                            "\"): choose another, or another timestamp_column_name");
    }
    if (tags_as_foreign_keys_ && measurement_column_ == kTagIdColumn) {
      throw OptionError("measurement_column", "must not be tag_id with tags_as_foreign_keys");
    }
  }

  bool single_table() const { return !single_table_.empty(); }

  // `base` and the suffix, cut to 63 bytes. When that cut leaves nothing of the suffix (a base
  // of 63 bytes or more), the tag table would take the metric table's own name: the base is cut
  // instead, to leave the suffix room.
  std::string tag_table_name(std::string_view base) const {
    std::string name = truncate_identifier(std::string(base) + tag_table_suffix_);
    if (name != identifier_part(base)) return name;
    return std::string(identifier_part(base, kMaxIdentifierBytes - tag_table_suffix_.size())) +
           tag_table_suffix_;
  }

  // The metric table a metric goes to.
  std::string table_for(const Metric& m) const {
    return single_table() ? single_table_ : truncate_identifier(m.name());
  }

  // The tag table beside a metric's table (with tags_as_foreign_keys).
  std::string tag_table_for(const Metric& m) const {
    return tag_table_name(single_table() ? single_table_ : m.name());
  }

  // Columns of a metric table that are not a tag's or a field's: a tag or field of such a name
  // is left out rather than written into them.
  bool reserved_column(std::string_view column) const {
    return column == time_column_ || (single_table() && column == measurement_column_) ||
           (tags_as_foreign_keys_ && column == kTagIdColumn);
  }

  std::optional<WriteResult> ensure_connection() {
    if (conn_ && conn_->healthy()) return std::nullopt;
    conn_.reset();
    std::string error;
    conn_ = Connection::open(
        conninfo_, [this](std::string_view notice) { log_.debug(notice); }, error);
    if (!conn_) return WriteResult::retry("cannot connect to PostgreSQL: " + error);
    // The tables may have changed while we were away.
    for (auto& [name, state] : tables_) {
      state.loaded = false;
      state.tag_ids.clear();
    }
    log_.info("connected to PostgreSQL, " + conn_->describe());
    return std::nullopt;
  }

  void warn_once(const std::string& key, const std::string& message) {
    if (warned_.size() >= kMaxWarnings || !warned_.insert(key).second) return;
    log_.warn(message);
  }

  bool tag_usable(const Metric& m, const TagRef& tag) {
    if (tag.key.empty()) return false;
    std::string_view column = identifier_part(tag.key);
    if (reserved_column(column)) {
      std::string name(column);
      warn_once("tag:" + m.name() + ":" + name,
                "tag \"" + std::string(tag.key) + "\" of " + m.name() +
                    " is left out: its name is taken by the " + name + " column");
      return false;
    }
    return true;
  }

  bool field_usable(const Metric& m, const FieldRef& field) {
    if (field.key.empty()) return false;
    std::string_view column = identifier_part(field.key);
    bool reserved = reserved_column(column);
    bool taken = reserved;
    if (!tags_as_foreign_keys_) {
      for (const TagRef tag : m.tags()) taken = taken || identifier_part(tag.key) == column;
    }
    if (taken) {
      std::string name(column);
      warn_once("field:" + m.name() + ":" + name,
                "field \"" + std::string(field.key) + "\" of " + m.name() + " is left out: " +
                    (reserved ? "its name is taken by the " + name + " column"
                              : "a tag of the metric has the name " + name));
    }
    return !taken;
  }

  std::vector<TablePlan> plan(std::span<const Metric> batch) {
    std::vector<TablePlan> plans;
    std::unordered_map<std::string, size_t> index;
    for (const Metric& m : batch) {
      if (m.name().empty() || m.fields().empty()) continue;
      std::string table = table_for(m);
      auto [it, added] = index.try_emplace(table, plans.size());
      if (added) {
        TablePlan p;
        p.table = table;
        if (tags_as_foreign_keys_) p.tag_table = tag_table_for(m);
        plans.push_back(std::move(p));
      }
      TablePlan& p = plans[it->second];
      bool any_field = false;
      for (const FieldRef f : m.fields()) {
        if (!field_usable(m, f)) continue;
        any_field = true;
        std::string_view column = identifier_part(f.key);
        auto known = std::find_if(p.field_columns.begin(), p.field_columns.end(),
                                  [&](const auto& c) { return c.first == column; });
        if (known == p.field_columns.end()) {
          p.field_columns.emplace_back(std::string(column), column_type_for(f.value, uint64_type_));
        }
      }
      if (!any_field) continue;
      for (const TagRef t : m.tags()) {
        if (!tag_usable(m, t)) continue;
        std::string_view column = identifier_part(t.key);
        auto pos = std::lower_bound(p.tag_columns.begin(), p.tag_columns.end(), column);
        if (pos == p.tag_columns.end() || *pos != column) {
          p.tag_columns.insert(pos, std::string(column));
        }
      }
      p.metrics.push_back(&m);
    }
    std::erase_if(plans, [](const TablePlan& p) { return p.metrics.empty(); });
    // A field named like another metric's tag shares that tag's column (a column is listed
    // once); a metric's own tag of that name was already preferred by field_usable. Tags in a
    // tag table share nothing with fields: there a field keeps its own column.
    if (tags_as_foreign_keys_) return plans;
    for (TablePlan& p : plans) {
      std::erase_if(p.field_columns, [&](const auto& f) {
        return std::binary_search(p.tag_columns.begin(), p.tag_columns.end(), f.first);
      });
    }
    return plans;
  }

  std::string qualified(const std::string& table) {
    return conn_->quote_identifier(schema_) + "." + conn_->quote_identifier(table);
  }

  std::optional<WriteResult> load_columns(const std::string& table, TableState& state) {
    std::vector<Row> rows;
    static const std::string kQuery =
        "SELECT column_name, data_type, udt_name FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2";
    if (auto e = conn_->exec_params(kQuery, {schema_.c_str(), table.c_str()}, &rows)) {
      return fail(*e, "reading the columns of " + schema_ + "." + table, kQuery);
    }
    state.columns.clear();
    for (const Row& row : rows) {
      if (!row[0] || !row[1]) continue;
      std::string type = *row[1] == "USER-DEFINED" && row[2] ? *row[2] : *row[1];
      state.columns[*row[0]] = type;
    }
    state.loaded = true;
    return std::nullopt;
  }

  // Runs DDL; a refusal that retrying cannot cure marks the plan skipped rather than failing
  // the whole batch, so one bad table does not hold up the others.
  std::optional<WriteResult> run_ddl(TablePlan& plan, const std::vector<DdlTemplate>& templates,
                                     const DdlTemplate::Context& context, const std::string& what) {
    for (const DdlTemplate& t : templates) {
      std::string sql = t.render(context);
      log_.info(what + ": " + sql);
      if (auto e = conn_->exec(sql)) {
        ErrorAction action = classify_error(e->sqlstate, e->message, e->connection_lost);
        if (action != ErrorAction::kReject) return fail(*e, what, sql);
        forget_columns();
        plan.skipped = what + " failed: " + e->message + " (SQLSTATE " + e->sqlstate + ")";
        log_.error(*plan.skipped + "; the statement was: " + sql + "; " +
                   std::to_string(plan.metrics.size()) +
                   " metrics of this batch for the table are dropped (check the *_templates "
                   "options and the database user's privileges)");
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::optional<WriteResult> ensure_table(TablePlan& plan, const std::string& table,
                                          const ColumnList& needed, bool tag_table) {
    TableState& state = tables_[table];
    if (!state.loaded) {
      if (auto failure = load_columns(table, state)) return failure;
    }
    DdlTemplate::Context context;
    context.table = qualified(table);
    context.table_literal = conn_->quote_literal(context.table);
    context.metric_table = qualified(plan.table);
    context.tag_table = tags_as_foreign_keys_ ? qualified(plan.tag_table) : context.metric_table;
    auto definitions = [&](const ColumnList& columns) {
      std::vector<std::string> out;
      for (const auto& [name, type] : columns) {
        out.push_back(conn_->quote_identifier(name) + " " + type);
      }
      return out;
    };
    if (state.columns.empty()) {
      context.columns = definitions(needed);
      std::string what =
          std::string("creating ") + (tag_table ? "tag table " : "table ") + schema_ + "." + table;
      auto& templates = tag_table ? tag_create_templates_ : create_templates_;
      if (auto failure = run_ddl(plan, templates, context, what)) return failure;
      if (plan.skipped) return std::nullopt;
      if (auto failure = load_columns(table, state)) return failure;
    }
    ColumnList missing;
    for (const auto& column : needed) {
      if (state.columns.count(column.first) == 0) missing.push_back(column);
    }
    if (missing.empty()) return std::nullopt;
    context.columns = definitions(missing);
    std::string what = "adding columns to " + schema_ + "." + table;
    auto& templates = tag_table ? tag_add_column_templates_ : add_column_templates_;
    if (auto failure = run_ddl(plan, templates, context, what)) return failure;
    if (plan.skipped) return std::nullopt;
    if (auto failure = load_columns(table, state)) return failure;
    // Templates are the user's: check that they did add what COPY is going to name.
    for (const auto& column : missing) {
      if (state.columns.count(column.first) == 0) {
        plan.skipped = what + " did not add the column " + column.first;
        log_.error(*plan.skipped + "; " + std::to_string(plan.metrics.size()) +
                   " metrics of this batch for the table are dropped (check the "
                   "*add_column_templates options)");
        break;
      }
    }
    return std::nullopt;
  }

  // Creates or widens the plan's tables so that every column it writes exists.
  std::optional<WriteResult> prepare(TablePlan& plan) {
    ColumnList metric_columns;
    metric_columns.emplace_back(time_column_, time_type_);
    if (single_table()) metric_columns.emplace_back(measurement_column_, "text");
    if (tags_as_foreign_keys_) {
      ColumnList tag_columns{{std::string(kTagIdColumn), "bigint"}};
      for (const std::string& t : plan.tag_columns) tag_columns.emplace_back(t, "text");
      if (auto failure = ensure_table(plan, plan.tag_table, tag_columns, true)) return failure;
      if (plan.skipped) return std::nullopt;
      std::string type = "bigint";
      if (foreign_tag_constraint_) {
        type += " REFERENCES " + qualified(plan.tag_table) + " (" +
                conn_->quote_identifier(kTagIdColumn) + ")";
      }
      metric_columns.emplace_back(std::string(kTagIdColumn), type);
    } else {
      for (const std::string& t : plan.tag_columns) metric_columns.emplace_back(t, "text");
    }
    for (const auto& f : plan.field_columns) metric_columns.push_back(f);
    return ensure_table(plan, plan.table, metric_columns, false);
  }

  // The tags of `m` that are written, and their id.
  int64_t tag_set_id(const Metric& m, std::vector<TagRef>& kept) {
    kept.clear();
    for (const TagRef t : m.tags()) {
      if (!t.key.empty() && !reserved_column(identifier_part(t.key))) kept.push_back(t);
    }
    return tag_id(kept);
  }

  std::optional<WriteResult> insert_tag_sets(TablePlan& plan, std::vector<int64_t>& inserted) {
    TableState& state = tables_[plan.tag_table];
    std::vector<std::string> columns{std::string(kTagIdColumn)};
    columns.insert(columns.end(), plan.tag_columns.begin(), plan.tag_columns.end());
    std::map<std::string, size_t, std::less<>> position;
    for (size_t i = 0; i < columns.size(); ++i) position[columns[i]] = i;

    // One row of parameters per new tag set; ids are kept as text for libpq.
    std::vector<std::vector<const char*>> rows;
    std::vector<std::string> ids;
    std::unordered_set<int64_t> seen;
    std::vector<TagRef> kept;
    std::deque<std::string> values;  // libpq wants each parameter terminated by a zero byte
    ids.reserve(plan.metrics.size());
    for (const Metric* m : plan.metrics) {
      int64_t id = tag_set_id(*m, kept);
      if (state.tag_ids.count(id) != 0 || !seen.insert(id).second) continue;
      ids.push_back(std::to_string(id));
      std::vector<const char*> row(columns.size(), nullptr);
      row[0] = ids.back().c_str();
      for (const TagRef& t : kept) {
        std::string column = truncate_identifier(t.key);
        const std::string& type = column_type(state, column);
        if (!column_accepts_text(type)) {
          warn_once("tagtype:" + plan.tag_table + ":" + column,
                    "tag " + column + " is left out of " + schema_ + "." + plan.tag_table +
                        ": its column has type " + type + ", not text");
          continue;
        }
        row[position[column]] = values.emplace_back(t.value).c_str();
      }
      rows.push_back(std::move(row));
      inserted.push_back(id);
    }
    if (rows.empty()) return std::nullopt;

    std::string head = "INSERT INTO " + qualified(plan.tag_table) + " (";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) head += ", ";
      head += conn_->quote_identifier(columns[i]);
    }
    head += ") VALUES ";
    std::string tail = " ON CONFLICT (" + conn_->quote_identifier(kTagIdColumn) + ") DO NOTHING";
    size_t per_statement = std::max<size_t>(1, kMaxParameters / columns.size());
    for (size_t first = 0; first < rows.size(); first += per_statement) {
      size_t last = std::min(rows.size(), first + per_statement);
      std::string sql = head;
      std::vector<const char*> params;
      for (size_t r = first; r < last; ++r) {
        sql += r == first ? "(" : ", (";
        for (size_t c = 0; c < columns.size(); ++c) {
          if (c > 0) sql += ", ";
          params.push_back(rows[r][c]);
          sql += "$" + std::to_string(params.size());
        }
        sql += ")";
      }
      sql += tail;
      if (auto e = conn_->exec_params(sql, params)) {
        return fail(*e, "inserting tag sets into " + schema_ + "." + plan.tag_table, head + "...");
      }
    }
    return std::nullopt;
  }

  // The columns COPY names: the time column, the measurement column (one table for all),
  // tag_id or the tags, then the fields.
  CopyLayout copy_layout(const TablePlan& plan) {
    CopyLayout layout;
    layout.columns.push_back(time_column_);
    if (single_table()) {
      layout.measurement = layout.columns.size();
      layout.columns.push_back(measurement_column_);
    }
    if (tags_as_foreign_keys_) {
      layout.tag_id = layout.columns.size();
      layout.columns.emplace_back(kTagIdColumn);
    }
    layout.first_tag = layout.columns.size();
    if (!tags_as_foreign_keys_) {
      layout.columns.insert(layout.columns.end(), plan.tag_columns.begin(), plan.tag_columns.end());
    }
    layout.first_field = layout.columns.size();
    for (const auto& f : plan.field_columns) layout.columns.push_back(f.first);
    const TableState& state = tables_[plan.table];
    for (size_t i = 0; i < layout.columns.size(); ++i) {
      layout.position[layout.columns[i]] = i;
      layout.types.push_back(column_type(state, layout.columns[i]));
    }
    return layout;
  }

  // Whether column `i` takes text (tag values, measurement names); warns once when not.
  bool takes_text(const TablePlan& plan, const CopyLayout& layout, size_t i) {
    if (column_accepts_text(layout.types[i])) return true;
    warn_once("tagtype:" + plan.table + ":" + layout.columns[i],
              "values of column " + layout.columns[i] + " are left out of " + schema_ + "." +
                  plan.table + ": it has type " + layout.types[i] + ", not text");
    return false;
  }

  // Points the row's text cells at the metric's measurement name, tag_id or tag values.
  void place_texts(const TablePlan& plan, const CopyLayout& layout, const Metric& m, CopyRow& row) {
    if (layout.measurement != 0 && takes_text(plan, layout, layout.measurement)) {
      row.texts[layout.measurement] = m.name();
    }
    if (layout.tag_id != 0) {
      row.id_text = std::to_string(tag_set_id(m, row.kept));
      row.texts[layout.tag_id] = row.id_text;
      return;
    }
    for (const TagRef t : m.tags()) {
      if (t.key.empty()) continue;
      auto it = layout.position.find(identifier_part(t.key));
      if (it == layout.position.end() || it->second < layout.first_tag ||
          it->second >= layout.first_field) {
        continue;
      }
      if (takes_text(plan, layout, it->second)) row.texts[it->second] = t.value;
    }
  }

  // Points the row's value cells at the metric's fields, where their columns take them.
  void place_values(const TablePlan& plan, const CopyLayout& layout, const Metric& m,
                    CopyRow& row) {
    for (const FieldRef f : m.fields()) {
      if (f.key.empty()) continue;
      auto it = layout.position.find(identifier_part(f.key));
      // Never into the time, measurement or tag_id column, whatever the field is called.
      if (it == layout.position.end() || it->second < layout.first_tag) continue;
      size_t i = it->second;
      if (!column_accepts(layout.types[i], f.value)) {
        warn_once("fieldtype:" + plan.table + ":" + layout.columns[i] + ":" +
                      std::to_string(f.value.index()),
                  "values of field " + layout.columns[i] + " are left out of " + schema_ + "." +
                      plan.table + ": its column has type " + layout.types[i] +
                      ", which does not take a " + column_type_for(f.value, uint64_type_));
        continue;
      }
      row.values[i] = &f.value;
    }
  }

  void append_row(std::string& data, const TablePlan& plan, const CopyLayout& layout,
                  const Metric& m, CopyRow& row) {
    std::fill(row.texts.begin(), row.texts.end(), std::nullopt);
    std::fill(row.values.begin(), row.values.end(), nullptr);
    place_texts(plan, layout, m, row);
    place_values(plan, layout, m, row);
    append_copy_timestamp(data, m.time(), with_time_zone_);
    for (size_t i = 1; i < layout.columns.size(); ++i) {
      data.push_back('\t');
      // A tag wins over a field of the same name (field_usable already left such fields out).
      if (row.texts[i].has_value()) {
        append_copy_text(data, *row.texts[i]);
      } else if (row.values[i] != nullptr) {
        append_copy_value(data, *row.values[i]);
      } else {
        data += "\\N";
      }
    }
    data.push_back('\n');
  }

  std::optional<WriteResult> copy_rows(TablePlan& plan) {
    CopyLayout layout = copy_layout(plan);
    std::string sql = "COPY " + qualified(plan.table) + " (";
    for (size_t i = 0; i < layout.columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += conn_->quote_identifier(layout.columns[i]);
    }
    sql += ") FROM STDIN";

    std::string data;
    CopyRow row;
    row.texts.resize(layout.columns.size());
    row.values.resize(layout.columns.size());
    for (const Metric* m : plan.metrics) append_row(data, plan, layout, *m, row);
    if (auto e = conn_->copy_in(sql, data)) {
      return fail(*e, "COPY into " + schema_ + "." + plan.table, sql);
    }
    return std::nullopt;
  }

  static const std::string& column_type(const TableState& state, std::string_view column) {
    static const std::string kUnknown;
    auto it = state.columns.find(column);
    return it == state.columns.end() ? kUnknown : it->second;
  }

  void forget_columns() {
    for (auto& [name, state] : tables_) state.loaded = false;
  }

  // Maps a failed statement to the write's result; the transaction, if any, is rolled back and
  // what we know of the tables is read again next time.
  WriteResult fail(const SqlError& e, const std::string& what, const std::string& sql) {
    ErrorAction action = classify_error(e.sqlstate, e.message, e.connection_lost);
    forget_columns();
    if (action == ErrorAction::kRefresh) {
      for (auto& [name, state] : tables_) state.tag_ids.clear();
    }
    std::string text = what + " failed: " + e.message;
    if (!e.sqlstate.empty()) text += " (SQLSTATE " + e.sqlstate + ")";
    if (action == ErrorAction::kReconnect || !conn_->healthy()) {
      conn_.reset();
      return WriteResult::retry(text);
    }
    if (auto rollback = conn_->exec("ROLLBACK"); rollback && !conn_->healthy()) conn_.reset();
    if (action != ErrorAction::kReject) return WriteResult::retry(text);
    if (e.sqlstate.rfind("42", 0) == 0) {
      // The statement itself is wrong: worth a clear line of its own, with the statement.
      log_.error(text + "; the statement was: " + sql.substr(0, 1000));
    }
    return WriteResult::reject(text);
  }

  Logger& log_;
  std::string conninfo_;
  std::string schema_;
  bool tags_as_foreign_keys_;
  std::string tag_table_suffix_;
  bool foreign_tag_constraint_;
  std::vector<DdlTemplate> create_templates_, add_column_templates_;
  std::vector<DdlTemplate> tag_create_templates_, tag_add_column_templates_;
  std::string time_column_;
  std::string single_table_;        // empty: a table per measurement
  std::string measurement_column_;  // with single_table_
  std::string time_type_;
  bool with_time_zone_ = false;
  std::string uint64_type_;
  size_t tag_cache_size_ = 100000;

  std::unique_ptr<Connection> conn_;
  std::map<std::string, TableState> tables_;
  std::set<std::string> warned_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "postgresql";
  info.description = "Write metrics to PostgreSQL tables, one per measurement or one for all";
  info.options = kOptions;
  info.create_output = [](const PluginContext& ctx) {
    return std::make_unique<PostgresqlOutput>(ctx);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::postgresql
