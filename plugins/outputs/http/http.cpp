// Sends metrics to any HTTP endpoint, serialized in a data format (influx or json), one request
// per batch (or per metric without use_batch_format).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/http_client.hpp"
#include "core/http_options.hpp"
#include "core/http_result.hpp"
#include "core/http_url.hpp"
#include "core/routed_body_sender.hpp"
#include "plugin/registry.hpp"
#include "plugin/format_factory.hpp"

namespace sluice::outputs::http {
namespace {

const std::vector<OptionSpec> kOptions = core::with_http_client_options({
    {"url", OptionType::kString, "http://127.0.0.1:8080/telegraf", "Where to send the metrics"},
    {"method", OptionType::kString, "POST", "HTTP method: POST, PUT or PATCH"},
    {"timeout", OptionType::kDuration, "5s", "Time limit of each HTTP request (0s: none)"},
    {"username", OptionType::kString, "", "User name for HTTP basic authentication"},
    {"password", OptionType::kString, "", "Password for HTTP basic authentication"},
    {"token", OptionType::kString, "", "Bearer token, sent as Authorization: Bearer <token>"},
    {"headers", OptionType::kStringMap, "{}", "Extra headers sent with each request"},
    {"user_agent", OptionType::kString, "", "User-Agent header (empty: sluice/<version>)"},
    {"content_encoding", OptionType::kString, "identity", "Body encoding: identity or gzip"},
    {"use_batch_format", OptionType::kBool, "true",
     "Send each batch in one request (false: one request per metric)"},
    {"non_retryable_statuscodes", OptionType::kStringList, "[]",
     "Status codes on which the metrics are dropped rather than retried, e.g. [409, 413]"},
});

bool has_header(const StringMap& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) {
    return std::equal(h.first.begin(), h.first.end(), name.begin(), name.end(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) ==
             std::tolower(static_cast<unsigned char>(b));
    });
  });
}

class HttpOutput final : public Output {
 public:
  explicit HttpOutput(const PluginContext& ctx) : serializer_(plugin::make_serializer(ctx)) {
    const Options& o = ctx.options;
    url_ = o.get_string("url");
    if (!core::is_http_url(url_)) {
      throw OptionError("url", "\"" + url_ + "\" is not an http:// or https:// URL");
    }
    method_ = o.get_string("method");
    std::transform(method_.begin(), method_.end(), method_.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (method_ != "POST" && method_ != "PUT" && method_ != "PATCH") {
      throw OptionError("method",
                        "expected POST, PUT or PATCH, got \"" + o.get_string("method") + "\"");
    }
    batch_format_ = o.get_bool("use_batch_format");
    for (const std::string& code : o.get_strings("non_retryable_statuscodes")) {
      int value = 0;
      auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
      if (ec != std::errc() || end != code.data() + code.size() || value < 100 || value > 599) {
        throw OptionError("non_retryable_statuscodes",
                          "\"" + code + "\" is not an HTTP status code (100 to 599)");
      }
      non_retryable_.insert(value);
    }
    core::HttpClientOptions client = core::http_client_options(o, "headers");
    client.username = o.get_string("username");
    client.password = o.get_string("password");
    const std::string& token = o.get_string("token");
    if (!token.empty()) {
      if (!client.username.empty()) {
        throw OptionError("token", "set either token or username/password, not both");
      }
      client.headers.insert(client.headers.begin(), {"Authorization", "Bearer " + token});
    }
    // The user's Content-Type wins; otherwise the one of the data format.
    if (!has_header(client.headers, "Content-Type")) {
      content_type_ = o.has("data_format") && o.get_string("data_format") == "json"
                          ? "application/json"
                          : "text/plain; charset=utf-8";
    }
    const bool gzip = core::RoutedBodySender::take_compression(client);
    client_ = std::make_unique<core::HttpClient>(std::move(client));
    sender_ = std::make_unique<core::RoutedBodySender>(
        std::span<const core::RouteTag>(), lineproto::SerializeOptions(), gzip,
        [this](const std::vector<core::RoutedBody>& bodies) { return send_all(bodies); });
  }

  size_t max_writes_in_flight() const override { return core::RoutedBodySender::kMaxInFlight; }

  void start_write(std::span<const Metric> batch) override { sender_->start(bodies_of(batch)); }
  WriteResult finish_write() override { return sender_->finish(); }
  WriteResult write(std::span<const Metric> batch) override {
    sender_->start(bodies_of(batch));
    return sender_->finish();
  }

 private:
  // The batch's request bodies: one for the whole batch, or one per metric.
  std::vector<core::RoutedBody> bodies_of(std::span<const Metric> batch) {
    std::vector<core::RoutedBody> bodies;
    if (batch_format_) {
      core::RoutedBody& body = bodies.emplace_back();
      serializer_->serialize_batch(batch, body.text);
      body.metrics = batch.size();
      return bodies;
    }
    for (const Metric& metric : batch) {
      core::RoutedBody body;
      serializer_->serialize(metric, body.text);
      body.metrics = 1;
      if (!body.text.empty()) bodies.push_back(std::move(body));
    }
    return bodies;
  }

  // One request per body, in order. A retry sends them all again, as the host keeps the batch
  // whole.
  WriteResult send_all(const std::vector<core::RoutedBody>& bodies) {
    for (const core::RoutedBody& body : bodies) {
      WriteResult result = send(body);
      if (result.status != WriteResult::Status::kOk) return result;
    }
    return WriteResult::ok();
  }

  WriteResult send(const core::RoutedBody& body) {
    if (body.text.empty()) return WriteResult::ok();
    core::HttpRequest request;
    request.method = method_;
    request.url = url_;
    request.body = body.text;
    request.content_type = content_type_;
    if (sender_->gzip()) request.headers.emplace_back("Content-Encoding", "gzip");
    core::HttpResponse response = client_->send(request);
    std::string what = fmt::format("{} of {} metrics to {}", method_, body.metrics, url_);
    if (response.answered() && !response.success() &&
        non_retryable_.contains(static_cast<int>(response.status))) {
      return WriteResult::reject(fmt::format("{}: answer {} is in non_retryable_statuscodes: {}",
                                             what, response.status,
                                             core::body_excerpt(response.body)));
    }
    return core::http_write_result(response, what);
  }

  std::unique_ptr<Serializer> serializer_;
  std::string url_;
  std::string method_;
  bool batch_format_ = true;
  std::set<int> non_retryable_;
  std::string content_type_;
  std::unique_ptr<core::HttpClient> client_;
  // Last: its sender thread joins before the state its posts use goes. It alone touches the
  // client.
  std::unique_ptr<core::RoutedBodySender> sender_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kOutput;
  info.name = "http";
  info.description = "Send metrics to an HTTP endpoint in a data format (influx or json)";
  info.options = kOptions;
  info.uses_serializer = true;
  info.create_output = [](const PluginContext& ctx) { return std::make_unique<HttpOutput>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::outputs::http
