// What the HTTP listener inputs share beyond the server: a pool of parsers (a Parser serves one
// thread at a time), Basic authentication, and writing a body of line protocol with InfluxDB's
// partial-write rules (good lines kept, bad lines reported each).
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/options.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

// Parsers made on demand and reused: the server's worker threads each lease one per request.
class ParserPool {
 public:
  using Factory = std::function<std::unique_ptr<Parser>()>;
  explicit ParserPool(Factory factory) : factory_(std::move(factory)) {}

  class Lease {
   public:
    Lease(ParserPool& pool, std::unique_ptr<Parser> parser)
        : pool_(pool), parser_(std::move(parser)) {}
    ~Lease() { pool_.give_back(std::move(parser_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Parser& operator*() { return *parser_; }
    Parser* operator->() { return parser_.get(); }

   private:
    ParserPool& pool_;
    std::unique_ptr<Parser> parser_;
  };

  Lease lease();

 private:
  void give_back(std::unique_ptr<Parser> parser);
  Factory factory_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Parser>> idle_;
};

// Line-protocol parsers for each timestamp precision a write may name, pooled as above. Made from
// the input's own options (its influx_* options), so that a bad option fails here, while the
// config loads; a data_format other than influx is refused naming the input.
class LinePrecisionParsers {
 public:
  // The precisions, in the order of the index lease() takes.
  static constexpr std::array<std::chrono::nanoseconds, 4> kPrecisions = {
      std::chrono::nanoseconds(1), std::chrono::microseconds(1), std::chrono::milliseconds(1),
      std::chrono::seconds(1)};

  LinePrecisionParsers(const Options& options, Logger& log, std::string_view input);
  ParserPool::Lease lease(size_t precision) { return pools_[precision]->lease(); }

 private:
  Logger& log_;
  std::array<Options, kPrecisions.size()> options_;
  std::array<std::unique_ptr<ParserPool>, kPrecisions.size()> pools_;
};

// The user and password of an "Authorization: Basic ..." header; nullopt when it is not one.
std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header);

// The outcome of one write of line protocol.
struct LineWrite {
  size_t written = 0;                 // metrics handed to the accumulator
  size_t dropped = 0;                 // lines that could not be read
  std::vector<std::string> failures;  // "unable to parse '<line>': <reason>", the first 100
};

struct LineWriteOptions {
  std::string_view format = "influx";  // for messages
  std::string_view source;             // the peer, for messages
  int64_t time_multiplier = 1;         // precisions the parser lacks (m, h): ×60, ×3600
  std::vector<std::pair<std::string, std::string>> tags;  // set on every metric (overwrite)
};

// How many '\n' bytes `text` holds (16 at a time where the processor allows).
size_t count_newlines(std::string_view text);

// Parses `body`, sets the tags, adds the metrics in one batch and reports each bad line with
// acc.add_rejected (as plugin::parse_into does).
LineWrite write_lines(Parser& parser, std::string_view body, Accumulator& acc,
                      const LineWriteOptions& options);

}  // namespace sluice::core

#include "core/http_listener.hpp"

namespace sluice::core {

// service_address, read_timeout, write_timeout, max_body_size, tls_cert, tls_key and
// tls_allowed_cacerts, checked; throws OptionError. A max_body_size of 0 means `default_body`.
HttpListenerOptions read_http_listener_options(const Options& options, uint64_t default_body);

// Whether the request's Basic credentials (or, with `query_credentials`, its u and p
// parameters, as InfluxDB 1.x takes them) are `user` and `password`.
// The comparison takes the same time whatever the credentials given.
bool credentials_match(const HttpListenerRequest& request, const std::string& user,
                       const std::string& password, bool query_credentials);

}  // namespace sluice::core
