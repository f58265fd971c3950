// http_listener_v2: takes metrics in any data format from HTTP requests, as Telegraf's plugin of
// the same name: the body (gzip undone) or the query string of requests to the configured paths
// and methods, with Basic authentication, chosen headers as tags, a body limit, and TLS.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/http_listener.hpp"
#include "core/listener_support.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::http_listener_v2 {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"service_address", OptionType::kString, ":8080", "Address to listen on, host:port"},
    {"paths", OptionType::kStringList, "[/telegraf]", "Paths that take metrics"},
    {"path_tag", OptionType::kBool, "false",
     "Tag each metric with the request's path (tag http_listener_v2_path)"},
    {"methods", OptionType::kStringList, "[POST, PUT]", "Methods that take metrics"},
    {"data_source", OptionType::kString, "body",
     "Where the metrics are: body, or query (the URL's query string, decoded)"},
    {"http_success_code", OptionType::kInt, "204", "Status of a request read without error"},
    {"http_header_tags", OptionType::kStringMap, "",
     "Request headers to add as tags: {header name: tag name}"},
    {"read_timeout", OptionType::kDuration, "10s", "Longest wait for a request to arrive"},
    {"write_timeout", OptionType::kDuration, "10s", "Longest wait for an answer to be sent"},
    {"max_body_size", OptionType::kSize, "500MB",
     "Largest request body, after gzip is undone; larger ones get 413. 0: 500MB"},
    {"basic_username", OptionType::kString, "", "User that requests must authenticate as"},
    {"basic_password", OptionType::kString, "", "Its password"},
    {"tls_cert", OptionType::kString, "", "Server certificate (PEM) for HTTPS"},
    {"tls_key", OptionType::kString, "", "Server private key (PEM)"},
    {"tls_allowed_cacerts", OptionType::kStringList, "",
     "CA files; when set, clients must present a certificate signed by one (mutual TLS)"},
};

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else if (text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Passes one request's metrics on with its tags, and keeps what was rejected for the answer.
class RequestAccumulator final : public Accumulator {
 public:
  RequestAccumulator(Accumulator& inner,
                     const std::vector<std::pair<std::string, std::string>>& tags)
      : inner_(inner), tags_(tags) {}
  void add(Metric metric) override {
    tag(metric);
    inner_.add(std::move(metric));
  }
  void add_batch(Batch batch) override {
    for (Metric& m : batch) tag(m);
    inner_.add_batch(std::move(batch));
  }
  void add_error(std::string_view message) override { inner_.add_error(message); }
  void add_rejected(std::string_view message) override {
    if (rejected.size() < 20) rejected.emplace_back(message);
    ++rejected_count;
    inner_.add_rejected(message);
  }
  int64_t time() const override { return inner_.time(); }

  std::vector<std::string> rejected;
  size_t rejected_count = 0;

 private:
  void tag(Metric& m) const {
    for (const auto& [key, value] : tags_) m.set_tag(key, value);
  }
  Accumulator& inner_;
  const std::vector<std::pair<std::string, std::string>>& tags_;
};

class HttpListenerV2 final : public ServiceInput {
 public:
  explicit HttpListenerV2(const PluginContext& ctx)
      : options_(ctx.options),
        log_(ctx.log),
        http_(core::read_http_listener_options(options_, 500'000'000)),
        format_(options_.get_string("data_format")),
        paths_(options_.get_strings("paths")),
        methods_(options_.get_strings("methods")),
        path_tag_(options_.get_bool("path_tag")),
        header_tags_(options_.get_string_map("http_header_tags")),
        user_(options_.get_string("basic_username")),
        password_(options_.get_string("basic_password")),
        pool_([this] {
          return plugin::make_parser(PluginContext{options_, log_});
        }) {
    const std::string& source = options_.get_string("data_source");
    if (source == "query") {
      from_query_ = true;
    } else if (source != "body") {
      throw OptionError("data_source", "expected body or query, got \"" + source + "\"");
    }
    if (paths_.empty()) throw OptionError("paths", "give at least one path");
    for (const std::string& p : paths_) {
      if (p.empty() || p.front() != '/')
        throw OptionError("paths", "\"" + p + "\" must start with /");
    }
    if (methods_.empty()) throw OptionError("methods", "give at least one method");
    for (std::string& m : methods_) std::transform(m.begin(), m.end(), m.begin(), ::toupper);
    success_code_ = static_cast<int>(options_.get_int("http_success_code"));
    if (success_code_ < 200 || success_code_ > 299) {
      throw OptionError("http_success_code", "must be a 2xx status");
    }
    plugin::make_parser(PluginContext{options_, log_});  // an unknown data_format fails now
  }

  ~HttpListenerV2() override { stop(); }

  void start(Accumulator& acc) override {
    acc_ = &acc;
    server_.serve(
        http_, [this](const core::HttpListenerRequest& r) { return gate(r); },
        [this](core::HttpListenerRequest& r) { return handle(r); }, log_,
        [this](const std::string& why) { acc_->add_error(why); });
  }

  void stop() override { server_.stop(); }

 private:
  std::optional<core::HttpListenerResponse> gate(const core::HttpListenerRequest& r) {
    if (user_.empty() && password_.empty()) return std::nullopt;
    if (core::credentials_match(r, user_, password_, false)) return std::nullopt;
    acc_->add_error(fmt::format("{}: authentication failed for {} {}", r.remote, r.method, r.path));
    core::HttpListenerResponse refusal{401, "Unauthorized\n", "text/plain; charset=utf-8", {}};
    refusal.headers.emplace_back("WWW-Authenticate", "Basic realm=\"sluice\"");
    return refusal;
  }

  core::HttpListenerResponse handle(core::HttpListenerRequest& r) {
    using Body = core::HttpListenerRequest::Body;
    if (std::find(paths_.begin(), paths_.end(), r.path) == paths_.end()) {
      return {404, "Not Found\n", "text/plain; charset=utf-8", {}};
    }
    if (std::find(methods_.begin(), methods_.end(), r.method) == methods_.end()) {
      return {405, "Method Not Allowed\n", "text/plain; charset=utf-8", {}};
    }
    if (r.body_state == Body::kTooLarge) {
      acc_->add_rejected(fmt::format("{}: request body larger than max_body_size ({} bytes)",
                                     r.remote, http_.max_body_size));
      return {413, "Request Entity Too Large\n", "text/plain; charset=utf-8", {}};
    }
    if (r.body_state == Body::kUnreadable) {
      acc_->add_rejected(fmt::format("{}: {}", r.remote, r.body_error));
      return {400, r.body_error + "\n", "text/plain; charset=utf-8", {}};
    }
    std::vector<std::pair<std::string, std::string>> tags;
    for (const auto& [header, tag] : header_tags_) {
      std::string value = r.header(header);
      if (!value.empty()) tags.emplace_back(tag, value);
    }
    if (path_tag_) tags.emplace_back("http_listener_v2_path", r.path);
    RequestAccumulator acc(*acc_, tags);
    std::string data = from_query_ ? percent_decode(r.raw_query) : std::move(r.body);
    {
      auto parser = pool_.lease();
      plugin::parse_into(*parser, format_, data, acc, r.remote);
    }
    if (acc.rejected_count == 0) return {success_code_, "", "", {}};
    std::string text;
    for (const std::string& m : acc.rejected) text += m + "\n";
    if (acc.rejected_count > acc.rejected.size()) {
      text += fmt::format("... and {} more\n", acc.rejected_count - acc.rejected.size());
    }
    return {400, text, "text/plain; charset=utf-8", {}};
  }

  Options options_;
  Logger& log_;
  core::HttpListenerOptions http_;
  std::string format_;
  std::vector<std::string> paths_;
  std::vector<std::string> methods_;
  bool path_tag_ = false;
  StringMap header_tags_;
  std::string user_;
  std::string password_;
  bool from_query_ = false;
  int success_code_ = 204;
  core::ParserPool pool_;
  Accumulator* acc_ = nullptr;
  core::HttpListener server_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "http_listener_v2";
  info.description = "Take metrics in any data format from HTTP requests";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<HttpListenerV2>(ctx);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::http_listener_v2
