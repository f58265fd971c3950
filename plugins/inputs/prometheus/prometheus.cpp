// prometheus: scrapes Prometheus exporters each interval, as Telegraf's prometheus input. Every
// URL is scraped at once, each on its own kept-alive connection, and read with the prometheus
// data format in the layout of metric_version.
#include <algorithm>
#include <cctype>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/http_client.hpp"
#include "core/http_options.hpp"
#include "core/http_poll.hpp"
#include "core/http_url.hpp"
#include "parsers/prometheus/text_parser.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::prometheus {
namespace {

// Only the text format is read: ask for it, as a scraper that cannot read protobuf must.
constexpr const char* kAccept = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

const std::vector<OptionSpec> kOptions = core::with_http_client_options({
    {"urls", OptionType::kStringList, "", "URLs of the exporters to scrape", true},
    {"metric_version", OptionType::kInt, "1",
     "Layout of the metrics: 1 (measurement per metric name) or 2 (measurement prometheus, "
     "field per metric name)"},
    {"url_tag", OptionType::kString, "url",
     "Tag each metric with the scraped URL under this key (empty: no tag)"},
    {"ignore_timestamp", OptionType::kBool, "false",
     "Stamp samples with the time of the scrape, ignoring their own timestamps"},
    {"response_timeout", OptionType::kDuration, "5s", "Time limit of each scrape (0s: none)"},
    {"bearer_token", OptionType::kString, "",
     "File holding a bearer token, read before each scrape (sent as Authorization: Bearer)"},
    {"bearer_token_string", OptionType::kString, "", "Bearer token itself"},
    {"username", OptionType::kString, "", "User name for HTTP basic authentication"},
    {"password", OptionType::kString, "", "Password for HTTP basic authentication"},
    {"http_headers", OptionType::kStringMap, "{}", "Extra headers sent with each scrape"},
    {"content_length_limit", OptionType::kSize, "0",
     "Most bytes of an answer read; a longer answer is an error (0: no limit)"},
});

struct Target {
  std::string url;
  std::unique_ptr<core::HttpClient> client;
  parsers::prometheus::TextParser parser;
};

class Prometheus final : public Input {
 public:
  explicit Prometheus(const PluginContext& ctx) {
    const Options& o = ctx.options;
    parsers::prometheus::TextParserOptions parse;
    int64_t version = o.get_int("metric_version");
    if (version != 1 && version != 2) throw OptionError("metric_version", "expected 1 or 2");
    parse.metric_version = static_cast<int>(version);
    parse.ignore_timestamp = o.get_bool("ignore_timestamp");
    url_tag_ = o.get_string("url_tag");
    token_file_ = o.get_string("bearer_token");
    const std::string& token = o.get_string("bearer_token_string");
    if (!token.empty() && !token_file_.empty()) {
      throw OptionError("bearer_token_string",
                        "set either bearer_token (a file) or "
                        "bearer_token_string, not both");
    }
    core::HttpClientOptions client = core::http_client_options(o, "http_headers");
    client.timeout = o.get_duration("response_timeout");
    if (client.timeout.count() < 0) throw OptionError("response_timeout", "must not be negative");
    client.username = o.get_string("username");
    client.password = o.get_string("password");
    if ((!token.empty() || !token_file_.empty()) && !client.username.empty()) {
      throw OptionError("username", "set either a bearer token or username/password, not both");
    }
    if (!token.empty()) {
      client.headers.insert(client.headers.begin(), {"Authorization", "Bearer " + token});
    }
    bool has_accept = std::any_of(client.headers.begin(), client.headers.end(), [](const auto& h) {
      return h.first.size() == 6 &&
             std::equal(h.first.begin(), h.first.end(), "accept", [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
             });
    });
    if (!has_accept) client.headers.insert(client.headers.begin(), {"Accept", kAccept});
    client.max_response_body = o.get_size("content_length_limit");
    client.accept_compressed = true;
    const auto& urls = o.get_strings("urls");
    if (urls.empty()) throw OptionError("urls", "give at least one URL");
    for (const std::string& url : urls) {
      if (!core::is_http_url(url)) {
        throw OptionError("urls", "\"" + url + "\" is not an http:// or https:// URL");
      }
      targets_.push_back(Target{url, std::make_unique<core::HttpClient>(client),
                                parsers::prometheus::TextParser(parse)});
    }
  }

  void gather(Accumulator& acc) override {
    core::poll_all(targets_, [this, &acc](Target& t) { scrape(t, acc); });
  }

 private:
  void scrape(Target& target, Accumulator& acc) {
    core::HttpRequest request;
    request.method = "GET";
    request.url = target.url;
    std::optional<std::string> body =
        core::fetch_body(*target.client, std::move(request), token_file_,
                         [](long status) { return status == 200; }, "scrape " + target.url, acc);
    if (!body) return;
    Batch batch;
    std::vector<ParseError> errors;
    target.parser.parse(*body, acc.time(), batch, errors);
    for (const ParseError& e : errors) {
      acc.add_rejected(plugin::describe_parse_error("prometheus", e, target.url));
    }
    if (!url_tag_.empty()) {
      for (Metric& m : batch) m.set_tag(url_tag_, target.url);
    }
    if (!batch.empty()) acc.add_batch(std::move(batch));
  }

  std::string url_tag_;
  std::string token_file_;
  std::vector<Target> targets_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "prometheus";
  info.description = "Scrape Prometheus exporters (text exposition format)";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) { return std::make_unique<Prometheus>(ctx); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::prometheus
