// influxdb_listener: accepts writes of the InfluxDB 1.x HTTP API, as Telegraf's plugin of the
// same name, so that anything that writes to InfluxDB can write to sluice. POST /write (db,
// rp, precision; gzip bodies; partial writes answered as InfluxDB does), GET/HEAD /ping, and
// /query answering every statement with an empty result, so clients that create their database
// first go on to write.
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/http_listener.hpp"
#include "core/listener_support.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::influxdb_listener {
namespace {

constexpr std::string_view kVersion = "1.8.10";

const std::vector<OptionSpec> kOptions = {
    {"service_address", OptionType::kString, ":8186", "Address to listen on, host:port"},
    {"read_timeout", OptionType::kDuration, "10s", "Longest wait for a request to arrive"},
    {"write_timeout", OptionType::kDuration, "10s", "Longest wait for an answer to be sent"},
    {"max_body_size", OptionType::kSize, "32MiB",
     "Largest request body, after gzip is undone; larger ones get 413. 0: 32MiB"},
    {"database_tag", OptionType::kString, "",
     "Tag that receives the write's db parameter; empty: none"},
    {"retention_policy_tag", OptionType::kString, "",
     "Tag that receives the write's rp parameter; empty: none"},
    {"basic_username", OptionType::kString, "", "User that writes must authenticate as"},
    {"basic_password", OptionType::kString, "", "Its password"},
    {"tls_cert", OptionType::kString, "", "Server certificate (PEM) for HTTPS"},
    {"tls_key", OptionType::kString, "", "Server private key (PEM)"},
    {"tls_allowed_cacerts", OptionType::kStringList, "",
     "CA files; when set, clients must present a certificate signed by one (mutual TLS)"},
};

// What InfluxDB 1.x's precision parameter maps to.
struct Precision {
  size_t parser = 0;       // index into core::LinePrecisionParsers::kPrecisions
  int64_t multiplier = 1;  // for m and h, which the parser lacks
};

std::optional<Precision> precision_of(const std::string& p) {
  if (p.empty() || p == "n" || p == "ns") return Precision{0, 1};
  if (p == "u" || p == "us" || p == "µ") return Precision{1, 1};
  if (p == "ms") return Precision{2, 1};
  if (p == "s") return Precision{3, 1};
  if (p == "m") return Precision{3, 60};
  if (p == "h") return Precision{3, 3600};
  return std::nullopt;
}

core::HttpListenerResponse json(int status, const nlohmann::json& body) {
  core::HttpListenerResponse r;
  r.status = status;
  // Bad lines are quoted in messages and may hold any bytes: replace what is not UTF-8.
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.content_type = "application/json";
  return r;
}

core::HttpListenerResponse error(int status, const std::string& message) {
  core::HttpListenerResponse r = json(status, {{"error", message}});
  // A header carries printable ASCII only: a quoted bad line may hold anything.
  std::string header = message.substr(0, std::min<size_t>(message.find('\n'), 512));
  for (char& c : header) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  r.headers.emplace_back("X-Influxdb-Error", header);
  return r;
}

// Statements of a query, split on ';' outside quotes.
size_t count_statements(std::string_view q) {
  size_t n = 0;
  bool content = false;
  char quote = 0;
  for (char c : q) {
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
      content = true;
    } else if (c == ';') {
      n += content ? 1 : 0;
      content = false;
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      content = true;
    }
  }
  return n + (content ? 1 : 0);
}

class InfluxdbListener final : public ServiceInput {
 public:
  explicit InfluxdbListener(const PluginContext& ctx)
      : options_(ctx.options),
        log_(ctx.log),
        http_(core::read_http_listener_options(options_, 32 << 20)),
        database_tag_(options_.get_string("database_tag")),
        retention_policy_tag_(options_.get_string("retention_policy_tag")),
        user_(options_.get_string("basic_username")),
        password_(options_.get_string("basic_password")),
        parsers_(options_, log_, "influxdb_listener") {}

  ~InfluxdbListener() override { stop(); }

  void start(Accumulator& acc) override {
    acc_ = &acc;
    server_.serve(
        http_, [this](const core::HttpListenerRequest& r) { return gate(r); },
        [this](core::HttpListenerRequest& r) { return handle(r); }, log_,
        [this](const std::string& why) { acc_->add_error(why); });
  }

  void stop() override { server_.stop(); }

 private:
  bool needs_auth(const std::string& path) const {
    return (!user_.empty() || !password_.empty()) && (path == "/write" || path == "/query");
  }

  std::optional<core::HttpListenerResponse> gate(const core::HttpListenerRequest& r) {
    if (!needs_auth(r.path) || core::credentials_match(r, user_, password_, true)) {
      return std::nullopt;
    }
    acc_->add_error(fmt::format("{}: authentication failed for {} {}", r.remote, r.method, r.path));
    core::HttpListenerResponse refusal = error(401, "authorization failed");
    refusal.headers.emplace_back("WWW-Authenticate", "Basic realm=\"sluice\"");
    return refusal;
  }

  core::HttpListenerResponse handle(core::HttpListenerRequest& r) {
    core::HttpListenerResponse out = route(r);
    out.headers.emplace_back("X-Influxdb-Version", std::string(kVersion));
    out.headers.emplace_back("X-Influxdb-Build", "OSS");
    return out;
  }

  core::HttpListenerResponse route(core::HttpListenerRequest& r) {
    if (r.path == "/write") {
      if (r.method != "POST") return error(405, "method not allowed: use POST");
      return write(r);
    }
    if (r.path == "/ping") {
      if (r.method != "GET" && r.method != "HEAD") return error(405, "method not allowed");
      if (r.param("verbose") == "true") return json(200, {{"version", kVersion}});
      return {204, "", "", {}};
    }
    if (r.path == "/query") {
      if (r.method != "GET" && r.method != "POST") return error(405, "method not allowed");
      std::string q = r.param("q");
      // A form-encoded POST carries q in its body.
      if (q.empty() && r.header("Content-Type").find("application/x-www-form-urlencoded") == 0) {
        size_t at = r.body.find("q=");
        if (at != std::string::npos) q = decode_form(r.body.substr(at + 2));
      }
      nlohmann::json results = nlohmann::json::array();
      size_t statements = std::max<size_t>(1, count_statements(q));
      for (size_t i = 0; i < statements; ++i) results.push_back({{"statement_id", i}});
      return json(200, {{"results", results}});
    }
    return error(404, "not found");
  }

  static std::string decode_form(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size() && text[i] != '&'; ++i) {
      if (text[i] == '+') {
        out.push_back(' ');
      } else if (text[i] == '%' && i + 2 < text.size()) {
        out.push_back(
            static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(text[i]);
      }
    }
    return out;
  }

  core::HttpListenerResponse write(core::HttpListenerRequest& r) {
    using Body = core::HttpListenerRequest::Body;
    if (r.body_state == Body::kTooLarge) {
      acc_->add_rejected(fmt::format("{}: request body larger than max_body_size ({} bytes)",
                                     r.remote, http_.max_body_size));
      return error(413, "http: request body too large");
    }
    if (r.body_state == Body::kUnreadable) {
      acc_->add_rejected(fmt::format("{}: {}", r.remote, r.body_error));
      return error(400, r.body_error);
    }
    std::optional<Precision> precision = precision_of(r.param("precision"));
    if (!precision) {
      return error(400,
                   "invalid precision \"" + r.param("precision") + "\" (use n, u, ms, s, m or h)");
    }
    core::LineWriteOptions options;
    options.source = r.remote;
    options.time_multiplier = precision->multiplier;
    if (!database_tag_.empty() && !r.param("db").empty()) {
      options.tags.emplace_back(database_tag_, r.param("db"));
    }
    if (!retention_policy_tag_.empty() && !r.param("rp").empty()) {
      options.tags.emplace_back(retention_policy_tag_, r.param("rp"));
    }
    core::LineWrite result;
    {
      auto parser = parsers_.lease(precision->parser);
      result = core::write_lines(*parser, r.body, *acc_, options);
    }
    if (result.dropped == 0) return {204, "", "", {}};
    std::string message;
    for (const std::string& f : result.failures) message += (message.empty() ? "" : "\n") + f;
    if (result.dropped > result.failures.size()) {
      message += fmt::format("\n... and {} more", result.dropped - result.failures.size());
    }
    if (result.written == 0) return error(400, message);
    return error(400, fmt::format("partial write: {} dropped={}", message, result.dropped));
  }

  Options options_;
  Logger& log_;
  core::HttpListenerOptions http_;
  std::string database_tag_;
  std::string retention_policy_tag_;
  std::string user_;
  std::string password_;
  core::LinePrecisionParsers parsers_;
  Accumulator* acc_ = nullptr;
  core::HttpListener server_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "influxdb_listener";
  info.description = "Accept writes of the InfluxDB 1.x HTTP API (/write, /ping, /query)";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<InfluxdbListener>(ctx);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::influxdb_listener
