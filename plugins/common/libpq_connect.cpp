#include "common/libpq_connect.hpp"

namespace sluice::plugins_common {

std::string libpq_one_line(const char* text) {
  std::string s;
  for (const char* p = text == nullptr ? "" : text; *p != '\0'; ++p) {
    bool space = *p == '\n' || *p == '\t' || *p == ' ';
    if (!space) {
      s.push_back(*p);
    } else if (!s.empty() && s.back() != ' ') {
      s.push_back(' ');
    }
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

PGconn* libpq_connect(const std::string& conninfo, std::string& error) {
  // Our defaults first; the user's string (expanded from dbname) overrides them.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                        nullptr};
  const char* values[] = {"10", "sluice", "UTF8", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (conn == nullptr) {
    error = "out of memory";
    return nullptr;
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    error = libpq_one_line(PQerrorMessage(conn));
    if (error.empty()) error = "cannot connect";
    PQfinish(conn);
    return nullptr;
  }
  return conn;
}

std::string libpq_conninfo_problem(const std::string& conninfo) {
  char* message = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &message);
  if (options == nullptr) {
    std::string s = message == nullptr ? "cannot be parsed" : libpq_one_line(message);
    if (message != nullptr) PQfreemem(message);
    return s;
  }
  PQconninfoFree(options);
  return "";
}

}  // namespace sluice::plugins_common
