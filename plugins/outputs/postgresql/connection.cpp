#include "connection.hpp"

#include <algorithm>

#include "common/libpq_connect.hpp"

namespace sluice::outputs::postgresql {
namespace {

PGconn* pg(void* conn) { return static_cast<PGconn*>(conn); }

std::string connection_message(PGconn* conn) {
  std::string s = plugins_common::libpq_one_line(PQerrorMessage(conn));
  return s.empty() ? "unknown libpq error" : s;
}

struct ResultGuard {
  PGresult* result;
  ~ResultGuard() { PQclear(result); }
};

}  // namespace

Connection::Connection(void* conn, std::function<void(std::string_view)> notice)
    : conn_(conn),
      notice_(std::make_unique<std::function<void(std::string_view)>>(std::move(notice))) {
  PQsetNoticeProcessor(
      pg(conn_),
      [](void* arg, const char* message) {
        auto* fn = static_cast<std::function<void(std::string_view)>*>(arg);
        if (*fn) (*fn)(plugins_common::libpq_one_line(message));
      },
      notice_.get());
}

Connection::~Connection() { PQfinish(pg(conn_)); }

std::unique_ptr<Connection> Connection::open(const std::string& conninfo,
                                             std::function<void(std::string_view)> notice,
                                             std::string& error) {
  PGconn* conn = plugins_common::libpq_connect(conninfo, error);
  if (conn == nullptr) return nullptr;
  return std::unique_ptr<Connection>(new Connection(conn, std::move(notice)));
}

bool Connection::healthy() const { return PQstatus(pg(conn_)) == CONNECTION_OK; }

std::string Connection::describe() const {
  PGconn* c = pg(conn_);
  auto field = [](const char* v) { return std::string(v == nullptr ? "" : v); };
  return "host=" + field(PQhost(c)) + " port=" + field(PQport(c)) + " dbname=" + field(PQdb(c)) +
         " user=" + field(PQuser(c));
}

SqlError Connection::error_from(const void* result) const {
  const auto* r = static_cast<const PGresult*>(result);
  SqlError error;
  error.connection_lost = PQstatus(pg(conn_)) != CONNECTION_OK;
  if (r == nullptr) {
    error.message = connection_message(pg(conn_));
    return error;
  }
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
  const char* hint = PQresultErrorField(r, PG_DIAG_MESSAGE_HINT);
  const char* context = PQresultErrorField(r, PG_DIAG_CONTEXT);
  error.sqlstate = state == nullptr ? "" : state;
  error.message = primary != nullptr ? plugins_common::libpq_one_line(primary) : plugins_common::libpq_one_line(PQresultErrorMessage(r));
  if (error.message.empty()) error.message = connection_message(pg(conn_));
  if (detail != nullptr) error.message += "; " + plugins_common::libpq_one_line(detail);
  if (hint != nullptr) error.message += "; hint: " + plugins_common::libpq_one_line(hint);
  // For COPY the context names the line and column of the bad value.
  if (context != nullptr) error.message += " (" + plugins_common::libpq_one_line(context) + ")";
  return error;
}

std::optional<SqlError> Connection::exec(const std::string& sql) {
  ResultGuard r{PQexec(pg(conn_), sql.c_str())};
  ExecStatusType status = r.result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r.result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return std::nullopt;
  return error_from(r.result);
}

std::optional<SqlError> Connection::exec_params(const std::string& sql,
                                                const std::vector<const char*>& params,
                                                std::vector<Row>* rows) {
  ResultGuard r{PQexecParams(pg(conn_), sql.c_str(), static_cast<int>(params.size()), nullptr,
                             params.data(), nullptr, nullptr, 0)};
  ExecStatusType status = r.result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(r.result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return error_from(r.result);
  if (rows != nullptr) {
    rows->clear();
    int n = PQntuples(r.result), columns = PQnfields(r.result);
    for (int i = 0; i < n; ++i) {
      Row row;
      for (int j = 0; j < columns; ++j) {
        if (PQgetisnull(r.result, i, j)) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(std::string(PQgetvalue(r.result, i, j),
                                       static_cast<size_t>(PQgetlength(r.result, i, j))));
        }
      }
      rows->push_back(std::move(row));
    }
  }
  return std::nullopt;
}

std::optional<SqlError> Connection::copy_in(const std::string& sql, std::string_view data) {
  PGconn* c = pg(conn_);
  {
    ResultGuard r{PQexec(c, sql.c_str())};
    if (r.result == nullptr || PQresultStatus(r.result) != PGRES_COPY_IN) {
      return error_from(r.result);
    }
  }
  constexpr size_t kChunk = 1 << 20;
  bool sent = true;
  for (size_t pos = 0; pos < data.size() && sent; pos += kChunk) {
    size_t n = std::min(kChunk, data.size() - pos);
    sent = PQputCopyData(c, data.data() + pos, static_cast<int>(n)) == 1;
  }
  std::optional<SqlError> error;
  if (!sent || PQputCopyEnd(c, nullptr) != 1) error = error_from(nullptr);
  // Drain every result, so the connection is ready for the next command; the first error wins.
  for (int i = 0; i < 1000; ++i) {
    PGresult* result = PQgetResult(c);
    if (result == nullptr) break;
    ResultGuard guard{result};
    if (PQresultStatus(result) != PGRES_COMMAND_OK && !error) error = error_from(result);
    if (PQstatus(c) != CONNECTION_OK) break;
  }
  return error;
}

std::string Connection::quote_identifier(std::string_view name) {
  char* quoted = PQescapeIdentifier(pg(conn_), name.data(), name.size());
  if (quoted == nullptr) {
    // Only when the name is not valid in the client encoding; the server would refuse it too.
    std::string s = "\"";
    for (char ch : name) {
      if (ch == '"') s.push_back('"');
      s.push_back(ch);
    }
    return s + "\"";
  }
  std::string s(quoted);
  PQfreemem(quoted);
  return s;
}

std::string Connection::quote_literal(std::string_view text) {
  char* quoted = PQescapeLiteral(pg(conn_), text.data(), text.size());
  if (quoted == nullptr) return "''";
  std::string s(quoted);
  PQfreemem(quoted);
  return s;
}

}  // namespace sluice::outputs::postgresql
