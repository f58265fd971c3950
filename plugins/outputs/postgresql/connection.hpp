// A libpq connection with the few operations the output needs, every failure turned into a
// SqlError carrying the server's SQLSTATE and message.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::outputs::postgresql {

struct SqlError {
  std::string sqlstate;  // empty when the error is not the server's (e.g. the connection broke)
  std::string message;   // the server's primary message, with its detail and hint
  bool connection_lost = false;
};

using Row = std::vector<std::optional<std::string>>;

class Connection {
 public:
  // Connects with `conninfo` (a key=value string or a URI; "" uses the PG* environment
  // variables). `notice` receives the server's notices (e.g. "relation exists, skipping").
  // Returns nullptr and sets `error` when it cannot connect.
  static std::unique_ptr<Connection> open(const std::string& conninfo,
                                          std::function<void(std::string_view)> notice,
                                          std::string& error);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool healthy() const;
  // "host=... port=... dbname=... user=..." (never the password), for messages.
  std::string describe() const;

  // Runs statements that return nothing to keep.
  std::optional<SqlError> exec(const std::string& sql);
  // Runs one statement with text parameters (nullptr for NULL); rows go to `rows` if given.
  std::optional<SqlError> exec_params(const std::string& sql,
                                      const std::vector<const char*>& params,
                                      std::vector<Row>* rows = nullptr);
  // COPY ... FROM STDIN with `data` in the text format.
  std::optional<SqlError> copy_in(const std::string& sql, std::string_view data);

  // PQescapeIdentifier: "name" with inner quotes doubled, checked against the encoding.
  std::string quote_identifier(std::string_view name);
  // PQescapeLiteral: 'text' (E'...' where backslashes need it).
  std::string quote_literal(std::string_view text);

 private:
  explicit Connection(void* conn, std::function<void(std::string_view)> notice);
  SqlError error_from(const void* result) const;

  void* conn_;  // PGconn*, kept out of this header so libpq's stays private to the plugin
  std::unique_ptr<std::function<void(std::string_view)>> notice_;
};


}  // namespace sluice::outputs::postgresql
