// What the postgresql input and output share of libpq: its messages on one line, opening a
// connection with the agent's defaults, and checking a connection string before any connection.
#pragma once

#include <libpq-fe.h>

#include <string>

namespace sluice::plugins_common {

// The text on one line: libpq's messages span lines indented with tabs.
std::string libpq_one_line(const char* text);

// A connection with connect_timeout 10, application_name sluice and client_encoding UTF8, which
// the user's `conninfo` overrides. nullptr with `error` set when it fails.
PGconn* libpq_connect(const std::string& conninfo, std::string& error);

// Why `conninfo` cannot be read, or "" when it can.
std::string libpq_conninfo_problem(const std::string& conninfo);

}  // namespace sluice::plugins_common
