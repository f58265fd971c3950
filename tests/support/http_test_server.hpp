// A small HTTP server for tests of HTTP outputs, on cpp-httplib: listens on 127.0.0.1 at a port
// chosen by the kernel, records every request (method, path, query, headers, body with gzip
// undone) and answers as scripted: a queue of answers (429 with Retry-After, 503, 400, ...),
// 413 for bodies over a number of lines, else 204.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sluice::testing {

struct RecordedRequest {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // decoded when it came gzipped
  size_t wire_bytes = 0;                       // Content-Length: the body as sent
  int remote_port = 0;                         // the same for requests on one connection
  int answered = 0;                            // the status the server gave
  std::chrono::steady_clock::time_point at;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string param(const std::string& name) const {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
  }
  // The body's lines (without the '\n').
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < body.size()) {
      size_t end = body.find('\n', start);
      if (end == std::string::npos) end = body.size();
      out.push_back(body.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }
};

struct ScriptedAnswer {
  int status = 204;
  std::string body;
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds delay{0};  // wait this long before answering
};

class HttpTestServer {
 public:
  HttpTestServer() {
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res);
    };
    server_.Post(".*", handler);
    server_.Put(".*", handler);
    server_.Patch(".*", handler);
    // Inputs that poll (http, prometheus) ask with GET, and may DELETE.
    server_.Get(".*", handler);
    server_.Delete(".*", handler);
    server_.set_keep_alive_max_count(1000);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 2000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~HttpTestServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // Answers the next requests with these, in order, before the normal answers.
  void script(ScriptedAnswer answer) {
    std::lock_guard lock(mutex_);
    scripted_.push_back(std::move(answer));
  }
  void script(int status, std::map<std::string, std::string> headers = {}, std::string body = "") {
    script(ScriptedAnswer{status, std::move(body), std::move(headers), {}});
  }
  // Bodies of more lines than this get 413 (0: no limit).
  void set_max_lines(size_t lines) {
    std::lock_guard lock(mutex_);
    max_lines_ = lines;
  }

  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  // The requests answered with 2xx, in order.
  std::vector<RecordedRequest> accepted() const {
    std::lock_guard lock(mutex_);
    std::vector<RecordedRequest> out;
    for (const auto& r : requests_) {
      if (r.answered >= 200 && r.answered < 300) out.push_back(r);
    }
    return out;
  }
  // The lines of every accepted body, in order.
  std::vector<std::string> accepted_lines() const {
    std::vector<std::string> out;
    for (const auto& r : accepted()) {
      for (auto& line : r.lines()) out.push_back(std::move(line));
    }
    return out;
  }
  size_t request_count() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    RecordedRequest r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    for (const auto& [k, v] : req.headers) {
      std::string key = k;
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[key] = v;
    }
    // cpp-httplib (built with zlib) has already undone Content-Encoding: gzip.
    r.body = req.body;
    r.wire_bytes =
        std::stoul(r.header("content-length").empty() ? "0" : r.header("content-length"));
    r.remote_port = req.remote_port;
    r.at = std::chrono::steady_clock::now();
    ScriptedAnswer answer;
    {
      std::lock_guard lock(mutex_);
      if (!scripted_.empty()) {
        answer = scripted_.front();
        scripted_.pop_front();
      } else if (max_lines_ > 0 && r.lines().size() > max_lines_) {
        answer.status = 413;
        answer.body = "{\"code\":\"request too large\"}";
      }
      r.answered = answer.status;
      requests_.push_back(std::move(r));
    }
    if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
    res.status = answer.status;
    for (const auto& [k, v] : answer.headers) res.set_header(k, v);
    if (!answer.body.empty()) res.set_content(answer.body, "application/json");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::deque<ScriptedAnswer> scripted_;
  size_t max_lines_ = 0;
  std::vector<RecordedRequest> requests_;
};

}  // namespace sluice::testing
