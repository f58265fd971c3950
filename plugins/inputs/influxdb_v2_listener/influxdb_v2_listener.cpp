// influxdb_v2_listener: accepts writes of the InfluxDB 2.x HTTP API, as Telegraf's plugin of the
// same name. POST /api/v2/write (org, bucket, precision; gzip; a token checked when set; partial
// writes keep the good lines and answer 400 as InfluxDB 2 does), GET /health and /ready.
#include <fmt/format.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/http_listener.hpp"
#include "core/listener_support.hpp"
#include "core/tls_server.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::influxdb_v2_listener {
namespace {

constexpr std::string_view kVersion = "2.7.1";

const std::vector<OptionSpec> kOptions = {
    {"service_address", OptionType::kString, ":8086", "Address to listen on, host:port"},
    {"read_timeout", OptionType::kDuration, "10s", "Longest wait for a request to arrive"},
    {"write_timeout", OptionType::kDuration, "10s", "Longest wait for an answer to be sent"},
    {"max_body_size", OptionType::kSize, "32MiB",
     "Largest request body, after gzip is undone; larger ones get 413. 0: 32MiB"},
    {"bucket_tag", OptionType::kString, "",
     "Tag that receives the write's bucket parameter; empty: none"},
    {"token", OptionType::kString, "",
     "When set, writes must carry \"Authorization: Token <token>\""},
    {"tls_cert", OptionType::kString, "", "Server certificate (PEM) for HTTPS"},
    {"tls_key", OptionType::kString, "", "Server private key (PEM)"},
    {"tls_allowed_cacerts", OptionType::kStringList, "",
     "CA files; when set, clients must present a certificate signed by one (mutual TLS)"},
};

// The index into core::LinePrecisionParsers::kPrecisions of the write's precision parameter.
std::optional<size_t> precision_of(const std::string& p) {
  if (p.empty() || p == "ns") return 0;
  if (p == "us") return 1;
  if (p == "ms") return 2;
  if (p == "s") return 3;
  return std::nullopt;
}

core::HttpListenerResponse json(int status, const nlohmann::json& body) {
  core::HttpListenerResponse r;
  r.status = status;
  // Bad lines are quoted in messages and may hold any bytes: replace what is not UTF-8.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.content_type = "application/json; charset=utf-8";
  return r;
}

core::HttpListenerResponse problem(int status, std::string_view code, const std::string& message) {
  return json(status, {{"code", code}, {"message", message}});
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

class InfluxdbV2Listener final : public ServiceInput {
 public:
  explicit InfluxdbV2Listener(const PluginContext& ctx)
      : options_(ctx.options),
        log_(ctx.log),
        http_(core::read_http_listener_options(options_, 32 << 20)),
        bucket_tag_(options_.get_string("bucket_tag")),
        token_(options_.get_string("token")),
        parsers_(options_, log_, "influxdb_v2_listener") {}

  ~InfluxdbV2Listener() override { stop(); }

  void start(Accumulator& acc) override {
    acc_ = &acc;
    started_ = std::chrono::system_clock::now();
    server_.serve(
        http_, [this](const core::HttpListenerRequest& r) { return gate(r); },
        [this](core::HttpListenerRequest& r) { return handle(r); }, log_,
        [this](const std::string& why) { acc_->add_error(why); });
  }

  void stop() override { server_.stop(); }

 private:
  std::optional<core::HttpListenerResponse> gate(const core::HttpListenerRequest& r) {
    if (token_.empty() || r.path != "/api/v2/write") return std::nullopt;
    std::string auth = r.header("Authorization");
    std::string given;
    for (std::string_view scheme : {"Token ", "Bearer "}) {
      if (auth.size() > scheme.size() && auth.compare(0, scheme.size(), scheme) == 0) {
        given = auth.substr(scheme.size());
      }
    }
    if (!given.empty() && core::secrets_equal(given, token_)) return std::nullopt;
    acc_->add_error(fmt::format("{}: authentication failed for {} {}", r.remote, r.method, r.path));
    return problem(401, "unauthorized", "unauthorized access");
  }

  core::HttpListenerResponse handle(core::HttpListenerRequest& r) {
    core::HttpListenerResponse out = route(r);
    out.headers.emplace_back("X-Influxdb-Version", std::string(kVersion));
    out.headers.emplace_back("X-Influxdb-Build", "OSS");
    return out;
  }

  core::HttpListenerResponse route(core::HttpListenerRequest& r) {
    if (r.path == "/api/v2/write") {
      if (r.method != "POST") return problem(405, "method not allowed", "use POST");
      return write(r);
    }
    if (r.path == "/health") {
      return json(200, {{"name", "influxdb"},
                        {"message", "ready for queries and writes"},
                        {"status", "pass"},
                        {"checks", nlohmann::json::array()},
                        {"version", kVersion},
                        {"commit", "sluice"}});
    }
    if (r.path == "/ready") {
      auto up = std::chrono::system_clock::now() - started_;
      return json(
          200, {{"status", "ready"},
                {"started", rfc3339(started_)},
                {"up", fmt::format("{}s",
                                   std::chrono::duration_cast<std::chrono::seconds>(up).count())}});
    }
    if (r.path == "/ping") return {204, "", "", {}};
    return problem(404, "not found", "path not found");
  }

  core::HttpListenerResponse write(core::HttpListenerRequest& r) {
    using Body = core::HttpListenerRequest::Body;
    if (r.body_state == Body::kTooLarge) {
      acc_->add_rejected(fmt::format("{}: request body larger than max_body_size ({} bytes)",
                                     r.remote, http_.max_body_size));
      return problem(
          413, "request too large",
          fmt::format("unable to read data: request body over {} bytes", http_.max_body_size));
    }
    if (r.body_state == Body::kUnreadable) {
      acc_->add_rejected(fmt::format("{}: {}", r.remote, r.body_error));
      return problem(400, "invalid", r.body_error);
    }
    std::optional<size_t> precision = precision_of(r.param("precision"));
    if (!precision) {
      return problem(400, "invalid",
                     "invalid precision \"" + r.param("precision") + "\" (use ns, us, ms or s)");
    }
    core::LineWriteOptions options;
    options.source = r.remote;
    if (!bucket_tag_.empty() && !r.param("bucket").empty()) {
      options.tags.emplace_back(bucket_tag_, r.param("bucket"));
    }
    core::LineWrite result;
    {
      auto parser = parsers_.lease(*precision);
      result = core::write_lines(*parser, r.body, *acc_, options);
    }
    if (result.dropped == 0) return {204, "", "", {}};
    std::string message;
    for (const std::string& f : result.failures) message += (message.empty() ? "" : "; ") + f;
    if (result.dropped > result.failures.size()) {
      message += fmt::format("; ... and {} more", result.dropped - result.failures.size());
    }
    if (result.written > 0) {
      message = fmt::format("partial write: {} of {} lines dropped: {}", result.dropped,
                            result.dropped + result.written, message);
    }
    return problem(400, "invalid", message);
  }

  Options options_;
  Logger& log_;
  core::HttpListenerOptions http_;
  std::string bucket_tag_;
  std::string token_;
  core::LinePrecisionParsers parsers_;
  Accumulator* acc_ = nullptr;
  std::chrono::system_clock::time_point started_;
  core::HttpListener server_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "influxdb_v2_listener";
  info.description = "Accept writes of the InfluxDB 2.x HTTP API (/api/v2/write, /health)";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<InfluxdbV2Listener>(ctx);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::influxdb_v2_listener
