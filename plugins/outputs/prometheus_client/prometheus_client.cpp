// Serves the latest value of every series in the Prometheus text format, for Prometheus to
// scrape (Telegraf's outputs.prometheus_client, metric_version 2).
#include "prometheus_client.hpp"

#include <chrono>
#include <mutex>
#include <vector>

#include "access.hpp"
#include "endpoint.hpp"
#include "metric_store.hpp"
#include "plugin/registry.hpp"

namespace sluice::outputs::prometheus_client {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"listen", OptionType::kString, "\":9273\"",
     "Address to listen on: host:port, :port (every IPv4 interface) or [v6]:port"},
    {"path", OptionType::kString, "/metrics", "Path to publish the metrics on"},
    {"metric_version", OptionType::kInt, "2",
     "Mapping of metrics to Prometheus names (only 2 is supported)"},
    {"expiration_interval", OptionType::kDuration, "60s",
     "Forget a series not updated for this long (0s: never)"},
    {"string_as_label", OptionType::kBool, "true", "Send string fields as labels"},
    {"export_timestamp", OptionType::kBool, "false", "Give each sample the metric's time"},
    {"basic_username", OptionType::kString, "", "HTTP basic authentication user name"},
    {"basic_password", OptionType::kString, "", "HTTP basic authentication password"},
    {"ip_range", OptionType::kStringList, "[]",
     "Client networks allowed to read, as CIDR (empty: all)"},
    {"tls_cert", OptionType::kString, "", "Serve HTTPS with this PEM certificate (chain)"},
    {"tls_key", OptionType::kString, "", "The PEM private key of tls_cert"},
    {"tls_allowed_cacerts", OptionType::kStringList, "[]",
     "Require client certificates signed by these CA files"},
    {"read_timeout", OptionType::kDuration, "10s", "Longest wait for a request to arrive"},
    {"write_timeout", OptionType::kDuration, "10s", "Longest wait for a response to be sent"},
};

constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

class PrometheusClient final : public Output {
 public:
  PrometheusClient(const PluginContext& ctx, TimeSource now)
      : log_(ctx.log), now_(std::move(now)), store_(store_options(ctx.options)) {
    const Options& o = ctx.options;
    auto listen = parse_listen(o.get_string("listen"));
    if (!listen) {
      throw OptionError("listen", "expected host:port, :port or [v6]:port, got \"" +
                                      o.get_string("listen") + "\"");
    }
    listen_ = *listen;
    path_ = o.get_string("path");
    if (path_.empty() || path_[0] != '/') {
      throw OptionError("path", "must start with '/', got \"" + path_ + "\"");
    }
    if (o.get_int("metric_version") != 2) {
      throw OptionError("metric_version", "only metric_version 2 is supported");
    }
    if (o.get_duration("expiration_interval").count() < 0) {
      throw OptionError("expiration_interval", "must not be negative");
    }
    username_ = o.get_string("basic_username");
    password_ = o.get_string("basic_password");
    if (username_.empty() != password_.empty()) {
      // Telegraf silently serves without authentication here; a half-set pair is a mistake.
      throw OptionError(username_.empty() ? "basic_username" : "basic_password",
                        "basic_username and basic_password must be set together");
    }
    for (const std::string& cidr : o.get_strings("ip_range")) {
      auto range = IpRange::parse(cidr);
      if (!range) throw OptionError("ip_range", "\"" + cidr + "\" is not an IP address or CIDR");
      ranges_.push_back(*range);
    }
    tls_.cert = o.get_string("tls_cert");
    tls_.key = o.get_string("tls_key");
    tls_.client_cas = o.get_strings("tls_allowed_cacerts");
    if (tls_.cert.empty() != tls_.key.empty()) {
      throw OptionError(tls_.cert.empty() ? "tls_cert" : "tls_key",
                        "tls_cert and tls_key must be set together");
    }
    if (tls_.cert.empty() && !tls_.client_cas.empty()) {
      throw OptionError("tls_allowed_cacerts", "needs tls_cert and tls_key");
    }
    read_timeout_ = o.get_duration("read_timeout");
    write_timeout_ = o.get_duration("write_timeout");
    if (read_timeout_.count() <= 0) throw OptionError("read_timeout", "must be longer than 0s");
    if (write_timeout_.count() <= 0) throw OptionError("write_timeout", "must be longer than 0s");
  }

  ~PrometheusClient() override { endpoint_.stop(); }

  WriteResult connect() override {
    std::string error = endpoint_.start(listen_, tls_, read_timeout_, write_timeout_,
                                        [this](const HttpRequest& r) { return handle(r); });
    if (!error.empty()) return WriteResult::retry(error);
    log_.info("serving metrics at " + std::string(tls_.cert.empty() ? "http" : "https") + "://" +
              listen_.text() + path_);
    return WriteResult::ok();
  }

  WriteResult write(std::span<const Metric> batch) override {
    std::lock_guard lock(mutex_);
    int64_t now = now_();
    store_.add(batch, now);
    // Also here, so memory is freed when nobody scrapes.
    store_.expire(now);
    return WriteResult::ok();
  }

  void close() override { endpoint_.stop(); }

 private:
  static StoreOptions store_options(const Options& o) {
    StoreOptions s;
    s.string_as_label = o.get_bool("string_as_label");
    s.export_timestamp = o.get_bool("export_timestamp");
    s.expiration_ns = o.get_duration("expiration_interval").count();
    return s;
  }

  HttpResponse handle(const HttpRequest& request) {
    HttpResponse response;
    if (!ranges_.empty()) {
      bool allowed = false;
      for (const IpRange& range : ranges_) allowed = allowed || range.contains(request.remote_addr);
      if (!allowed) {
        response.status = 403;
        response.body = "Forbidden\n";
        return response;
      }
    }
    if (!username_.empty() && !basic_auth_matches(request.authorization, username_, password_)) {
      response.status = 401;
      response.body = "Unauthorized\n";
      response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"sluice\"");
      return response;
    }
    if (request.path != path_) {
      response.status = 404;
      response.body = "Not found; the metrics are at " + path_ + "\n";
      return response;
    }
    if (request.method != "GET" && request.method != "HEAD") {
      response.status = 405;
      response.body = "Method not allowed\n";
      response.headers.emplace_back("Allow", "GET, HEAD");
      return response;
    }
    response.content_type = kContentType;
    std::lock_guard lock(mutex_);
    store_.expire(now_());
    response.body = store_.render();
    return response;
  }

  Logger& log_;
  TimeSource now_;
  ListenAddress listen_;
  std::string path_;
  std::string username_, password_;
  std::vector<IpRange> ranges_;
  TlsFiles tls_;
  std::chrono::nanoseconds read_timeout_{}, write_timeout_{};

  std::mutex mutex_;  // the store is written by write() and read by the server's threads
  MetricStore store_;
  HttpEndpoint endpoint_;  // last: stopped first, while the rest still exists
};

int64_t wall_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::unique_ptr<Output> create_output(const PluginContext& context, TimeSource now) {
  return std::make_unique<PrometheusClient>(context, std::move(now));
}

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "prometheus_client";
  info.description = "Serve metrics for Prometheus to scrape";
  info.options = kOptions;
  info.create_output = [](const PluginContext& ctx) { return create_output(ctx, wall_now); };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::prometheus_client
