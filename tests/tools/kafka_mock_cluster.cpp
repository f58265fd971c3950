// A Kafka cluster for tests and benchmarks: librdkafka's built-in mock cluster in a process of
// its own, so that sluice and an independent client (kcat) both talk to it over TCP.
//
// Prints the bootstrap servers ("127.0.0.1:PORT,...") as its first line on stdout, then reads
// commands on stdin, one a line, answering each with "ok" or "error: ..." on stdout:
//
//   topic NAME PARTITIONS         create a topic
//   down BROKER_ID | up BROKER_ID take a broker down (connections refused and closed) or back
//   down all | up all             the same for every broker
//   produce_errors COUNT CODE     the next COUNT Produce requests fail with error CODE
//   clear_errors                  forget the injected Produce errors
//   rtt BROKER_ID MS              delay every answer of a broker
//
// Runs until stdin closes or SIGTERM/SIGINT arrives.
//
// usage: kafka_mock_cluster [--brokers N] [--partitions N]
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

// Kafka's ApiKey of Produce requests.
constexpr int16_t kProduceApiKey = 0;

void reply(const std::string& text) {
  std::printf("%s\n", text.c_str());
  std::fflush(stdout);
}

std::string run_command(rd_kafka_mock_cluster_t* cluster, int brokers, const std::string& line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  if (verb == "topic") {
    std::string name;
    int partitions = 0;
    if (!(in >> name >> partitions) || partitions <= 0)
      return "error: usage: topic NAME PARTITIONS";
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, 1);
    return err ? std::string("error: ") + rd_kafka_err2str(err) : "ok";
  }
  if (verb == "down" || verb == "up") {
    std::string which;
    if (!(in >> which)) return "error: usage: " + verb + " BROKER_ID|all";
    std::vector<int32_t> ids;
    if (which == "all") {
      for (int32_t id = 1; id <= brokers; ++id) ids.push_back(id);
    } else {
      ids.push_back(std::atoi(which.c_str()));
    }
    for (int32_t id : ids) {
      rd_kafka_resp_err_t err = verb == "down" ? rd_kafka_mock_broker_set_down(cluster, id)
                                               : rd_kafka_mock_broker_set_up(cluster, id);
      if (err)
        return std::string("error: broker ") + std::to_string(id) + ": " + rd_kafka_err2str(err);
    }
    return "ok";
  }
  if (verb == "produce_errors") {
    size_t count = 0;
    int code = 0;
    if (!(in >> count >> code) || count == 0) return "error: usage: produce_errors COUNT CODE";
    std::vector<rd_kafka_resp_err_t> errors(count, static_cast<rd_kafka_resp_err_t>(code));
    rd_kafka_mock_push_request_errors_array(cluster, kProduceApiKey, count, errors.data());
    return "ok";
  }
  if (verb == "clear_errors") {
    rd_kafka_mock_clear_request_errors(cluster, kProduceApiKey);
    return "ok";
  }
  if (verb == "rtt") {
    int32_t id = 0;
    int ms = 0;
    if (!(in >> id >> ms)) return "error: usage: rtt BROKER_ID MS";
    rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(cluster, id, ms);
    return err ? std::string("error: ") + rd_kafka_err2str(err) : "ok";
  }
  return "error: unknown command \"" + verb + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  int partitions = 0;  // 0: the mock cluster's own default for auto-created topics
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (arg == "--partitions" && i + 1 < argc) {
      partitions = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--brokers N] [--partitions N]\n", argv[0]);
      return 2;
    }
  }
  if (brokers <= 0) {
    std::fprintf(stderr, "kafka_mock_cluster: --brokers must be positive\n");
    return 2;
  }

  struct sigaction action {};
  action.sa_handler = on_signal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the cluster; it never connects anywhere itself.
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  if (partitions > 0) {
    std::string value = std::to_string(partitions);
    // Not every librdkafka knows this property; the default (4 partitions) then stays.
    rd_kafka_conf_set(conf, "test.mock.default.partition.cnt", value.c_str(), errstr,
                      sizeof errstr);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    std::fprintf(stderr, "kafka_mock_cluster: cannot create the client handle: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "kafka_mock_cluster: cannot create the mock cluster\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  reply(rd_kafka_mock_cluster_bootstraps(cluster));

  std::string pending;
  while (!g_stop) {
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    int ready = poll(&fd, 1, 200);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) continue;
    char buffer[4096];
    ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
    if (n <= 0) break;  // stdin closed: the parent is gone or done
    pending.append(buffer, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (!line.empty()) reply(run_command(cluster, brokers, line));
    }
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
