// statsd input: real UDP and TCP packets to a started input, then gathers with exact expected
// metrics (Telegraf's names, tags and fields), bad lines rejected with their reason.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "inputs/statsd/aggregates.hpp"
#include "inputs/statsd/line_parser.hpp"
#include "inputs/statsd/templates.hpp"
#include "plugin_test_support.hpp"
#include "service_recorder.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/test_plugins.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

void send_udp(int port, const std::string& packet) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr = loopback(port);
  ssize_t n =
      sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  close(fd);
  REQUIRE(n == static_cast<ssize_t>(packet.size()));
}

int connect_tcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = loopback(port);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void send_all(int fd, const std::string& data) {
  REQUIRE(send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size()));
}

// True when the peer closed the connection within `seconds`.
bool closed_by_peer(int fd, double seconds) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(seconds * 1000)) <= 0) return false;
  char c;
  return recv(fd, &c, 1, 0) == 0;
}

// Everything sent before a packet whose only line is `marker` (a bad line) has been aggregated
// once that line is reported: one thread parses the packets in the order they came.
void sync_on(ServiceRecorder& rec, int port, const std::string& marker, bool tcp = false) {
  if (!tcp) {
    send_udp(port, marker);
    REQUIRE(eventually([&] { return rec.rejected_contains(marker); }));
    return;
  }
  // Over TCP the connection may be refused while the previous one is still being closed
  // (max_tcp_connections): try again.
  bool seen = false;
  for (int i = 0; i < 20 && !seen; ++i) {
    int fd = connect_tcp(port);
    send(fd, (marker + "\n").data(), marker.size() + 1, MSG_NOSIGNAL);
    close(fd);
    seen = eventually([&] { return rec.rejected_contains(marker); }, 0.25);
  }
  REQUIRE(seen);
}

std::string address(int port) { return "127.0.0.1:" + std::to_string(port); }

// A started statsd input on a free port of 127.0.0.1; stopped before its recorder goes.
struct Server {
  int port = free_port();
  ServiceRecorder rec;
  std::unique_ptr<Input> input;
  explicit Server(OptionOverrides o) {
    o.emplace_back("service_address", address(port));
    input = make_input("statsd", o);
    dynamic_cast<ServiceInput&>(*input).start(rec);
  }
  ~Server() { dynamic_cast<ServiceInput&>(*input).stop(); }
  RecordingAccumulator gather() {
    RecordingAccumulator acc;
    input->gather(acc);
    return acc;
  }
};

const Metric* find_metric(const RecordingAccumulator& acc, const std::string& name,
                          const std::string& metric_type) {
  for (const Metric& m : acc.metrics) {
    if (m.name() == name && m.tag("metric_type") == metric_type) return &m;
  }
  return nullptr;
}

double number(const Metric& m, const std::string& field) {
  const FieldValue* v = m.field(field);
  REQUIRE_MESSAGE(v != nullptr, "no field " << field);
  if (const double* d = std::get_if<double>(v)) return *d;
  return static_cast<double>(std::get<int64_t>(*v));
}

}  // namespace

TEST_CASE(
    "statsd over UDP: counters with sample rates, gauges with deltas, sets, tags in the name") {
  Server srv({});
  int port = srv.port;
  ServiceRecorder& rec = srv.rec;
  Input* input = srv.input.get();

  // Several lines per packet, several values per line.
  send_udp(port,
           "deploys.test.myservice:1|c:101|c:1|c|@0.1\n"
           "users.current,service=payroll,region=us-west:32|g:+10|g:-5|g\n"
           "users.unique:101|s:101|s:102|s");
  send_udp(port, "deploys.test.myservice:-2|c\nusers.unique:103|s\n");
  sync_on(rec, port, "marker-one");

  RecordingAccumulator acc;
  input->gather(acc);
  std::vector<std::string> expected = {
      "deploys_test_myservice,metric_type=counter value=110i 1700000000000000000",
      "users_current,metric_type=gauge,region=us-west,service=payroll value=37 "
      "1700000000000000000",
      "users_unique,metric_type=set value=3i 1700000000000000000",
  };
  CHECK(sorted_lines(acc) == expected);
  for (const Metric& m : acc.metrics) {
    if (m.name() == "deploys_test_myservice") CHECK(m.type() == ValueType::kCounter);
    if (m.name() == "users_current") CHECK(m.type() == ValueType::kGauge);
  }
  CHECK(rec.rejected().size() == 1);  // only the marker

  // delete_* are true: the next gather has nothing until more arrives.
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.metrics.empty());

  send_udp(port, "deploys.test.myservice:4|c\n");
  sync_on(rec, port, "marker-two");
  input->gather(acc);
  CHECK(sorted_lines(acc) ==
        std::vector<std::string>{
            "deploys_test_myservice,metric_type=counter value=4i 1700000000000000000"});
}

TEST_CASE(
    "statsd timings: mean, median, stddev, sum, bounds, count and percentiles match an independent "
    "computation") {
  Server srv({{"percentiles", std::vector<std::string>{"50", "90", "99.9", "100"}}});
  int port = srv.port;
  ServiceRecorder& rec = srv.rec;
  Input* input = srv.input.get();

  // 1..200 in a scrambled order, ten values per packet, several values per line.
  std::vector<double> values;
  for (int i = 0; i < 200; ++i) values.push_back(static_cast<double>((i * 67) % 200 + 1));
  for (size_t i = 0; i < values.size(); i += 10) {
    std::string line = "api.request.latency";
    for (size_t j = i; j < i + 10; ++j)
      line += ":" + std::to_string(static_cast<int>(values[j])) + "|ms";
    send_udp(port, line + "\n");
  }
  // A histogram is its own series (metric_type=histogram); @0.25 counts a value four times.
  send_udp(port, "api.size:3|h|@0.25\napi.size:5|h\n");
  sync_on(rec, port, "marker-timing");

  RecordingAccumulator acc;
  input->gather(acc);
  REQUIRE(acc.metrics.size() == 2);
  const Metric* timing = find_metric(acc, "api_request_latency", "timing");
  REQUIRE(timing != nullptr);

  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const double n = static_cast<double>(sorted.size());
  const double sum = std::accumulate(sorted.begin(), sorted.end(), 0.0);
  const double mean = sum / n;
  double squares = 0;
  for (double v : sorted) squares += (v - mean) * (v - mean);
  auto rank = [&](double p) {
    return sorted[std::min(sorted.size() - 1, static_cast<size_t>(std::floor(n * p / 100)))];
  };
  CHECK(std::get<int64_t>(*timing->field("count")) == 200);
  CHECK(number(*timing, "sum") == sum);
  CHECK(number(*timing, "sum") == 20100);
  CHECK(number(*timing, "lower") == 1);
  CHECK(number(*timing, "upper") == 200);
  CHECK(number(*timing, "mean") == doctest::Approx(mean).epsilon(1e-12));
  CHECK(number(*timing, "stddev") == doctest::Approx(std::sqrt(squares / n)).epsilon(1e-12));
  CHECK(number(*timing, "median") == 100.5);
  CHECK(number(*timing, "50_percentile") == rank(50));
  CHECK(number(*timing, "50_percentile") == 101);
  CHECK(number(*timing, "90_percentile") == rank(90));
  CHECK(number(*timing, "90_percentile") == 181);
  CHECK(number(*timing, "99.9_percentile") == rank(99.9));
  CHECK(number(*timing, "99.9_percentile") == 200);
  CHECK(number(*timing, "100_percentile") == 200);
  CHECK(timing->fields().size() == 11);

  const Metric* histogram = find_metric(acc, "api_size", "histogram");
  REQUIRE(histogram != nullptr);
  CHECK(std::get<int64_t>(*histogram->field("count")) == 5);
  CHECK(number(*histogram, "sum") == 17);
  CHECK(number(*histogram, "lower") == 3);
  CHECK(number(*histogram, "upper") == 5);
  CHECK(number(*histogram, "mean") == doctest::Approx(3.4));
  CHECK(number(*histogram, "median") == 3);
}

TEST_CASE("statsd percentile_limit keeps a bounded sample while count and sum stay exact") {
  Server srv({{"percentile_limit", int64_t{10}}, {"percentiles", std::vector<std::string>{"50"}}});
  int port = srv.port;
  ServiceRecorder& rec = srv.rec;
  Input* input = srv.input.get();
  for (int i = 1; i <= 100; ++i) send_udp(port, "t:" + std::to_string(i) + "|ms");
  sync_on(rec, port, "marker-limit");
  RecordingAccumulator acc;
  input->gather(acc);
  REQUIRE(acc.metrics.size() == 1);
  const Metric& m = acc.metrics[0];
  CHECK(std::get<int64_t>(*m.field("count")) == 100);
  CHECK(number(m, "sum") == 5050);
  CHECK(number(m, "lower") == 1);
  CHECK(number(m, "upper") == 100);
  double p50 = number(m, "50_percentile");
  CHECK(p50 >= 1);
  CHECK(p50 <= 100);
  CHECK(p50 == std::floor(p50));  // one of the values sent, not an interpolation
}

TEST_CASE(
    "statsd bad lines are rejected with their reason and the rest of the packet goes through") {
  Server srv({});
  int port = srv.port;
  ServiceRecorder& rec = srv.rec;
  Input* input = srv.input.get();
  send_udp(port,
           "good.one:1|c\n"
           "no colon here\n"
           "bad.type:1|x\n"
           "bad.value:abc|g\n"
           "bad.rate:1|c|@2\n"
           "bad.sign:+3|ms\n"
           "bad.pipe:5\n"
           "half.bad:1|c:2|q\n"
           "good.two:7|g\n");
  sync_on(rec, port, "marker-bad");
  std::vector<std::string> rejected = rec.rejected();
  REQUIRE(rejected.size() == 8);
  CHECK(rejected[0].ends_with(
      "statsd line 2 \"no colon here\": no ':' between the name and the value"));
  CHECK(rejected[1].ends_with(
      "statsd line 3 \"bad.type:1|x\": unknown metric type \"x\" (c, g, s, ms, h or d)"));
  CHECK(rejected[2].ends_with("statsd line 4 \"bad.value:abc|g\": value \"abc\" is not a number"));
  CHECK(rejected[3].ends_with(
      "statsd line 5 \"bad.rate:1|c|@2\": sample rate \"@2\" is not @ and a number in (0, 1]"));
  CHECK(rejected[4].ends_with(
      "statsd line 6 \"bad.sign:+3|ms\": +/- values are only for gauges and counters"));
  CHECK(rejected[5].ends_with("statsd line 7 \"bad.pipe:5\": no '|type' after the value"));
  CHECK(
      rejected[6].ends_with("statsd line 8 \"half.bad:1|c:2|q\": unknown metric type \"q\" (c, g, "
                            "s, ms, h or d) (value 2)"));
  CHECK(rejected[0].starts_with("127.0.0.1:"));

  RecordingAccumulator acc;
  input->gather(acc);
  // A line with one bad value is rejected whole: half.bad adds nothing.
  CHECK(sorted_lines(acc) ==
        std::vector<std::string>{"good_one,metric_type=counter value=1i 1700000000000000000",
                                 "good_two,metric_type=gauge value=7 1700000000000000000"});
}

TEST_CASE(
    "statsd over TCP: lines split across writes, a last line without a break, "
    "max_tcp_connections") {
  Server srv({{"protocol", std::string("tcp")}, {"max_tcp_connections", int64_t{1}}});
  int port = srv.port;
  ServiceRecorder& rec = srv.rec;
  Input* input = srv.input.get();

  int first = connect_tcp(port);
  send_all(first, "tcp.count:2|c\ntcp.gau");
  // The first connection is taken: a second one is closed by the server.
  REQUIRE(eventually([&] {
    int second = connect_tcp(port);
    bool closed = closed_by_peer(second, 0.5);
    close(second);
    return closed;
  }));
  send_all(first, "ge:9.5|g\ntcp.count:3|c");
  close(first);  // the last line has no line break: it is still read
  sync_on(rec, port, "marker-tcp", true);

  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(sorted_lines(acc) ==
        std::vector<std::string>{"tcp_count,metric_type=counter value=5i 1700000000000000000",
                                 "tcp_gauge,metric_type=gauge value=9.5 1700000000000000000"});
}

TEST_CASE("statsd DataDog extensions: tags, container, distributions") {
  Server srv({{"datadog_extensions", true},
              {"datadog_distributions", true},
              {"datadog_keep_container_tag", true}});
  int port = srv.port;
  ServiceRecorder& rec = srv.rec;
  Input* input = srv.input.get();
  send_udp(port,
           "page.views:1|c|@0.5|#env:prod,region:eu|c:abc123\n"
           "page.views:3|c|#env:prod,region:eu,canary|c:abc123\n"
           "req.size:3.5|d|#route:/a\n"
           "req.size:5|d|#route:/a\n");
  sync_on(rec, port, "marker-dd");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(sorted_lines(acc) ==
        std::vector<std::string>{
            "page_views,canary=true,container=abc123,env=prod,metric_type=counter,region=eu "
            "value=3i 1700000000000000000",
            "page_views,container=abc123,env=prod,metric_type=counter,region=eu value=2i "
            "1700000000000000000",
            "req_size,metric_type=distribution,route=/a value=3.5 1700000000000000000",
            "req_size,metric_type=distribution,route=/a value=5 1700000000000000000",
        });
}

TEST_CASE("statsd templates: measurement parts, tags, default tags, the most specific filter") {
  Server srv({{"templates", std::vector<std::string>{"cpu.* measurement.measurement.region",
                                                     "cpu.load.* measurement.field.region",
                                                     "mem.* measurement.measurement.host env=prod",
                                                     "measurement.measurement.field*"}}});
  int port = srv.port;
  ServiceRecorder& rec = srv.rec;
  Input* input = srv.input.get();
  send_udp(port,
           "cpu.idle.us-west:90|g\n"
           "cpu.load.us-west:1.5|g\n"
           "mem.cached.localhost:256|g\n"
           "disk.io.read.bytes:7|c\n");
  sync_on(rec, port, "marker-templates");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(sorted_lines(acc) ==
        std::vector<std::string>{
            "cpu,metric_type=gauge,region=us-west load=1.5 1700000000000000000",
            "cpu_idle,metric_type=gauge,region=us-west value=90 1700000000000000000",
            "disk_io,metric_type=counter read_bytes=7i 1700000000000000000",
            "mem_cached,env=prod,host=localhost,metric_type=gauge value=256 1700000000000000000",
        });
}

TEST_CASE("statsd keeps counters and gauges across gathers when not deleted") {
  Server srv({{"delete_counters", false},
              {"delete_gauges", false},
              {"metric_separator", std::string(".")}});
  int port = srv.port;
  ServiceRecorder& rec = srv.rec;
  Input* input = srv.input.get();
  send_udp(port, "a.b:5|c\nq.depth:10|g\n");
  sync_on(rec, port, "marker-keep-1");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(sorted_lines(acc) ==
        std::vector<std::string>{"a.b,metric_type=counter value=5i 1700000000000000000",
                                 "q.depth,metric_type=gauge value=10 1700000000000000000"});
  send_udp(port, "a.b:2|c\nq.depth:-4|g\n");
  sync_on(rec, port, "marker-keep-2");
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(sorted_lines(acc) ==
        std::vector<std::string>{"a.b,metric_type=counter value=7i 1700000000000000000",
                                 "q.depth,metric_type=gauge value=6 1700000000000000000"});
}

TEST_CASE("statsd reads what nc -u sends") {
  if (run_command("command -v nc").exit_code != 0) {
    MESSAGE("nc is not installed; skipped");
    return;
  }
  Server srv({});
  int port = srv.port;
  ServiceRecorder& rec = srv.rec;
  Input* input = srv.input.get();
  CommandResult r = run_command("printf 'nc.sent:4|c\\nnc.sent:6|c\\n' | nc -u -w1 127.0.0.1 " +
                                std::to_string(port));
  REQUIRE(r.exit_code == 0);
  sync_on(rec, port, "marker-nc");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(sorted_lines(acc) ==
        std::vector<std::string>{"nc_sent,metric_type=counter value=10i 1700000000000000000"});
}

TEST_CASE("statsd options are checked when the input is created") {
  auto error_of = [](const OptionOverrides& o) -> std::string {
    try {
      make_input("statsd", o);
    } catch (const OptionError& e) {
      return e.option() + ": " + e.what();
    }
    return "";
  };
  CHECK(error_of({{"protocol", std::string("sctp")}}) ==
        "protocol: expected udp, udp4, udp6, tcp, tcp4 or tcp6, got \"sctp\"");
  CHECK(error_of({{"service_address", std::string("8125")}}) ==
        "service_address: expected host:port or :port, got \"8125\"");
  CHECK(error_of({{"service_address", std::string(":99999")}}) ==
        "service_address: \"99999\" in \":99999\" is not a port number (0 to 65535)");
  CHECK(error_of({{"percentiles", std::vector<std::string>{"90", "abc"}}}) ==
        "percentiles: \"abc\" is not a percentile in (0, 100]");
  CHECK(error_of({{"templates", std::vector<std::string>{"a.* host.field"}}}) ==
        "templates: \"a.* host.field\": the template names no measurement part");
  CHECK(error_of({{"max_tcp_connections", int64_t{0}}}) ==
        "max_tcp_connections: must be at least 1");
}

TEST_CASE("statsd reports a taken port and keeps trying") {
  // The port is taken before the input starts.
  int port = free_port();
  int blocker = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr = loopback(port);
  REQUIRE(bind(blocker, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ServiceRecorder rec;
  auto input = make_input("statsd", {{"service_address", address(port)}});
  auto& service = dynamic_cast<ServiceInput&>(*input);
  service.start(rec);
  REQUIRE(rec.errors().size() == 1);
  CHECK(rec.errors()[0] == "cannot listen on udp 127.0.0.1:" + std::to_string(port) +
                               ": Address already in use; trying again every second");
  close(blocker);
  // Bound on a later try: a marker line then comes through.
  bool through = false;
  for (int i = 0; i < 50 && !through; ++i) {
    send_udp(port, "marker-retry");
    through = eventually([&] { return rec.rejected_contains("marker-retry"); }, 0.1);
  }
  CHECK(through);
  service.stop();
}

TEST_CASE("statsd float_counters keep sampled counts unrounded, max_ttl forgets idle series") {
  using namespace sluice::inputs::statsd;
  Templates templates({}, "_");
  LineParser parser(LineOptions{}, templates);
  std::vector<Sample> samples;
  REQUIRE(parser.parse("hits:1|c|@0.3:2|c", samples) == "");
  REQUIRE(parser.parse("depth:4|g", samples) == "");
  REQUIRE(samples.size() == 3);

  EmitOptions options;
  options.float_counters = true;
  options.delete_gauges = false;
  options.max_ttl = std::chrono::seconds(10);
  Aggregates aggregates(options);
  auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  for (Sample& s : samples) aggregates.add(std::move(s), t0);

  Batch out;
  aggregates.emit(out, t0 + std::chrono::seconds(5));
  REQUIRE(out.size() == 2);
  const Metric& gauge = out[0];
  const Metric& counter = out[1];
  CHECK(gauge.name() == "depth");
  CHECK(std::get<double>(*gauge.field("value")) == 4);
  CHECK(counter.name() == "hits");
  CHECK(std::get<double>(*counter.field("value")) == doctest::Approx(1 / 0.3 + 2));

  // The gauge is kept (delete_gauges: false) while updated within max_ttl...
  out.clear();
  aggregates.emit(out, t0 + std::chrono::seconds(9));
  REQUIRE(out.size() == 1);
  CHECK(out[0].name() == "depth");
  // ...emitted once more after it expired, then forgotten.
  out.clear();
  aggregates.emit(out, t0 + std::chrono::seconds(11));
  CHECK(out.size() == 1);
  out.clear();
  aggregates.emit(out, t0 + std::chrono::seconds(12));
  CHECK(out.empty());

  // Without float_counters, a sampled counter counts as Telegraf does: 1/0.3 truncated to 3.
  std::vector<Sample> again;
  REQUIRE(parser.parse("hits:1|c|@0.3", again) == "");
  CHECK(again[0].count == 3);
}

TEST_CASE("statsd counters out of the int64 range saturate instead of overflowing") {
  using namespace sluice::inputs::statsd;
  Templates templates({}, "_");
  LineParser parser(LineOptions{}, templates);
  std::vector<Sample> samples;
  REQUIRE(parser.parse("big:1e30|c", samples) == "");
  REQUIRE(parser.parse("tiny:5|c|@1e-300", samples) == "");
  REQUIRE(parser.parse("low:-1e30|c", samples) == "");
  REQUIRE(samples.size() == 3);
  CHECK(samples[0].count == INT64_MAX);
  CHECK(samples[1].count == INT64_MAX);
  CHECK(samples[2].count == INT64_MIN);

  Aggregates aggregates(EmitOptions{});
  auto now = std::chrono::steady_clock::now();
  aggregates.add(Sample(samples[0]), now);
  aggregates.add(Sample(samples[0]), now);  // a second INT64_MAX: stays at the maximum
  Batch out;
  aggregates.emit(out, now);
  REQUIRE(out.size() == 1);
  CHECK(std::get<int64_t>(*out[0].field("value")) == INT64_MAX);
}
