// The prometheus_client's mapping of metrics to series and its text exposition, checked
// against exact expected text; naming, escaping, expiration and access checks.
#include <doctest/doctest.h>

#include <limits>

#include "outputs/prometheus_client/access.hpp"
#include "outputs/prometheus_client/metric_store.hpp"
#include "outputs/prometheus_client/naming.hpp"

using namespace sluice::outputs::prometheus_client;
using sluice::Batch;
using sluice::Metric;
using sluice::ValueType;

namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kTime = 1'700'000'000 * kSecond;

std::string render(const Batch& batch, StoreOptions options = {}) {
  MetricStore store(options);
  store.add(batch, kTime);
  return store.render();
}

std::string family(const std::string& name, const std::string& type) {
  return "# HELP " + name + " sluice collected metric\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

TEST_CASE("prometheus exposition: gauges and counters and untyped with one family per field") {
  Metric cpu("cpu", kTime, ValueType::kGauge);
  cpu.set_tag("host", "web1");
  cpu.set_tag("cpu", "cpu0");
  cpu.set_field("usage_idle", 97.5);
  cpu.set_field("usage_user", int64_t{2});
  Metric cpu1("cpu", kTime, ValueType::kGauge);
  cpu1.set_tag("host", "web1");
  cpu1.set_tag("cpu", "cpu1");
  cpu1.set_field("usage_idle", 50.0);
  Metric net("net", kTime, ValueType::kCounter);
  // As a double this is 2^64, written in the shorter of the plain and exponent notations.
  net.set_field("bytes", std::numeric_limits<uint64_t>::max());
  Metric temp("temp", kTime);  // untyped; `value` gives the measurement's name
  temp.set_field("value", -1.5e-7);
  Metric flags("flags", kTime, ValueType::kGauge);
  flags.set_field("on", true);
  flags.set_field("off", false);
  CHECK(render({cpu, cpu1, net, temp, flags}) ==
        family("cpu_usage_idle", "gauge") +
            "cpu_usage_idle{cpu=\"cpu0\",host=\"web1\"} 97.5\n"
            "cpu_usage_idle{cpu=\"cpu1\",host=\"web1\"} 50\n" +
            family("cpu_usage_user", "gauge") + "cpu_usage_user{cpu=\"cpu0\",host=\"web1\"} 2\n" +
            family("flags_off", "gauge") + "flags_off 0\n" + family("flags_on", "gauge") +
            "flags_on 1\n" + family("net_bytes", "counter") + "net_bytes 18446744073709551616\n" +
            family("temp", "untyped") + "temp -1.5e-07\n");
}

TEST_CASE("prometheus exposition: special values and the names of the prometheus input's metrics") {
  Metric m("prometheus", kTime, ValueType::kCounter);  // the input's layout: field = name
  m.set_field("go_gc_total", std::numeric_limits<double>::infinity());
  Metric g("queue", kTime, ValueType::kGauge);
  g.set_field("gauge", std::numeric_limits<double>::quiet_NaN());  // v1 input's gauge field
  Metric c("jobs", kTime, ValueType::kCounter);
  c.set_field("counter", -std::numeric_limits<double>::infinity());
  CHECK(render({m, g, c}) == family("go_gc_total", "counter") + "go_gc_total +Inf\n" +
                                 family("jobs", "counter") + "jobs -Inf\n" +
                                 family("queue", "gauge") + "queue NaN\n");
}

TEST_CASE("prometheus exposition: label values escaped and names sanitized and strings as labels") {
  Metric m("my-app.requests", kTime, ValueType::kGauge);
  m.set_tag("path", "C:\\dir \"quoted\"\nnext");
  m.set_tag("dc-name", "eu");
  m.set_tag("1st", "x");     // a label may not start with a digit
  m.set_tag("!!!", "gone");  // nothing valid left: left out
  m.set_field("req/s", 3.0);
  m.set_field("état", 1.0);  // a multi-byte character is one '_'
  m.set_field("version", std::string("1.2"));
  const std::string labels =
      "{_1st=\"x\",dc_name=\"eu\",path=\"C:\\\\dir \\\"quoted\\\"\\nnext\",version=\"1.2\"}";
  CHECK(render({m}) == family("my_app_requests__tat", "gauge") + "my_app_requests__tat" + labels +
                           " 1\n" + family("my_app_requests_req_s", "gauge") +
                           "my_app_requests_req_s" + labels + " 3\n");

  // Without string_as_label the string is left out; a tag wins over a string field.
  Metric s("svc", kTime, ValueType::kGauge);
  s.set_tag("version", "tag");
  s.set_field("version", std::string("field"));
  s.set_field("up", int64_t{1});
  CHECK(render({s}) == family("svc_up", "gauge") + "svc_up{version=\"tag\"} 1\n");
  StoreOptions no_strings;
  no_strings.string_as_label = false;
  Metric t("svc", kTime, ValueType::kGauge);
  t.set_field("version", std::string("field"));
  t.set_field("up", int64_t{1});
  CHECK(render({t}, no_strings) == family("svc_up", "gauge") + "svc_up 1\n");

  CHECK(sanitize_metric_name("a:b_c9") == "a:b_c9");
  CHECK(sanitize_metric_name("9lives") == "_9lives");
  CHECK(sanitize_metric_name("__x__") == "__x__");  // valid as it is
  CHECK(sanitize_metric_name("-x-") == "x");
  CHECK_FALSE(sanitize_metric_name("---"));
  CHECK_FALSE(sanitize_metric_name(""));
  CHECK(sanitize_label_name("a:b") == "a_b");  // ':' is for metric names only
}

TEST_CASE("prometheus exposition: histograms in both layouts with +Inf added when missing") {
  Batch batch;
  for (auto [le, count] : {std::pair{"0.5", 7}, {"0.1", 3}}) {
    Metric h("http", kTime, ValueType::kHistogram);
    h.set_tag("path", "/api");
    h.set_tag("le", le);
    h.set_field("latency_bucket", int64_t{count});
    batch.push_back(h);
  }
  Metric total("http", kTime, ValueType::kHistogram);
  total.set_tag("path", "/api");
  total.set_field("latency_sum", 2.5);
  total.set_field("latency_count", uint64_t{9});
  batch.push_back(total);
  CHECK(render(batch) == family("http_latency", "histogram") +
                             "http_latency_bucket{path=\"/api\",le=\"0.1\"} 3\n"
                             "http_latency_bucket{path=\"/api\",le=\"0.5\"} 7\n"
                             "http_latency_bucket{path=\"/api\",le=\"+Inf\"} 9\n"
                             "http_latency_sum{path=\"/api\"} 2.5\n"
                             "http_latency_count{path=\"/api\"} 9\n");

  // The older layout: one metric, fields named by the bound, sum and count.
  Metric flat("rtt", kTime, ValueType::kHistogram);
  flat.set_field("0.01", int64_t{1});
  flat.set_field("+Inf", int64_t{4});
  flat.set_field("1", 3.0);
  flat.set_field("sum", 1.75);
  flat.set_field("count", int64_t{4});
  flat.set_field("ignored", std::string("x"));
  StoreOptions no_strings;
  no_strings.string_as_label = false;
  CHECK(render({flat}, no_strings) == family("rtt", "histogram") +
                                          "rtt_bucket{le=\"0.01\"} 1\n"
                                          "rtt_bucket{le=\"1\"} 3\n"
                                          "rtt_bucket{le=\"+Inf\"} 4\n"
                                          "rtt_sum 1.75\n"
                                          "rtt_count 4\n");
}

TEST_CASE("prometheus exposition: a summary in both layouts") {
  Batch batch;
  for (auto [q, v] : {std::pair{"0.99", 0.3}, {"0.5", 0.02}}) {
    Metric s("rpc", kTime, ValueType::kSummary);
    s.set_tag("service", "a");
    s.set_tag("quantile", q);
    s.set_field("latency", v);
    batch.push_back(s);
  }
  Metric total("rpc", kTime, ValueType::kSummary);
  total.set_tag("service", "a");
  total.set_field("latency_sum", 12.5);
  total.set_field("latency_count", int64_t{100});
  batch.push_back(total);
  Metric flat("dns", kTime, ValueType::kSummary);
  flat.set_field("0.9", 4.0);
  flat.set_field("sum", 30.0);
  flat.set_field("count", int64_t{10});
  batch.push_back(flat);
  CHECK(render(batch) == family("dns", "summary") +
                             "dns{quantile=\"0.9\"} 4\n"
                             "dns_sum 30\n"
                             "dns_count 10\n" +
                             family("rpc_latency", "summary") +
                             "rpc_latency{service=\"a\",quantile=\"0.5\"} 0.02\n"
                             "rpc_latency{service=\"a\",quantile=\"0.99\"} 0.3\n"
                             "rpc_latency_sum{service=\"a\"} 12.5\n"
                             "rpc_latency_count{service=\"a\"} 100\n");
}

TEST_CASE("prometheus exposition: the newest value wins and a type change takes the name over") {
  MetricStore store({});
  Metric newer("m", kTime + 10, ValueType::kGauge);
  newer.set_field("value", 2.0);
  Metric older("m", kTime, ValueType::kGauge);
  older.set_field("value", 1.0);
  store.add(Batch{newer, older}, kTime);
  CHECK(store.render() == family("m", "gauge") + "m 2\n");
  Metric counter("m", kTime + 20, ValueType::kCounter);
  counter.set_field("value", 5.0);
  store.add(Batch{counter}, kTime);
  CHECK(store.render() == family("m", "counter") + "m 5\n");

  StoreOptions with_time;
  with_time.export_timestamp = true;
  Metric stamped("m", 1'700'000'000'123'999'999, ValueType::kGauge);
  stamped.set_field("value", 1.0);
  CHECK(render({stamped}, with_time) == family("m", "gauge") + "m 1 1700000000123\n");
}

TEST_CASE("prometheus exposition: series expire after expiration_interval without updates") {
  StoreOptions options;
  options.expiration_ns = 60 * kSecond;
  MetricStore store(options);
  Metric a("a", kTime, ValueType::kGauge);
  a.set_field("value", 1.0);
  Metric b("b", kTime, ValueType::kGauge);
  b.set_field("value", 2.0);
  store.add(Batch{a, b}, kTime);
  store.add(Batch{b}, kTime + 30 * kSecond);  // b updated later
  store.expire(kTime + 60 * kSecond);         // exactly the interval: still there
  CHECK(store.series_count() == 2);
  store.expire(kTime + 60 * kSecond + 1);
  CHECK(store.render() == family("b", "gauge") + "b 2\n");
  store.expire(kTime + 90 * kSecond + 1);
  CHECK(store.render().empty());
  CHECK(store.family_count() == 0);

  MetricStore forever({.string_as_label = true, .export_timestamp = false, .expiration_ns = 0});
  forever.add(Batch{a}, kTime);
  forever.expire(kTime + 1'000'000 * kSecond);
  CHECK(forever.series_count() == 1);
}

TEST_CASE("prometheus access: basic credentials and IP ranges") {
  CHECK(decode_base64("dXNlcjpwYXNz") == "user:pass");
  CHECK(decode_base64("YQ") == "a");
  CHECK(decode_base64("YQ==") == "a");
  CHECK_FALSE(decode_base64("Y"));
  CHECK_FALSE(decode_base64("!!!!"));
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secrets"));
  CHECK_FALSE(constant_time_equal("secret", "Secret"));
  CHECK(constant_time_equal("", ""));

  // "user:pa:ss" — the password may hold colons.
  CHECK(basic_auth_matches("Basic dXNlcjpwYTpzcw==", "user", "pa:ss"));
  CHECK(basic_auth_matches("basic dXNlcjpwYTpzcw==", "user", "pa:ss"));
  CHECK_FALSE(basic_auth_matches("Basic dXNlcjpwYTpzcw==", "user", "pa"));
  CHECK_FALSE(basic_auth_matches("Basic dXNlcjpwYTpzcw==", "admin", "pa:ss"));
  CHECK_FALSE(basic_auth_matches("Bearer dXNlcjpwYTpzcw==", "user", "pa:ss"));
  CHECK_FALSE(basic_auth_matches("", "user", "pa:ss"));

  auto net = IpRange::parse("192.168.0.0/24");
  REQUIRE(net);
  CHECK(net->contains("192.168.0.77"));
  CHECK(net->contains("::ffff:192.168.0.1"));  // from a dual-stack socket
  CHECK_FALSE(net->contains("192.168.1.1"));
  CHECK_FALSE(net->contains("not an address"));
  auto host = IpRange::parse("127.0.0.1");
  REQUIRE(host);
  CHECK(host->contains("127.0.0.1"));
  CHECK_FALSE(host->contains("127.0.0.2"));
  auto v6 = IpRange::parse("fd00::/8");
  REQUIRE(v6);
  CHECK(v6->contains("fd12::1"));
  CHECK_FALSE(v6->contains("fe80::1"));
  CHECK(IpRange::parse("0.0.0.0/0")->contains("8.8.8.8"));
  CHECK_FALSE(IpRange::parse("10.0.0.0/33"));
  CHECK_FALSE(IpRange::parse("10.0.0/8"));
  CHECK_FALSE(IpRange::parse("10.0.0.0/x"));
}
