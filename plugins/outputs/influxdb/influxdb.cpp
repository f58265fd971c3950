// Writes metrics to InfluxDB 1.x over HTTP (POST /write, line protocol), failing over between
// several URLs and creating the database when it is missing. Writes ahead: the next batch is
// serialized and compressed on the agent's thread while a sender thread posts the previous one.
#include <fmt/format.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/http_client.hpp"
#include "core/http_failover.hpp"
#include "core/http_line_routing.hpp"
#include "core/http_options.hpp"
#include "core/http_result.hpp"
#include "core/http_url.hpp"
#include "core/routed_body_sender.hpp"
#include "database.hpp"
#include "plugin/registry.hpp"

namespace sluice::outputs::influxdb {
namespace {

const std::vector<OptionSpec> kOptions = core::with_http_client_options({
    {"urls", OptionType::kStringList, "[\"http://localhost:8086\"]",
     "InfluxDB URLs; on an error the next one is tried"},
    {"database", OptionType::kString, "telegraf", "Database to write to"},
    {"database_tag", OptionType::kString, "",
     "Tag whose value names the database (metrics without it go to database)"},
    {"exclude_database_tag", OptionType::kBool, "false", "Leave database_tag out of the lines"},
    {"skip_database_creation", OptionType::kBool, "false",
     "Never send CREATE DATABASE (for users without the right)"},
    {"retention_policy", OptionType::kString, "",
     "Retention policy to write to (empty: the database's default)"},
    {"retention_policy_tag", OptionType::kString, "", "Tag whose value names the retention policy"},
    {"exclude_retention_policy_tag", OptionType::kBool, "false",
     "Leave retention_policy_tag out of the lines"},
    {"write_consistency", OptionType::kString, "",
     "Write consistency for clusters: any, one, quorum or all (empty: not sent)"},
    {"timeout", OptionType::kDuration, "5s", "Time limit of each HTTP request (0s: none)"},
    {"username", OptionType::kString, "", "User name for HTTP basic authentication"},
    {"password", OptionType::kString, "", "Password for HTTP basic authentication"},
    {"user_agent", OptionType::kString, "", "User-Agent header (empty: sluice/<version>)"},
    {"http_headers", OptionType::kStringMap, "{}", "Extra headers sent with each request"},
    {"content_encoding", OptionType::kString, "gzip", "Body encoding of writes: gzip or identity"},
    {"influx_uint_support", OptionType::kBool, "false",
     "Write unsigned integers with the u suffix (InfluxDB 1.x needs it enabled); otherwise as "
     "integers clipped to the int64 range"},
});

class InfluxDbOutput final : public Output {
 public:
  explicit InfluxDbOutput(const PluginContext& ctx) : log_(ctx.log) {
    const Options& o = ctx.options;
    urls_ = o.get_strings("urls");
    if (urls_.empty()) throw OptionError("urls", "needs at least one URL");
    for (const std::string& url : urls_) {
      if (!core::is_http_url(url)) {
        throw OptionError("urls", "\"" + url + "\" is not an http:// or https:// URL");
      }
    }
    routes_.push_back({o.get_string("database_tag"), o.get_string("database"),
                       o.get_bool("exclude_database_tag")});
    routes_.push_back({o.get_string("retention_policy_tag"), o.get_string("retention_policy"),
                       o.get_bool("exclude_retention_policy_tag")});
    if (routes_[0].fallback.empty() && routes_[0].tag.empty()) {
      throw OptionError("database", "must name a database (or set database_tag)");
    }
    skip_creation_ = o.get_bool("skip_database_creation");
    consistency_ = o.get_string("write_consistency");
    if (!consistency_.empty() && consistency_ != "any" && consistency_ != "one" &&
        consistency_ != "quorum" && consistency_ != "all") {
      throw OptionError("write_consistency",
                        "expected any, one, quorum or all, got \"" + consistency_ + "\"");
    }
    core::HttpClientOptions client = core::http_client_options(o, "http_headers");
    const bool gzip = core::RoutedBodySender::take_compression(client);
    client.username = o.get_string("username");
    client.password = o.get_string("password");
    client_ = std::make_unique<core::HttpClient>(std::move(client));
    created_.resize(urls_.size());
    lineproto::SerializeOptions serialize;
    serialize.uint_support = o.get_bool("influx_uint_support");
    sender_ = std::make_unique<core::RoutedBodySender>(
        routes_, serialize, gzip, [this](const std::vector<core::RoutedBody>& bodies) {
          return core::write_bodies_with_failover(
              bodies, urls_.size(), current_,
              [&](size_t i, const core::RoutedBody& body) { return post(i, body); }, log_);
        });
  }

  // Creates the default database on the first URL that answers, so that a server that is down
  // at start is reported (and retried) before any write.
  WriteResult connect() override {
    const std::string& database = routes_[0].fallback;
    if (skip_creation_ || database.empty()) return WriteResult::ok();
    std::string errors;
    for (size_t k = 0; k < urls_.size(); ++k) {
      size_t i = (current_ + k) % urls_.size();
      std::string error = ensure_database(i, database);
      if (error.empty()) {
        current_ = i;
        return WriteResult::ok();
      }
      errors += (errors.empty() ? "" : "; ") + error;
    }
    return WriteResult::retry(errors);
  }

  size_t max_writes_in_flight() const override { return core::RoutedBodySender::kMaxInFlight; }

  void start_write(std::span<const Metric> batch) override { sender_->start(batch); }
  WriteResult finish_write() override { return sender_->finish(); }
  WriteResult write(std::span<const Metric> batch) override {
    sender_->start(batch);
    return sender_->finish();
  }

 private:
  // "" when the database exists (or cannot be created by this user, who may still write).
  std::string ensure_database(size_t i, const std::string& database) {
    if (skip_creation_ || created_[i].contains(database)) return {};
    CreateResult created = create_database(*client_, urls_[i], database);
    switch (created.outcome) {
      case CreateOutcome::kCreated:
        created_[i].insert(database);
        return {};
      case CreateOutcome::kNotPermitted:
        log_.warn(created.error + "; writing anyway (set skip_database_creation to silence)");
        created_[i].insert(database);
        return {};
      case CreateOutcome::kFailed:
        // A bad name, for instance: the write will say what is wrong with it.
        log_.error(created.error);
        created_[i].insert(database);
        return {};
      case CreateOutcome::kUnreachable:
        break;
    }
    return created.error;
  }

  WriteResult post(size_t i, const core::RoutedBody& body) {
    const std::string& database = body.destination[0];
    const std::string& policy = body.destination[1];
    if (std::string error = ensure_database(i, database); !error.empty()) {
      return WriteResult::retry(error);
    }
    core::HttpRequest request;
    request.url = core::with_query(
        core::join_url(urls_[i], "/write"),
        {{"db", database}, {"rp", policy}, {"precision", "ns"}, {"consistency", consistency_}});
    request.body = body.text;
    request.content_type = "text/plain; charset=utf-8";
    if (sender_->gzip()) request.headers.emplace_back("Content-Encoding", "gzip");
    core::HttpResponse response = client_->send(request);
    std::string what = fmt::format("writing {} metrics to database \"{}\" at {}", body.metrics,
                                   database, urls_[i]);
    if (is_database_not_found(response)) {
      created_[i].erase(database);
      if (skip_creation_) {
        return WriteResult::retry(
            fmt::format("{}: the database does not exist and skip_database_creation is set", what));
      }
      if (std::string error = ensure_database(i, database); !error.empty()) {
        return WriteResult::retry(error);
      }
      response = client_->send(request);
    }
    return core::http_write_result(response, what);
  }

  Logger& log_;
  std::vector<std::string> urls_;
  std::vector<core::RouteTag> routes_;  // database, retention policy
  bool skip_creation_ = false;
  std::string consistency_;
  std::unique_ptr<core::HttpClient> client_;
  std::vector<std::set<std::string>> created_;  // per URL: databases known to exist
  size_t current_ = 0;                          // the URL that took the last write
  // Last: its sender thread joins before the state its posts use goes. It alone touches the
  // client, the URL state and the databases known; connect() runs only while nothing is in
  // flight.
  std::unique_ptr<core::RoutedBodySender> sender_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "influxdb";
  info.description = "Write metrics to InfluxDB 1.x over HTTP";
  info.options = kOptions;
  info.create_output = [](const PluginContext& ctx) {
    return std::make_unique<InfluxDbOutput>(ctx);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::influxdb
