// A throwaway Prometheus server (Debian's `prometheus`) for integration tests: a config in a
// temporary folder that scrapes given targets every second, its TSDB in that folder, its web
// API on 127.0.0.1 at a port chosen at run time; and small HTTP helpers to query it.
#pragma once

#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "support/net.hpp"
#include "support/process.hpp"

namespace sluice::testing {

inline bool prometheus_available() { return run_command("prometheus --version").exit_code == 0; }

// A GET on 127.0.0.1: status (-1 when nothing answered) and body.
struct HttpReply {
  int status = -1;
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  httplib::Headers headers;
};

inline HttpReply http_get(int port, const std::string& path, const httplib::Headers& headers = {}) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  HttpReply reply;
  if (auto res = client.Get(path, headers)) {
    reply.status = res->status;
    reply.body = res->body;
    reply.headers = res->headers;
  }
  return reply;
}

class PrometheusServer {
 public:
  // `scrape_configs` is YAML for the list under scrape_configs:, indented by two spaces, e.g.
  //   "  - job_name: sluice\n    static_configs: [{targets: ['127.0.0.1:9273']}]\n".
  // Files it names may be put in dir() before start().
  PrometheusServer() : dir_("prometheus"), port_(free_port()) {}
  ~PrometheusServer() { stop(); }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  const TempDir& dir() const { return dir_; }
  int port() const { return port_; }

  // Writes the config and starts the server; true once it reports ready (within 30 s).
  bool start(const std::string& scrape_configs) {
    std::ofstream(dir_ / "prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        << "scrape_configs:\n"
        << scrape_configs;
    process_ = std::make_unique<BackgroundProcess>(
        "prometheus --config.file=" + (dir_ / "prometheus.yml") + " --storage.tsdb.path=" +
        (dir_ / "data") + " --web.listen-address=127.0.0.1:" + std::to_string(port_) +
        " --log.level=warn > " + (dir_ / "prometheus.log") + " 2>&1");
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      if (!process_->running()) return false;
      if (http_get(port_, "/-/ready").status == 200) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  void stop() {
    if (process_ && process_->running()) {
      process_->signal(SIGTERM);
      if (process_->wait_exit(10) < 0) process_->signal(SIGKILL);
    }
    process_.reset();
  }

  std::string log() const { return read_text(dir_.path() / "prometheus.log"); }

  // The result vector of an instant query (an empty array when nothing matches or on error).
  nlohmann::json query(const std::string& promql) const {
    HttpReply reply =
        http_get(port_, "/api/v1/query?query=" + httplib::detail::encode_query_param(promql));
    if (reply.status != 200) return nlohmann::json::array();
    auto json = nlohmann::json::parse(reply.body, nullptr, false);
    if (json.is_discarded() || json.value("status", "") != "success") {
      return nlohmann::json::array();
    }
    return json["data"]["result"];
  }

  // Polls `promql` until it returns `count` series (at most `seconds`); the last result.
  nlohmann::json await(const std::string& promql, size_t count, double seconds = 30) const {
    nlohmann::json result = nlohmann::json::array();
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < until) {
      result = query(promql);
      if (result.size() == count) return result;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return result;
  }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace sluice::testing
