// sluice's kafka output against kcat -P, the protocol's own thin client, on the same Kafka
// mock cluster (tests/tools/kafka_mock_cluster, librdkafka's mock brokers on 127.0.0.1): the
// same N metrics as line protocol, one message each, acks from the leader (-1, one broker).
// kcat -P exits once every delivery report is in; sluice's run ends when the output has
// counted all N as written, which it does only on their delivery reports. Both are then read
// checked by the topic's high watermarks: every message is there. The runs alternate, three
// times each, and the ratio of the best of each is printed.
//
//   kafka_bench [metrics=1000000] [batch=5000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "config/config.hpp"
#include "pipeline/pipeline.hpp"
#include "support/kafka_mock.hpp"
#include "support/net.hpp"

using namespace sluice;
using sluice::testing::KafkaMockCluster;
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

// The line sluice's influx serializer writes for make_metric(i), without its newline (kcat -P
// splits its input at newlines).
std::string make_line(int64_t i) {
  char value[64];
  std::snprintf(value, sizeof value, "%.17g", static_cast<double>(i) * 0.25);
  return "bench,host=h" + std::to_string(i % 10) + ",region=eu-west value=" + value +
         ",count=" + std::to_string(i) + "i,ok=" + (i % 2 == 0 ? "true" : "false") + " " +
         std::to_string(kBaseTime + i);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Messages the cluster appended to `topic`: the sum of its partitions' high watermarks. (The
// mock cluster keeps only the newest few MB of a partition, so reading a large topic back from
// the beginning finds fewer messages than were written.)
int64_t appended_messages(const std::string& bootstrap, const std::string& topic) {
  char error[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (rk == nullptr) return -1;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  int64_t total = -1;
  if (rd_kafka_metadata(rk, 0, rkt, &metadata, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (metadata->topic_cnt == 1) {
      total = 0;
      const rd_kafka_metadata_topic_t& t = metadata->topics[0];
      for (int p = 0; p < t.partition_cnt && total >= 0; ++p) {
        int64_t low = 0, high = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), t.partitions[p].id, &low, &high,
                                             10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
          total = -1;
        } else {
          total += high;
        }
      }
    }
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return total;
}

double run_raw(const KafkaMockCluster& cluster, const std::string& lines_file,
               const std::string& topic) {
  auto start = std::chrono::steady_clock::now();
  auto r = run_command("kcat -P -b " + cluster.bootstrap() + " -t " + topic + " -X acks=-1 < " +
                       lines_file);
  double elapsed = seconds_since(start);
  if (r.exit_code != 0) {
    std::fprintf(stderr, "kcat -P failed: %s\n", r.output.c_str());
    return -1;
  }
  return elapsed;
}

double run_sluice(const KafkaMockCluster& cluster, std::vector<Batch> batches, int64_t n,
                  int64_t batch_size, const std::string& topic) {
  std::string yaml =
      "agent: {flush_interval: 100ms, metric_batch_size: " + std::to_string(batch_size) +
      ", metric_buffer_limit: " + std::to_string(n + batch_size) +
      ", omit_hostname: true, log_level: warn}\n"
      "outputs:\n  - kafka: {brokers: [\"" +
      cluster.bootstrap() + "\"], topic: " + topic + ", required_acks: -1}\n";
  config::Config config = config::load_text(yaml, "kafka-bench.yaml");
  pipeline::Pipeline pipeline(config, pipeline::SystemClock::instance());
  pipeline.start();
  auto& stats = pipeline.outputs().at(0)->stats();
  auto start = std::chrono::steady_clock::now();
  for (Batch& b : batches) pipeline.accept(std::move(b));
  while (stats.metrics_written < static_cast<uint64_t>(n) && seconds_since(start) < 600) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  double elapsed = seconds_since(start);
  bool ok = stats.metrics_written == static_cast<uint64_t>(n);
  pipeline.stop(pipeline::SystemClock::instance().now() + 5'000'000'000);
  return ok ? elapsed : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = argc > 1 ? std::atoll(argv[1]) : 1000000;
  int64_t batch_size = argc > 2 ? std::atoll(argv[2]) : 5000;
  if (!sluice::testing::kcat_available()) {
    std::printf("kafka_bench: kcat is not installed; skipped\n");
    return 0;
  }
  KafkaMockCluster cluster(SLUICE_KAFKA_MOCK_CLUSTER, 1);
  if (!cluster.started()) {
    std::fprintf(stderr, "kafka_bench: the mock cluster did not start\n");
    return 1;
  }
  sluice::testing::TempDir dir("kafka-bench");
  std::string lines_file = dir / "lines.txt";
  {
    std::ofstream out(lines_file);
    for (int64_t i = 0; i < n; ++i) out << make_line(i) << '\n';
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
      "kafka_bench: %lld metrics as line protocol, one message each, acks -1, sluice "
      "batch %lld; mock cluster at %s\n",
      static_cast<long long>(n), static_cast<long long>(batch_size), cluster.bootstrap().c_str());
  double best_raw = 0, best_sluice = 0;
  for (int round = 1; round <= 3; ++round) {
    std::string raw_topic = "raw" + std::to_string(round);
    std::string our_topic = "sluice" + std::to_string(round);
    double raw = run_raw(cluster, lines_file, raw_topic);
    double ours = run_sluice(cluster, make_batches(), n, batch_size, our_topic);
    if (raw <= 0 || ours <= 0) {
      std::fprintf(stderr, "kafka_bench: a run did not deliver every message\n");
      return 1;
    }
    int64_t raw_back = appended_messages(cluster.bootstrap(), raw_topic);
    int64_t our_back = appended_messages(cluster.bootstrap(), our_topic);
    std::printf(
        "  round %d: kcat -P %8.0f msg/s (%.2fs, %lld appended)   sluice %8.0f msg/s "
        "(%.2fs, %lld appended)\n",
        round, n / raw, raw, static_cast<long long>(raw_back), n / ours, ours,
        static_cast<long long>(our_back));
    best_raw = std::max(best_raw, n / raw);
    best_sluice = std::max(best_sluice, n / ours);
  }
  std::printf("best: kcat -P %.0f msg/s, sluice %.0f msg/s: sluice at %.0f%% (target >= 80%%)\n",
              best_raw, best_sluice, 100.0 * best_sluice / best_raw);
  return 0;
}
