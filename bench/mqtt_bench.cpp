// sluice's mqtt output against mosquitto_pub, the protocol's own thin client, on the same
// Mosquitto broker (started here on 127.0.0.1): the same N metrics as line protocol, one message
// each, at the same QoS. Each run is timed from the first publish until a subscriber
// (mosquitto_sub, QoS 0, started and subscribed before) has received all N messages, so the
// figure is delivered messages per second. The runs alternate, twice each, and the ratio of the
// better of each is printed.
//
// mosquitto_pub is fed at most kLinesPerPub lines at a time: the -l mode of Mosquitto 2.0.11
// ends its session when the acknowledgement of the packet id its last message will use
// arrives, and packet ids repeat after 65535, so with more lines at QoS 1 or 2 it quits early
// (after N - 65535 messages) and exits with success. One more connection per 50000 messages
// costs the reference a few milliseconds.
//
// With protocol 5, both sides speak MQTT 5 (mosquitto_pub -V mqttv5, the output's protocol: 5).
//
//   mqtt_bench [metrics=200000] [qos=1] [batch=5000] [protocol=3.1.1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "pipeline/pipeline.hpp"
#include "support/mosquitto.hpp"

using namespace sluice;
using sluice::testing::BackgroundProcess;
using sluice::testing::Mosquitto;
using sluice::testing::read_text;
using sluice::testing::run_command;

namespace {

constexpr int64_t kBaseTime = 1'700'000'000'000'000'000;

Metric make_metric(int64_t i) {
  Metric m("bench", kBaseTime + i);
  m.set_tag("host", "h" + std::to_string(i % 10));
  m.set_tag("region", "eu-west");
  m.set_field("value", static_cast<double>(i) * 0.25);
  m.set_field("count", i);
  m.set_field("ok", i % 2 == 0);
  return m;
}

// The line sluice's influx serializer writes for make_metric(i), without its newline (which
// mosquitto_pub -l strips from each line it reads).
std::string make_line(int64_t i) {
  char value[64];
  std::snprintf(value, sizeof value, "%.17g", static_cast<double>(i) * 0.25);
  std::string v = value;
  return "bench,host=h" + std::to_string(i % 10) + ",region=eu-west value=" + v +
         ",count=" + std::to_string(i) + "i,ok=" + (i % 2 == 0 ? "true" : "false") + " " +
         std::to_string(kBaseTime + i);
}

constexpr int64_t kLinesPerPub = 50000;
// How long a run may take to deliver everything before it counts as failed.
constexpr int kDeliverySeconds = 120;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// mosquitto_sub counting `count` messages on `topic`, subscribed before the clock starts.
class Counter {
 public:
  Counter(const Mosquitto& broker, const std::string& topic, int64_t count, int id)
      : port_(std::to_string(broker.port())),
        marker_("bench-sync/" + std::to_string(id)),
        file_(broker.dir() / ("count-" + std::to_string(id) + ".out")),
        process_("mosquitto_sub -h 127.0.0.1 -p " + port_ + " -q 0 -t '" + topic + "' -t '" +
                 marker_ + "' -C " + std::to_string(count + 1) + " -W " +
                 std::to_string(kDeliverySeconds) + " -F '%t' > " + file_ +
                 " 2>&1") {}

  bool sync() {
    run_command("mosquitto_pub -h 127.0.0.1 -p " + port_ + " -q 1 -r -t " + marker_ + " -m x");
    for (int i = 0; i < 1000; ++i) {
      if (read_text(file_).find(marker_) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // Waits until every message arrived (mosquitto_sub exits); false after `seconds`.
  bool wait(double seconds) { return process_.wait_exit(seconds) == 0; }

 private:
  std::string port_;
  std::string marker_;
  std::string file_;
  BackgroundProcess process_;
};

double run_raw(const Mosquitto& broker, const std::vector<std::string>& line_files, int64_t n,
               int qos, const std::string& protocol, int id) {
  Counter counter(broker, "bench/raw", n, id);
  if (!counter.sync()) return -1;
  auto start = std::chrono::steady_clock::now();
  for (const std::string& file : line_files) {
    auto r = run_command("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) +
                         (protocol == "5" ? " -V mqttv5" : "") +
                         " -q " + std::to_string(qos) + " -t bench/raw -l < " + file);
    if (r.exit_code != 0) {
      std::fprintf(stderr, "mosquitto_pub failed: %s\n", r.output.c_str());
      return -1;
    }
  }
  if (!counter.wait(kDeliverySeconds)) {
    std::fprintf(stderr, "mqtt_bench: mosquitto_pub's messages did not all arrive\n");
    return -1;
  }
  return seconds_since(start);
}

double run_sluice(const Mosquitto& broker, std::vector<Batch> batches, int64_t n, int qos,
                  int64_t batch_size, const std::string& protocol, int id) {
  Counter counter(broker, "bench/sluice", n, id);
  if (!counter.sync()) return -1;
  std::string yaml =
      "agent: {flush_interval: 100ms, metric_batch_size: " + std::to_string(batch_size) +
      ", metric_buffer_limit: " + std::to_string(n + batch_size) +
      ", omit_hostname: true, log_level: warn}\n"
      "outputs:\n  - mqtt: {servers: [\"127.0.0.1:" +
      std::to_string(broker.port()) + "\"], qos: " + std::to_string(qos) + ", protocol: \"" +
      protocol + "\"" +
      ", topic: bench/sluice}\n";
  config::Config config = config::load_text(yaml, "mqtt-bench.yaml");
  pipeline::Pipeline pipeline(config, pipeline::SystemClock::instance());
  pipeline.start();
  auto start = std::chrono::steady_clock::now();
  for (Batch& b : batches) pipeline.accept(std::move(b));
  bool ok = counter.wait(kDeliverySeconds);
  if (!ok) std::fprintf(stderr, "mqtt_bench: sluice's messages did not all arrive\n");
  double elapsed = seconds_since(start);
  pipeline.stop(pipeline::SystemClock::instance().now() + 5'000'000'000);
  return ok ? elapsed : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = argc > 1 ? std::atoll(argv[1]) : 200000;
  int qos = argc > 2 ? std::atoi(argv[2]) : 1;
  int64_t batch_size = argc > 3 ? std::atoll(argv[3]) : 5000;
  const std::string protocol = argc > 4 ? argv[4] : "3.1.1";
  if (!sluice::testing::mosquitto_available()) {
    std::printf("mqtt_bench: mosquitto and mosquitto-clients are not installed; skipped\n");
    return 0;
  }
  Mosquitto broker("mqtt-bench");
  if (!broker.start()) {
    std::fprintf(stderr, "mqtt_bench: the broker did not start\n");
    return 1;
  }
  std::vector<std::string> line_files;
  for (int64_t first = 0; first < n; first += kLinesPerPub) {
    line_files.push_back(broker.dir() / ("lines-" + std::to_string(line_files.size()) + ".txt"));
    std::ofstream out(line_files.back());
    for (int64_t i = first; i < std::min(n, first + kLinesPerPub); ++i) out << make_line(i) << '\n';
  }
  auto make_batches = [&] {
    std::vector<Batch> batches;
    for (int64_t i = 0; i < n; i += batch_size) {
      Batch b;
      for (int64_t j = i; j < std::min(n, i + batch_size); ++j) b.push_back(make_metric(j));
      batches.push_back(std::move(b));
    }
    return batches;
  };

  std::printf(
      "mqtt_bench: %lld metrics as line protocol, one message each, MQTT %s, QoS %d, "
      "sluice batch %lld; delivered/s counted by mosquitto_sub\n",
      static_cast<long long>(n), protocol.c_str(), qos, static_cast<long long>(batch_size));
  double best_raw = 0, best_sluice = 0;
  int id = 0;
  for (int round = 1; round <= 2; ++round) {
    double raw = run_raw(broker, line_files, n, qos, protocol, ++id);
    double ours = run_sluice(broker, make_batches(), n, qos, batch_size, protocol, ++id);
    if (raw <= 0 || ours <= 0) {
      std::fprintf(stderr, "mqtt_bench: a run did not deliver every message\n");
      return 1;
    }
    std::printf("  round %d: mosquitto_pub -l %8.0f msg/s (%.2fs)   sluice %8.0f msg/s (%.2fs)\n",
                round, n / raw, raw, n / ours, ours);
    best_raw = std::max(best_raw, n / raw);
    best_sluice = std::max(best_sluice, n / ours);
  }
  std::printf(
      "best: mosquitto_pub %.0f msg/s, sluice %.0f msg/s: sluice at %.0f%% "
      "(target >= 80%%)\n",
      best_raw, best_sluice, 100.0 * best_sluice / best_raw);
  return 0;
}
