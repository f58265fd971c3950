// An InfluxDB 1.x server (Debian's influxd) for tests: its own folder, config and ports on
// 127.0.0.1, started, killed and restarted on the same data by the test; and reading back
// through its InfluxQL HTTP API with curl.
#pragma once

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/net.hpp"
#include "support/process.hpp"

namespace sluice::testing {

inline bool influxd_available() { return run_command("command -v influxd").exit_code == 0; }

// Quotes a string for sh, as one word.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

class Influxd {
 public:
  explicit Influxd(const std::string& name = "influxd")
      : dir_(name), http_port_(free_port()), rpc_port_(free_port()) {
    std::ofstream(dir_ / "influxd.conf")
        << "reporting-disabled = true\n"
        << "bind-address = \"127.0.0.1:" << rpc_port_ << "\"\n"
        << "[meta]\n  dir = \"" << (dir_ / "meta") << "\"\n"
        << "[data]\n  dir = \"" << (dir_ / "data") << "\"\n  wal-dir = \"" << (dir_ / "wal")
        << "\"\n  query-log-enabled = false\n"
        << "[http]\n  enabled = true\n  bind-address = \"127.0.0.1:" << http_port_
        << "\"\n  log-enabled = false\n"
        << "[monitor]\n  store-enabled = false\n"
        << "[continuous_queries]\n  enabled = false\n"
        << "[[udp]]\n  enabled = false\n"
        << "[[graphite]]\n  enabled = false\n";
  }
  ~Influxd() { kill_hard(); }

  // Starts influxd and waits until it answers /ping. The log goes to influxd.log (appended, so
  // a restart keeps the story).
  bool start(double seconds = 30) {
    process_ = std::make_unique<BackgroundProcess>("influxd -config " +
                                                   shell_quote(dir_ / "influxd.conf") + " >>" +
                                                   shell_quote(dir_ / "influxd.log") + " 2>&1");
    if (!process_->started() || !wait_for_port(http_port_, seconds)) return false;
    for (int i = 0; i < 200; ++i) {
      if (run_command("curl -s -o /dev/null -w '%{http_code}' " + url() + "/ping").output ==
          "204") {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // SIGKILL: no chance to flush anything; what it acknowledged is in its WAL.
  void kill_hard() {
    if (!process_) return;
    process_->signal(SIGKILL);
    process_->wait_exit(10);
    process_.reset();
  }

  bool running() { return process_ && process_->running(); }
  int port() const { return http_port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_port_); }
  std::string log() const { return read_text(dir_ / "influxd.log"); }

  // Runs an InfluxQL statement through GET /query (epoch=ns) with curl; the parsed answer, or
  // null when curl or the JSON failed.
  nlohmann::json query(const std::string& database, const std::string& statement) const {
    CommandResult r =
        run_command("curl -sS -G " + shell_quote(url() + "/query") + " --data-urlencode " +
                    shell_quote("db=" + database) + " --data-urlencode epoch=ns --data-urlencode " +
                    shell_quote("q=" + statement));
    if (r.exit_code != 0) return nullptr;
    return nlohmann::json::parse(r.output, nullptr, false);
  }

  // The rows of the first series of a SELECT: column name -> values, one row each.
  std::vector<std::map<std::string, nlohmann::json>> rows(const std::string& database,
                                                          const std::string& statement) const {
    std::vector<std::map<std::string, nlohmann::json>> out;
    nlohmann::json answer = query(database, statement);
    if (!answer.is_object()) return out;
    for (const auto& result : answer.value("results", nlohmann::json::array())) {
      for (const auto& series : result.value("series", nlohmann::json::array())) {
        const auto& columns = series["columns"];
        for (const auto& values : series["values"]) {
          std::map<std::string, nlohmann::json> row;
          for (size_t i = 0; i < columns.size(); ++i) row[columns[i]] = values[i];
          out.push_back(std::move(row));
        }
      }
    }
    return out;
  }

  // The number of points of `measurement` (counted on `field`), 0 when there are none.
  int64_t count(const std::string& database, const std::string& measurement,
                const std::string& field) const {
    auto r = rows(database, "SELECT count(\"" + field + "\") FROM \"" + measurement + "\"");
    if (r.empty() || !r[0]["count"].is_number()) return 0;
    return r[0]["count"].get<int64_t>();
  }

  // SHOW FIELD KEYS: field name -> InfluxDB type (float, integer, unsigned, boolean, string).
  std::map<std::string, std::string> field_types(const std::string& database,
                                                 const std::string& measurement) const {
    std::map<std::string, std::string> out;
    for (auto& row : rows(database, "SHOW FIELD KEYS FROM \"" + measurement + "\"")) {
      out[row["fieldKey"].get<std::string>()] = row["fieldType"].get<std::string>();
    }
    return out;
  }

 private:
  TempDir dir_;
  int http_port_;
  int rpc_port_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace sluice::testing
