// Writes metrics to InfluxDB 2.x (or anything speaking its write API) over HTTP:
// POST /api/v2/write with an organization, a bucket and a token. Writes ahead: the next batch is
// serialized and compressed on the agent's thread while a sender thread posts the previous one.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "core/http_client.hpp"
#include "core/http_failover.hpp"
#include "core/http_line_routing.hpp"
#include "core/http_options.hpp"
#include "core/http_result.hpp"
#include "core/http_url.hpp"
#include "core/routed_body_sender.hpp"
#include "plugin/registry.hpp"

namespace sluice::outputs::influxdb_v2 {
namespace {

const std::vector<OptionSpec> kOptions = core::with_http_client_options({
    {"urls", OptionType::kStringList, "[\"http://localhost:8086\"]",
     "InfluxDB URLs; on an error the next one is tried"},
    {"token", OptionType::kString, "", "API token, sent as Authorization: Token <token>"},
    {"organization", OptionType::kString, "", "Organization the bucket belongs to"},
    {"bucket", OptionType::kString, "", "Bucket to write to"},
    {"bucket_tag", OptionType::kString, "",
     "Tag whose value names the bucket (metrics without it go to bucket)"},
    {"exclude_bucket_tag", OptionType::kBool, "false", "Leave bucket_tag out of the lines"},
    {"timeout", OptionType::kDuration, "5s", "Time limit of each HTTP request (0s: none)"},
    {"user_agent", OptionType::kString, "", "User-Agent header (empty: sluice/<version>)"},
    {"http_headers", OptionType::kStringMap, "{}", "Extra headers sent with each request"},
    {"content_encoding", OptionType::kString, "gzip", "Body encoding of writes: gzip or identity"},
    {"influx_uint_support", OptionType::kBool, "false",
     "Write unsigned integers with the u suffix; otherwise as integers clipped to the int64 "
     "range"},
});

class InfluxDbV2Output final : public Output {
 public:
  explicit InfluxDbV2Output(const PluginContext& ctx) : log_(ctx.log) {
    const Options& o = ctx.options;
    urls_ = o.get_strings("urls");
    if (urls_.empty()) throw OptionError("urls", "needs at least one URL");
    for (const std::string& url : urls_) {
      if (!core::is_http_url(url)) {
        throw OptionError("urls", "\"" + url + "\" is not an http:// or https:// URL");
      }
    }
    organization_ = o.get_string("organization");
    routes_.push_back(
        {o.get_string("bucket_tag"), o.get_string("bucket"), o.get_bool("exclude_bucket_tag")});
    if (routes_[0].fallback.empty() && routes_[0].tag.empty()) {
      throw OptionError("bucket", "must name a bucket (or set bucket_tag)");
    }
    core::HttpClientOptions client = core::http_client_options(o, "http_headers");
    const std::string& token = o.get_string("token");
    if (!token.empty())
      client.headers.insert(client.headers.begin(), {"Authorization", "Token " + token});
    const bool gzip = core::RoutedBodySender::take_compression(client);
    client_ = std::make_unique<core::HttpClient>(std::move(client));
    lineproto::SerializeOptions serialize;
    serialize.uint_support = o.get_bool("influx_uint_support");
    sender_ = std::make_unique<core::RoutedBodySender>(
        routes_, serialize, gzip, [this](const std::vector<core::RoutedBody>& bodies) {
          return core::write_bodies_with_failover(
              bodies, urls_.size(), current_,
              [&](size_t i, const core::RoutedBody& body) { return post(i, body); }, log_);
        });
  }

  size_t max_writes_in_flight() const override { return core::RoutedBodySender::kMaxInFlight; }

  void start_write(std::span<const Metric> batch) override { sender_->start(batch); }
  WriteResult finish_write() override { return sender_->finish(); }
  WriteResult write(std::span<const Metric> batch) override {
    sender_->start(batch);
    return sender_->finish();
  }

 private:
  WriteResult post(size_t i, const core::RoutedBody& body) {
    const std::string& bucket = body.destination[0];
    core::HttpRequest request;
    request.url =
        core::with_query(core::join_url(urls_[i], "/api/v2/write"),
                         {{"org", organization_}, {"bucket", bucket}, {"precision", "ns"}});
    request.body = body.text;
    request.content_type = "text/plain; charset=utf-8";
    if (sender_->gzip()) request.headers.emplace_back("Content-Encoding", "gzip");
    core::HttpResponse response = client_->send(request);
    std::string what =
        fmt::format("writing {} metrics to bucket \"{}\" at {}", body.metrics, bucket, urls_[i]);
    if (response.status == 404) {
      return WriteResult::retry(
          fmt::format("{}: the organization or bucket does not exist (404): {}", what,
                      core::body_excerpt(response.body)));
    }
    return core::http_write_result(response, what);
  }

  Logger& log_;
  std::vector<std::string> urls_;
  std::string organization_;
  std::vector<core::RouteTag> routes_;  // bucket
  std::unique_ptr<core::HttpClient> client_;
  size_t current_ = 0;  // the URL that took the last write
  // Last: its sender thread joins before the state its posts use goes. It alone touches the
  // client and the URL state.
  std::unique_ptr<core::RoutedBodySender> sender_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "influxdb_v2";
  info.description = "Write metrics to InfluxDB 2.x through its /api/v2/write API";
  info.options = kOptions;
  info.create_output = [](const PluginContext& ctx) {
    return std::make_unique<InfluxDbV2Output>(ctx);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::influxdb_v2
