// A libpq connection for reading statistics: connect lazily, run a query, get typed rows, and
// say which server failed without ever showing the password.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sluice/metric.hpp"

namespace sluice::inputs::postgresql {

// One column of a result: its name and, per row, a value typed from the column's type (bigint
// -> int64, numeric/real -> double, boolean -> bool, text and the rest -> string); nullopt for
// NULL and for types with no field equivalent (timestamps, dates, intervals), whose text is in
// `text` instead.
struct Column {
  std::string name;
  std::vector<std::optional<FieldValue>> values;
  std::vector<std::optional<std::string>> text;
};

struct Result {
  size_t rows = 0;
  std::vector<Column> columns;
  const Column* find(const std::string& name) const {
    for (const Column& c : columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }
};

class Session {
 public:
  explicit Session(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Connects if not connected (or the connection broke); "" or the reason.
  std::string ensure_connected();
  void disconnect();
  bool connected() const;
  // Runs a query; "" or the server's message. A broken connection is closed, so the next
  // ensure_connected() connects again.
  std::string query(const std::string& sql, Result& out);
  // The database connected to, and the server's version number (150004 for 15.4).
  std::string database() const;
  int server_version() const;
  std::string quote_literal(const std::string& text) const;

 private:
  std::string conninfo_;
  void* conn_ = nullptr;  // PGconn*
};

// The connection string without secrets (password, sslkey, sslpassword ...), as key=value text
// in libpq's order: the `server` tag and the name used in messages. A URI is rendered as
// key=value too. "" when the string cannot be parsed, and then `error` says why.
std::string sanitized_address(const std::string& conninfo, std::string& error);

}  // namespace sluice::inputs::postgresql
