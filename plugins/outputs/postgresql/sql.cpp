#include "sql.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace sluice::outputs::postgresql {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Reads a Go string literal ("..." with escapes, or `...`) that is all of `text`.
bool parse_go_string(std::string_view text, std::string& out) {
  if (text.size() < 2) return false;
  char quote = text.front();
  if ((quote != '"' && quote != '`') || text.back() != quote) return false;
  std::string_view body = text.substr(1, text.size() - 2);
  out.clear();
  if (quote == '`') {
    if (body.find('`') != std::string_view::npos) return false;
    out = body;
    return true;
  }
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '"') return false;
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i == body.size()) return false;
    switch (body[i]) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case '\\':
      case '"':
        out.push_back(body[i]);
        break;
      default:
        return false;
    }
  }
  return true;
}

bool is_numeric_type(std::string_view t) {
  static constexpr std::array<std::string_view, 13> kTypes = {"double precision",
                                                              "real",
                                                              "numeric",
                                                              "bigint",
                                                              "integer",
                                                              "smallint",
                                                              "uint8",
                                                              "uint4",
                                                              "uint2",
                                                              "int8",
                                                              "int4",
                                                              "int2",
                                                              "float8"};
  for (std::string_view k : kTypes) {
    if (t == k) return true;
  }
  return t == "float4";
}

bool is_float_type(std::string_view t) {
  return t == "double precision" || t == "real" || t == "numeric" || t == "float8" || t == "float4";
}

// Days since 1970-01-01 to a civil date (proleptic Gregorian), after H. Hinnant's algorithm.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

void append_padded(std::string& out, int64_t value, int width) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  for (int n = static_cast<int>(end - buffer); n < width; ++n) out.push_back('0');
  out.append(buffer, end);
}

}  // namespace

std::string_view identifier_part(std::string_view name, size_t most) {
  if (name.size() <= most) return name;
  size_t cut = most;
  // Back up over continuation bytes so a character is never split.
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  return name.substr(0, cut);
}

std::string truncate_identifier(std::string_view name) {
  return std::string(identifier_part(name));
}

std::string column_type_for(const FieldValue& value, std::string_view uint64_type) {
  switch (value.index()) {
    case 0:
      return "double precision";
    case 1:
      return "bigint";
    case 2:
      return uint64_type == "uint8" ? "uint8" : "numeric(20,0)";
    case 3:
      return "boolean";
    default:
      return "text";
  }
}

bool column_accepts_text(std::string_view t) {
  return t == "text" || t == "character varying" || t == "character" || t == "varchar" ||
         t == "bpchar" || t == "citext" || t == "name";
}

bool column_accepts(std::string_view t, const FieldValue& value) {
  switch (value.index()) {
    case 0:
      return is_float_type(t);
    case 1:
    case 2:
      return is_numeric_type(t);
    case 3:
      return t == "boolean" || t == "bool";
    default:
      return column_accepts_text(t);
  }
}

void append_copy_text(std::string& out, std::string_view text) {
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char* escaped = nullptr;
    switch (text[i]) {
      case '\\':
        escaped = "\\\\";
        break;
      case '\t':
        escaped = "\\t";
        break;
      case '\n':
        escaped = "\\n";
        break;
      case '\r':
        escaped = "\\r";
        break;
      default:
        continue;
    }
    out.append(text.substr(start, i - start));
    out.append(escaped);
    start = i + 1;
  }
  out.append(text.substr(start));
}

void append_copy_value(std::string& out, const FieldValue& value) {
  char buffer[32];
  switch (value.index()) {
    case 0: {
      double d = std::get<double>(value);
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
      } else {
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);
        out.append(buffer, end);
      }
      break;
    }
    case 1: {
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, std::get<int64_t>(value));
      out.append(buffer, end);
      break;
    }
    case 2: {
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, std::get<uint64_t>(value));
      out.append(buffer, end);
      break;
    }
    case 3:
      out.push_back(std::get<bool>(value) ? 't' : 'f');
      break;
    default:
      append_copy_text(out, std::get<std::string>(value));
  }
}

void append_copy_timestamp(std::string& out, int64_t time_ns, bool with_time_zone) {
  constexpr int64_t kNsPerDay = 86'400'000'000'000;
  int64_t days = time_ns / kNsPerDay;
  int64_t rest = time_ns % kNsPerDay;
  if (rest < 0) {
    rest += kNsPerDay;
    --days;
  }
  int64_t year;
  unsigned month, day;
  civil_from_days(days, year, month, day);
  int64_t micros = rest / 1000;
  append_padded(out, year, 4);
  out.push_back('-');
  append_padded(out, month, 2);
  out.push_back('-');
  append_padded(out, day, 2);
  out.push_back(' ');
  append_padded(out, micros / 3'600'000'000, 2);
  out.push_back(':');
  append_padded(out, micros / 60'000'000 % 60, 2);
  out.push_back(':');
  append_padded(out, micros / 1'000'000 % 60, 2);
  out.push_back('.');
  append_padded(out, micros % 1'000'000, 6);
  if (with_time_zone) out += "+00";
}

int64_t tag_id(std::span<const TagRef> tags) {
  uint64_t hash = 14695981039346656037ull;
  auto mix = [&](std::string_view bytes) {
    for (char c : bytes) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 1099511628211ull;
    }
    hash *= 1099511628211ull;  // a 0 byte after each part (its xor changes nothing)
  };
  for (const TagRef& tag : tags) {
    mix(tag.key);
    mix(tag.value);
  }
  return static_cast<int64_t>(hash);
}

ErrorAction classify_error(std::string_view sqlstate, std::string_view message,
                           bool connection_lost) {
  if (connection_lost || sqlstate.size() != 5) return ErrorAction::kReconnect;
  std::string_view cls = sqlstate.substr(0, 2);
  if (cls == "08") return ErrorAction::kReconnect;  // connection exception
  if (cls == "25") return ErrorAction::kReconnect;  // invalid transaction state: start afresh
  if (cls == "40") return ErrorAction::kRetry;      // serialization failure, deadlock
  if (cls == "53") return ErrorAction::kRetry;      // insufficient resources (disk, connections)
  if (cls == "55") return ErrorAction::kRetry;      // lock not available, object in use
  if (cls == "58") return ErrorAction::kRetry;      // system error (I/O)
  if (cls == "57") {                                // operator intervention
    if (sqlstate == "57014") return ErrorAction::kRetry;  // query canceled
    return ErrorAction::kReconnect;  // admin shutdown, crash shutdown, cannot connect now
  }
  if (cls == "23") {
    // Two sessions creating the same table or column at once collide in a catalog index
    // (pg_type_typname_nsp_index, pg_attribute_relid_attnam_index, ...).
    if (sqlstate == "23505" && message.find("\"pg_") != std::string::npos) {
      return ErrorAction::kRetry;
    }
    if (sqlstate == "23503") return ErrorAction::kRefresh;  // a tag row went missing
    return ErrorAction::kReject;
  }
  if (cls == "42") {
    if (sqlstate == "42P01" || sqlstate == "42703") return ErrorAction::kRefresh;  // dropped
    // Another session added the same table or column first.
    if (sqlstate == "42P07" || sqlstate == "42701" || sqlstate == "42710") {
      return ErrorAction::kRetry;
    }
    return ErrorAction::kReject;
  }
  return ErrorAction::kReject;  // data exceptions (22), internal errors and anything else
}

DdlTemplate::DdlTemplate(std::string_view text) : text_(text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      pieces_.push_back({Part::kText, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) pieces_.push_back({Part::kText, std::string(text.substr(pos, open - pos))});
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw std::invalid_argument("a \"{{\" without \"}}\" in \"" + std::string(text) + "\"");
    }
    std::string_view expression = trim(text.substr(open + 2, close - open - 2));
    std::string_view base = expression;
    std::string_view filter;
    if (size_t bar = expression.find('|'); bar != std::string_view::npos) {
      base = trim(expression.substr(0, bar));
      filter = trim(expression.substr(bar + 1));
    }
    auto unsupported = [&] {
      return std::invalid_argument(
          "unsupported template expression {{ " + std::string(expression) +
          " }}; supported are .table, .table|quoteLiteral, .columns, .columns|join \"SEP\", "
          ".metricTable and .tagTable");
    };
    if (base == ".table" && filter.empty()) {
      pieces_.push_back({Part::kTable, ""});
    } else if (base == ".table" && filter == "quoteLiteral") {
      pieces_.push_back({Part::kTableLiteral, ""});
    } else if (base == ".metricTable" && filter.empty()) {
      pieces_.push_back({Part::kMetricTable, ""});
    } else if (base == ".tagTable" && filter.empty()) {
      pieces_.push_back({Part::kTagTable, ""});
    } else if (base == ".columns" && filter.empty()) {
      pieces_.push_back({Part::kColumns, ""});
    } else if (base == ".columns" && starts_with(filter, "join")) {
      std::string separator;
      if (!parse_go_string(trim(filter.substr(4)), separator)) throw unsupported();
      pieces_.push_back({Part::kColumnsJoined, separator});
    } else {
      throw unsupported();
    }
    pos = close + 2;
  }
}

std::string DdlTemplate::render(const Context& c) const {
  std::string out;
  auto join = [&](std::string_view separator) {
    for (size_t i = 0; i < c.columns.size(); ++i) {
      if (i > 0) out += separator;
      out += c.columns[i];
    }
  };
  for (const Piece& p : pieces_) {
    switch (p.part) {
      case Part::kText:
        out += p.text;
        break;
      case Part::kTable:
        out += c.table;
        break;
      case Part::kTableLiteral:
        out += c.table_literal;
        break;
      case Part::kMetricTable:
        out += c.metric_table;
        break;
      case Part::kTagTable:
        out += c.tag_table;
        break;
      case Part::kColumns:
        join(", ");
        break;
      case Part::kColumnsJoined:
        join(p.text);
        break;
    }
  }
  return out;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace sluice::outputs::postgresql
