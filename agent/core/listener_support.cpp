#include "core/listener_support.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>

#include <fmt/format.h>
#include <strings.h>

#include "plugin/format_factory.hpp"
#include "plugin/parse_into.hpp"

namespace sluice::core {

LinePrecisionParsers::LinePrecisionParsers(const Options& options, Logger& log,
                                           std::string_view input)
    : log_(log) {
  if (options.get_string("data_format") != "influx") {
    throw OptionError("data_format", fmt::format("{} reads line protocol (influx) only", input));
  }
  for (size_t i = 0; i < kPrecisions.size(); ++i) {
    options_[i] = options;
    options_[i].set("influx_timestamp_precision", kPrecisions[i], true);
    plugin::make_parser(PluginContext{options_[i], log_});  // fails now, if at all
    pools_[i] = std::make_unique<ParserPool>(
        [this, i] { return plugin::make_parser(PluginContext{options_[i], log_}); });
  }
}

ParserPool::Lease ParserPool::lease() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<Parser> parser = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(parser));
    }
  }
  return Lease(*this, factory_());
}

void ParserPool::give_back(std::unique_ptr<Parser> parser) {
  if (!parser) return;
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(parser));
}

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    int v = base64_value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return out;
}

// The `number`th line (1-based) of `data`, searched from where the last search ended.
struct LineCursor {
  std::string_view data;
  size_t line = 1;
  size_t offset = 0;
  std::string_view at(size_t number) {
    while (line < number && offset < data.size()) {
      size_t nl = data.find('\n', offset);
      offset = nl == std::string_view::npos ? data.size() : nl + 1;
      ++line;
    }
    size_t end = data.find('\n', offset);
    std::string_view text = data.substr(offset, end == std::string_view::npos ? end : end - offset);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    return text;
  }
};

}  // namespace

std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header) {
  constexpr std::string_view kBasic = "Basic ";
  if (header.size() < kBasic.size() || strncasecmp(header.data(), "basic ", 6) != 0) {
    return std::nullopt;
  }
  auto decoded = base64_decode(header.substr(kBasic.size()));
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

size_t count_newlines(std::string_view text) {
  size_t count = 0;
  const char* p = text.data();
  const char* const end = p + text.size();
#if defined(__SSE2__)
  const __m128i newline = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    // Each lane counts down by one per newline (a match is -1), for at most 255 blocks.
    __m128i lanes = _mm_setzero_si128();
    const size_t blocks = std::min<size_t>(static_cast<size_t>(end - p) / 16, 255);
    for (size_t i = 0; i < blocks; ++i, p += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      lanes = _mm_sub_epi8(lanes, _mm_cmpeq_epi8(x, newline));
    }
    const __m128i sums = _mm_sad_epu8(lanes, _mm_setzero_si128());
    count += static_cast<size_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; p < end; ++p) count += *p == '\n' ? 1 : 0;
  return count;
}

LineWrite write_lines(Parser& parser, std::string_view body, Accumulator& acc,
                      const LineWriteOptions& options) {
  LineWrite out;
  Batch batch;
  // Room for every line up front (counting newlines 16 bytes at a time is cheap next to
  // parsing): growing the batch line by line would move each metric several times.
  batch.reserve(count_newlines(body) + 1);
  std::vector<ParseError> errors;
  const int64_t now = acc.time();
  // Lines without a time get 0 here and `now` below, after the multiplier.
  parser.parse(body, options.time_multiplier == 1 ? now : 0, batch, errors);
  if (options.time_multiplier != 1 || !options.tags.empty()) {
    for (Metric& m : batch) {
      if (options.time_multiplier != 1) {
        m.set_time(m.time() == 0 ? now : m.time() * options.time_multiplier);
      }
      for (const auto& [key, value] : options.tags) m.set_tag(key, value);
    }
  }
  LineCursor cursor{body};
  for (const ParseError& e : errors) {
    acc.add_rejected(plugin::describe_parse_error(options.format, e, options.source));
    if (out.failures.size() < 100) {
      std::string_view line = e.line > 0 ? cursor.at(e.line) : std::string_view();
      if (line.size() > 256) line = line.substr(0, 256);
      out.failures.push_back(fmt::format("unable to parse '{}': {}", line, e.reason));
    }
  }
  out.dropped = errors.size();
  out.written = batch.size();
  if (!batch.empty()) acc.add_batch(std::move(batch));
  return out;
}

}  // namespace sluice::core

namespace sluice::core {

HttpListenerOptions read_http_listener_options(const Options& o, uint64_t default_body) {
  HttpListenerOptions out;
  out.address = o.get_string("service_address");
  std::string host;
  int port = 0;
  if (!split_host_port(out.address, host, port)) {
    throw OptionError("service_address",
                      "\"" + out.address + "\" is not host:port, :port or [v6]:port");
  }
  out.read_timeout = o.get_duration("read_timeout");
  out.write_timeout = o.get_duration("write_timeout");
  if (out.read_timeout.count() < 0) throw OptionError("read_timeout", "must not be negative");
  if (out.write_timeout.count() < 0) throw OptionError("write_timeout", "must not be negative");
  out.max_body_size = o.get_size("max_body_size");
  if (out.max_body_size == 0) out.max_body_size = default_body;
  out.tls.cert = o.get_string("tls_cert");
  out.tls.key = o.get_string("tls_key");
  out.tls.client_cas = o.get_strings("tls_allowed_cacerts");
  if (out.tls.cert.empty() != out.tls.key.empty()) {
    throw OptionError(out.tls.cert.empty() ? "tls_cert" : "tls_key",
                      "TLS needs both tls_cert and tls_key");
  }
  if (!out.tls.client_cas.empty() && !out.tls.enabled()) {
    throw OptionError("tls_allowed_cacerts", "mutual TLS needs tls_cert and tls_key as well");
  }
  if (out.tls.enabled()) {
    // Load the files now, so that a wrong path is a configuration error.
    std::string error;
    if (!make_tls_server_context(out.tls, error)) throw OptionError("tls_cert", error);
  }
  return out;
}

bool credentials_match(const HttpListenerRequest& request, const std::string& user,
                       const std::string& password, bool query_credentials) {
  std::string given_user;
  std::string given_password;
  if (auto basic = basic_credentials(request.header("Authorization"))) {
    given_user = std::move(basic->first);
    given_password = std::move(basic->second);
  } else if (query_credentials && request.query.count("u") > 0) {
    given_user = request.param("u");
    given_password = request.param("p");
  } else {
    return false;
  }
  // Both compared, always: the time does not tell which one was wrong.
  bool user_ok = secrets_equal(given_user, user);
  bool password_ok = secrets_equal(given_password, password);
  return user_ok && password_ok;
}

}  // namespace sluice::core
