// The HTTP outputs check their options when they are created (at load and reload), with
// messages that name the option.
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "pipeline/pipeline.hpp"

namespace {

// The error of building a pipeline with one output, "" when it builds.
std::string build_error(const std::string& output) {
  try {
    auto config = sluice::config::load_text("outputs:\n  - " + output + "\n", "/etc/sluice/t.yaml");
    sluice::pipeline::Pipeline pipeline(config, sluice::pipeline::SystemClock::instance());
  } catch (const sluice::config::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("influxdb: the defaults build and bad values are refused by name") {
  CHECK(build_error("influxdb: {}") == "");
  CHECK(build_error("influxdb: {urls: [\"http://127.0.0.1:8086\", \"https://db.example:8086/x\"], "
                    "database_tag: db, retention_policy: autogen, write_consistency: quorum}") ==
        "");
  auto e = build_error("influxdb: {urls: [\"udp://127.0.0.1:8089\"]}");
  CHECK(e.find("option \"urls\"") != std::string::npos);
  CHECK(e.find("\"udp://127.0.0.1:8089\" is not an http:// or https:// URL") != std::string::npos);
  CHECK(build_error("influxdb: {urls: []}").find("needs at least one URL") != std::string::npos);
  CHECK(build_error("influxdb: {database: \"\"}").find("must name a database") !=
        std::string::npos);
  CHECK(build_error("influxdb: {write_consistency: most}")
            .find("expected any, one, quorum or all, got \"most\"") != std::string::npos);
  CHECK(build_error("influxdb: {content_encoding: deflate}")
            .find("option \"content_encoding\": expected identity or gzip") != std::string::npos);
  CHECK(build_error("influxdb: {tls_key: /nonexistent/key.pem}")
            .find("file \"/nonexistent/key.pem\" does not exist") != std::string::npos);
}

TEST_CASE("influxdb_v2: a bucket (or bucket_tag) is needed") {
  CHECK(build_error("influxdb_v2: {bucket: metrics, token: t, organization: o}") == "");
  CHECK(build_error("influxdb_v2: {bucket_tag: b}") == "");
  CHECK(build_error("influxdb_v2: {}").find("option \"bucket\": must name a bucket") !=
        std::string::npos);
  CHECK(build_error("influxdb_v2: {bucket: b, urls: [\"localhost:8086\"]}")
            .find("is not an http:// or https:// URL") != std::string::npos);
}

TEST_CASE("http: method and URL and status codes and encoding and credentials are checked") {
  CHECK(build_error("http: {}") == "");
  CHECK(build_error(
            "http: {method: put, data_format: json, non_retryable_statuscodes: [409, 413]}") == "");
  CHECK(build_error("http: {url: \"ftp://x\"}").find("not an http:// or https:// URL") !=
        std::string::npos);
  CHECK(build_error("http: {method: DELETE}").find("expected POST, PUT or PATCH") !=
        std::string::npos);
  CHECK(build_error("http: {non_retryable_statuscodes: [abc]}")
            .find("\"abc\" is not an HTTP status code") != std::string::npos);
  CHECK(build_error("http: {non_retryable_statuscodes: [99]}")
            .find("\"99\" is not an HTTP status code") != std::string::npos);
  CHECK(build_error("http: {content_encoding: br}").find("expected identity or gzip") !=
        std::string::npos);
  CHECK(build_error("http: {token: t, username: u}").find("not both") != std::string::npos);
  CHECK(build_error("http: {data_format: yaml}").find("unknown data format") != std::string::npos);
}
