// A throwaway PostgreSQL server for integration tests: initdb in a temporary folder, pg_ctl on
// 127.0.0.1 with a port chosen at run time, trust authentication, and psql to read back. The
// server refuses to run as root, so as root every server command runs as the `postgres` user.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/net.hpp"
#include "support/process.hpp"

namespace sluice::testing {

// Quotes a word for sh -c.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

// The folder with initdb, pg_ctl and postgres: PostgreSQL 15 (Debian 12's), or else the newest.
inline std::string postgres_bin_dir() {
  const std::filesystem::path root = "/usr/lib/postgresql";
  if (std::filesystem::exists(root / "15" / "bin" / "initdb"))
    return (root / "15" / "bin").string();
  std::string best;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    if (std::filesystem::exists(entry.path() / "bin" / "initdb")) {
      std::string bin = (entry.path() / "bin").string();
      if (bin > best) best = bin;
    }
  }
  return best;
}

class PostgresServer {
 public:
  PostgresServer() : dir_("pg"), port_(free_port()), bin_(postgres_bin_dir()) {
    if (bin_.empty()) {
      error_ = "no PostgreSQL server under /usr/lib/postgresql (install the postgresql package)";
      return;
    }
    if (geteuid() == 0) {
      CommandResult chown = run_command("chown -R postgres:postgres " + shell_quote(dir_.path()));
      if (chown.exit_code != 0) {
        error_ = "chown failed: " + chown.output;
        return;
      }
    }
    CommandResult init = as_server_user(bin_ + "/initdb -D " + shell_quote(data_dir()) +
                                        " -A trust -U postgres -E UTF8 --locale=C --no-sync");
    if (init.exit_code != 0) {
      error_ = "initdb failed: " + init.output;
      return;
    }
    if (!start()) error_ = "the server did not start: " + read_text(dir_ / "server.log");
  }

  ~PostgresServer() {
    if (running_) stop("immediate");
  }

  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // "" when the server runs, else why not.
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  std::string conninfo() const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  }

  // pg_ctl start, waiting (at most 60 s) until connections are accepted.
  bool start() {
    std::string options = "-p " + std::to_string(port_) + " -k " + dir_.path().string() +
                          " -c listen_addresses=127.0.0.1 -c fsync=off"
                          " -c synchronous_commit=off -c full_page_writes=off";
    CommandResult r = as_server_user(bin_ + "/pg_ctl -D " + shell_quote(data_dir()) + " -l " +
                                     shell_quote(dir_ / "server.log") + " -w -t 60 -o " +
                                     shell_quote(options) + " start");
    running_ = r.exit_code == 0 && wait_for_port(port_, 30);
    return running_;
  }

  // pg_ctl stop: "fast" ends sessions and shuts down cleanly, "immediate" is a crash.
  bool stop(const std::string& mode = "fast") {
    CommandResult r = as_server_user(bin_ + "/pg_ctl -D " + shell_quote(data_dir()) + " -m " +
                                     mode + " -w -t 60 stop");
    running_ = false;
    return r.exit_code == 0;
  }

  // Runs SQL with psql (unaligned, tuples only); the output without its last newline.
  CommandResult psql(const std::string& sql) const {
    CommandResult r =
        run_command("psql -X -h 127.0.0.1 -p " + std::to_string(port_) +
                    " -U postgres -d postgres -At -v ON_ERROR_STOP=1 -c " + shell_quote(sql));
    while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
    return r;
  }
  // The output of a query that must succeed ("psql failed: ..." otherwise, which no expected
  // value equals).
  std::string query(const std::string& sql) const {
    CommandResult r = psql(sql);
    return r.exit_code == 0 ? r.output : "psql failed: " + r.output;
  }

 private:
  std::string data_dir() const { return dir_ / "data"; }
  CommandResult as_server_user(const std::string& command) const {
    return run_command(geteuid() == 0 ? "runuser -u postgres -- " + command : command);
  }

  TempDir dir_;
  int port_;
  std::string bin_;
  bool running_ = false;
  std::string error_;
};

}  // namespace sluice::testing
