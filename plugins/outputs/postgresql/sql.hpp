// The SQL side of the postgresql output, without a connection: column types and which values
// a column accepts, the COPY text format, identifier limits, tag ids, and the DDL templates.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/metric.hpp"

namespace sluice::outputs::postgresql {

// PostgreSQL truncates longer identifiers (NAMEDATALEN - 1); names are cut to this many bytes
// here, at a UTF-8 character boundary, so the names we look up are the names the server keeps.
constexpr size_t kMaxIdentifierBytes = 63;
std::string truncate_identifier(std::string_view name);
// The same without a copy: the part of `name` that PostgreSQL keeps.
std::string_view identifier_part(std::string_view name, size_t most = kMaxIdentifierBytes);

// The column type created for a field value. uint64_type is "numeric" (stored as
// numeric(20,0), which holds every uint64) or "uint8" (the pguint extension's type).
std::string column_type_for(const FieldValue& value, std::string_view uint64_type);

// Whether a column of type `column_type` (information_schema's data_type, or udt_name for
// user-defined types) takes a value of this kind. Integers go into any numeric column (the
// server still checks the range), floats into double precision, real and numeric, booleans
// into boolean, strings and tags into text-like ones.
bool column_accepts(std::string_view column_type, const FieldValue& value);
bool column_accepts_text(std::string_view column_type);

// COPY ... FROM STDIN in the text format: appends a value with backslash, tab, newline and
// carriage return escaped.
void append_copy_text(std::string& out, std::string_view text);
// Appends a field value: floats as the shortest text that reads back exactly (NaN, Infinity,
// -Infinity), integers in decimal, booleans as t/f, strings escaped.
void append_copy_value(std::string& out, const FieldValue& value);
// Appends a timestamp in ISO form with microseconds (PostgreSQL's resolution; nanoseconds are
// rounded toward the past), with "+00" when the column has a time zone.
void append_copy_timestamp(std::string& out, int64_t time_ns, bool with_time_zone);

// The id of a tag set in the tag table: 64-bit FNV-1a over the sorted key/value pairs, as a
// signed bigint. The same tags give the same id in every agent.
int64_t tag_id(std::span<const TagRef> tags);

// What to do about an error, from its SQLSTATE (empty when the error did not come from the
// server, e.g. a lost connection).
enum class ErrorAction {
  kReconnect,  // the connection is gone or unusable: drop it and retry
  kRetry,      // transient (deadlock, serialization failure, lack of resources): retry
  kRefresh,    // the table changed under us: forget cached columns and tag ids, retry
  kReject,     // the data or the statement is wrong: retrying cannot help
};
ErrorAction classify_error(std::string_view sqlstate, std::string_view message,
                           bool connection_lost);

// A DDL template in Telegraf's notation. Supported: {{ .table }}, {{ .table|quoteLiteral }},
// {{ .columns }}, {{ .columns|join "SEP" }}, {{ .metricTable }}, {{ .tagTable }} (with or
// without spaces inside the braces). Several statements may be separated by ';'.
class DdlTemplate {
 public:
  struct Context {
    std::string table;                 // quoted schema.table
    std::string table_literal;         // 'schema.table' as a string literal
    std::string metric_table;          // quoted
    std::string tag_table;             // quoted (the metric table when tags are columns)
    std::vector<std::string> columns;  // "name" type
  };

  // Throws std::invalid_argument naming the unsupported expression.
  explicit DdlTemplate(std::string_view text);
  std::string render(const Context& context) const;
  const std::string& text() const { return text_; }

 private:
  enum class Part {
    kText,
    kTable,
    kTableLiteral,
    kColumns,
    kColumnsJoined,
    kMetricTable,
    kTagTable
  };
  struct Piece {
    Part part;
    std::string text;  // literal text, or the join separator
  };
  std::string text_;
  std::vector<Piece> pieces_;
};

// A quoted identifier ("a""b"), as PQescapeIdentifier writes it; for tests and messages.
std::string quote_identifier(std::string_view name);

}  // namespace sluice::outputs::postgresql
