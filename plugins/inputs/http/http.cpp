// http: polls URLs each interval and parses what they answer with the data format, as
// Telegraf's http input. All URLs are asked at once; each has its own connection (kept alive
// between intervals) and its own parser.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/http_client.hpp"
#include "core/http_options.hpp"
#include "core/http_poll.hpp"
#include "core/http_url.hpp"
#include "core/tagging_accumulator.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::http {
namespace {

const std::vector<OptionSpec> kOptions = core::with_http_client_options({
    {"urls", OptionType::kStringList, "", "URLs to read metrics from", true},
    {"method", OptionType::kString, "GET", "HTTP method: GET, POST, PUT, PATCH or DELETE"},
    {"body", OptionType::kString, "", "Request body (for POST, PUT and PATCH)"},
    {"content_encoding", OptionType::kString, "identity",
     "Encoding of the request body: identity or gzip"},
    {"headers", OptionType::kStringMap, "{}", "Extra headers sent with each request"},
    {"username", OptionType::kString, "", "User name for HTTP basic authentication"},
    {"password", OptionType::kString, "", "Password for HTTP basic authentication"},
    {"bearer_token", OptionType::kString, "",
     "File holding a bearer token, read before each request (sent as Authorization: Bearer)"},
    {"token", OptionType::kString, "", "Bearer token, sent as Authorization: Bearer <token>"},
    {"timeout", OptionType::kDuration, "5s", "Time limit of each request (0s: none)"},
    {"success_status_codes", OptionType::kStringList, "[200]",
     "Status codes whose body is parsed; any other is an error"},
    {"url_tag", OptionType::kString, "url",
     "Tag each metric with the URL under this key, unless it has the tag (empty: no tag)"},
    {"content_length_limit", OptionType::kSize, "0",
     "Most bytes of an answer read; a longer answer is an error (0: no limit)"},
    {"user_agent", OptionType::kString, "", "User-Agent header (empty: sluice/<version>)"},
});

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return s;
}

struct Target {
  std::string url;
  std::unique_ptr<core::HttpClient> client;
  std::unique_ptr<Parser> parser;
};

class Http final : public Input {
 public:
  explicit Http(const PluginContext& ctx) {
    const Options& o = ctx.options;
    format_ = o.get_string("data_format");
    method_ = upper(o.get_string("method"));
    static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    if (!kMethods.contains(method_)) {
      throw OptionError("method", "expected GET, POST, PUT, PATCH or DELETE, got \"" +
                                      o.get_string("method") + "\"");
    }
    body_ = o.get_string("body");
    if (!body_.empty() && method_ == "GET") {
      throw OptionError("body", "a GET request has no body: set method to POST, PUT or PATCH");
    }
    url_tag_ = o.get_string("url_tag");
    token_file_ = o.get_string("bearer_token");
    const std::string& token = o.get_string("token");
    if (!token.empty() && !token_file_.empty()) {
      throw OptionError("token", "set either token or bearer_token (a file), not both");
    }
    for (const std::string& code : o.get_strings("success_status_codes")) {
      int value = 0;
      auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), value);
      if (ec != std::errc() || end != code.data() + code.size() || value < 100 || value > 599) {
        throw OptionError("success_status_codes",
                          "\"" + code + "\" is not an HTTP status code (100 to 599)");
      }
      success_.insert(value);
    }
    if (success_.empty()) throw OptionError("success_status_codes", "give at least one code");

    core::HttpClientOptions client = core::http_client_options(o, "headers");
    client.username = o.get_string("username");
    client.password = o.get_string("password");
    if (!token.empty()) {
      if (!client.username.empty()) {
        throw OptionError("token", "set either token or username/password, not both");
      }
      client.headers.insert(client.headers.begin(), {"Authorization", "Bearer " + token});
    }
    client.max_response_body = o.get_size("content_length_limit");
    client.accept_compressed = true;
    const auto& urls = o.get_strings("urls");
    if (urls.empty()) throw OptionError("urls", "give at least one URL");
    for (const std::string& url : urls) {
      if (!core::is_http_url(url)) {
        throw OptionError("urls", "\"" + url + "\" is not an http:// or https:// URL");
      }
      targets_.push_back(
          Target{url, std::make_unique<core::HttpClient>(client), plugin::make_parser(ctx)});
    }
  }

  void gather(Accumulator& acc) override {
    core::poll_all(targets_, [this, &acc](Target& t) { poll(t, acc); });
  }

 private:
  void poll(Target& target, Accumulator& acc) {
    core::HttpRequest request;
    request.method = method_;
    request.url = target.url;
    request.body = body_;
    std::optional<std::string> body = core::fetch_body(
        *target.client, std::move(request), token_file_,
        [this](long status) { return success_.contains(static_cast<int>(status)); },
        method_ + " " + target.url, acc);
    if (!body) return;
    core::TaggingAccumulator tagging(acc, url_tag_, target.url, /*overwrite=*/false);
    plugin::parse_into(*target.parser, format_, *body, tagging, target.url);
  }

  std::string format_;
  std::string method_;
  std::string body_;
  std::string url_tag_;
  std::string token_file_;
  std::set<int> success_;
  std::vector<Target> targets_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "http";
  info.description = "Read metrics from HTTP endpoints in any data format";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) { return std::make_unique<Http>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::http
