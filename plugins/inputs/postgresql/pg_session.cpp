#include "pg_session.hpp"

#include <charconv>
#include <cstdlib>

#include "common/libpq_connect.hpp"

namespace sluice::inputs::postgresql {
namespace {

PGconn* pg(void* c) { return static_cast<PGconn*>(c); }

// Type OIDs from pg_type.
enum : Oid {
  kBool = 16,
  kInt8 = 20,
  kInt2 = 21,
  kInt4 = 23,
  kOid = 26,
  kXid = 28,
  kFloat4 = 700,
  kFloat8 = 701,
  kNumeric = 1700,
  kDate = 1082,
  kTime = 1083,
  kTimestamp = 1114,
  kTimestampTz = 1184,
  kInterval = 1186,
  kTimeTz = 1266,
};

std::optional<FieldValue> typed(Oid type, const char* text, int length) {
  std::string_view s(text, static_cast<size_t>(length));
  switch (type) {
    case kBool:
      return FieldValue(s == "t");
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid:
    case kXid: {
      int64_t v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) return FieldValue(v);
      return FieldValue(std::string(s));
    }
    case kFloat4:
    case kFloat8:
    case kNumeric: {
      double v = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && end == s.data() + s.size()) return FieldValue(v);
      return std::nullopt;  // NaN and Infinity have no place in a field
    }
    case kDate:
    case kTime:
    case kTimestamp:
    case kTimestampTz:
    case kInterval:
    case kTimeTz:
      return std::nullopt;
    default:
      return FieldValue(std::string(s));
  }
}

bool secret(const char* key) {
  std::string_view k(key);
  return k == "password" || k == "passfile" || k == "sslkey" || k == "sslpassword" ||
         k == "sslcert" || k == "sslrootcert" || k == "sslcrl" || k == "sslcrldir" ||
         k == "sslmode" || k == "requiressl" || k == "gssencmode" || k == "sslcompression";
}

}  // namespace

std::string sanitized_address(const std::string& conninfo, std::string& error) {
  char* message = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &message);
  if (options == nullptr) {
    error = message == nullptr ? "cannot be parsed" : plugins_common::libpq_one_line(message);
    if (message != nullptr) PQfreemem(message);
    return "";
  }
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || secret(o->keyword)) continue;
    if (!out.empty()) out += ' ';
    out += o->keyword;
    out += '=';
    out += o->val;
  }
  PQconninfoFree(options);
  return out;
}

Session::~Session() { disconnect(); }

void Session::disconnect() {
  if (conn_ != nullptr) PQfinish(pg(conn_));
  conn_ = nullptr;
}

bool Session::connected() const { return conn_ != nullptr && PQstatus(pg(conn_)) == CONNECTION_OK; }

std::string Session::ensure_connected() {
  if (connected()) return "";
  disconnect();
  std::string error;
  PGconn* c = plugins_common::libpq_connect(conninfo_, error);
  if (c == nullptr) return error;
  // Notices go nowhere rather than to the agent's stderr.
  PQsetNoticeProcessor(
      c, [](void*, const char*) {}, nullptr);
  conn_ = c;
  return "";
}

std::string Session::query(const std::string& sql, Result& out) {
  out = Result{};
  if (!connected()) return "not connected";
  PGresult* r = PQexec(pg(conn_), sql.c_str());
  ExecStatusType status = r == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    std::string error =
        plugins_common::libpq_one_line(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(pg(conn_)));
    if (error.empty()) error = plugins_common::libpq_one_line(PQerrorMessage(pg(conn_)));
    PQclear(r);
    if (PQstatus(pg(conn_)) != CONNECTION_OK) disconnect();
    return error.empty() ? "query failed" : error;
  }
  int rows = PQntuples(r), columns = PQnfields(r);
  out.rows = static_cast<size_t>(rows);
  for (int j = 0; j < columns; ++j) {
    Column c;
    c.name = PQfname(r, j);
    Oid type = PQftype(r, j);
    for (int i = 0; i < rows; ++i) {
      if (PQgetisnull(r, i, j)) {
        c.values.emplace_back(std::nullopt);
        c.text.emplace_back(std::nullopt);
        continue;
      }
      const char* v = PQgetvalue(r, i, j);
      int len = PQgetlength(r, i, j);
      c.values.push_back(typed(type, v, len));
      c.text.emplace_back(std::string(v, static_cast<size_t>(len)));
    }
    out.columns.push_back(std::move(c));
  }
  PQclear(r);
  return "";
}

std::string Session::database() const {
  const char* db = conn_ == nullptr ? nullptr : PQdb(pg(conn_));
  return db == nullptr ? "" : db;
}

int Session::server_version() const { return conn_ == nullptr ? 0 : PQserverVersion(pg(conn_)); }

std::string Session::quote_literal(const std::string& text) const {
  if (conn_ != nullptr) {
    char* q = PQescapeLiteral(pg(conn_), text.data(), text.size());
    if (q != nullptr) {
      std::string s(q);
      PQfreemem(q);
      return s;
    }
  }
  std::string s = "'";
  for (char c : text) {
    if (c == '\'') s.push_back('\'');
    s.push_back(c);
  }
  return s + "'";
}

}  // namespace sluice::inputs::postgresql
