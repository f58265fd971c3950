// Input throughput: statsd (UDP packets of 20 lines from this process to a started input, until
// a marker line is seen) and tail (a file of 1M line-protocol lines read from its beginning).
// Prints lines per second of wall time and CPU time per line; judges nothing.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "config/option_reader.hpp"
#include "config/option_tables.hpp"
#include "plugin/registry.hpp"
#include "support/net.hpp"

namespace {

using namespace sluice;

double cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

double wall_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

class QuietLogger final : public Logger {
 public:
  void log(LogLevel, std::string_view) override {}
  bool enabled(LogLevel) const override { return false; }
};

class CountingAccumulator final : public Accumulator {
 public:
  void add(Metric m) override {
    if (const FieldValue* v = m.field("value"); v && std::holds_alternative<int64_t>(*v)) {
      counted += std::get<int64_t>(*v);
    }
    metrics.fetch_add(1);
  }
  void add_batch(Batch batch) override {
    for (const Metric& m : batch) {
      if (const FieldValue* v = m.field("value"); v && std::holds_alternative<int64_t>(*v)) {
        counted += std::get<int64_t>(*v);
      }
    }
    metrics.fetch_add(batch.size());
    batches.fetch_add(1);
  }
  void add_error(std::string_view) override {}
  void add_rejected(std::string_view) override { rejected.fetch_add(1); }
  int64_t time() const override { return 1'700'000'000'000'000'000; }
  std::atomic<size_t> metrics{0}, batches{0}, rejected{0};
  int64_t counted = 0;
};

std::unique_ptr<Input> make(const char* name, const std::string& yaml) {
  const plugin::PluginInfo* info = plugin::Registry::builtins().find(plugin::Kind::kInput, name);
  static QuietLogger log;
  static std::vector<Options> keep;  // the inputs may keep their options' strings
  keep.push_back(config::read_options(YAML::Load(yaml),
                                      config::all_options(*info, plugin::Registry::builtins()),
                                      "bench", name)
                     .options);
  return info->create_input({keep.back(), log});
}

bool wait_for(const std::function<bool()>& done, double seconds) {
  double until = wall_s() + seconds;
  while (wall_s() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return done();
}

void bench_statsd() {
  constexpr int kPackets = 50'000;
  constexpr int kLinesPerPacket = 20;
  int port = testing::free_port();
  auto input = make("statsd", "{service_address: \"127.0.0.1:" + std::to_string(port) +
                                  "\", allowed_pending_messages: 1000000, "
                                  "read_buffer_size: 16MiB, percentiles: [50, 90, 99]}");
  auto& service = dynamic_cast<ServiceInput&>(*input);
  CountingAccumulator acc;
  service.start(acc);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string packet;
  for (int i = 0; i < kLinesPerPacket; ++i) {
    // 10 counters and 10 timings over 100 series.
    packet += "app.requests.s" + std::to_string(i * 5) + ",host=web1:1|c\n";
    packet += "app.latency.s" + std::to_string(i * 5) + ":" + std::to_string(i + 3) + "|ms\n";
    ++i;
  }
  double wall = wall_s(), cpu = cpu_ns();
  for (int p = 0; p < kPackets; ++p) {
    sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  std::string marker = "marker";
  sendto(fd, marker.data(), marker.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  bool seen = wait_for([&] { return acc.rejected.load() > 0; }, 60);
  double elapsed = wall_s() - wall, cpu_used = cpu_ns() - cpu;
  close(fd);
  CountingAccumulator gathered;
  input->gather(gathered);
  service.stop();
  const double lines = static_cast<double>(kPackets) * kLinesPerPacket;
  std::printf(
      "statsd udp: %d packets x %d lines sent in %.3f s%s: %.0f lines/s, %.0f ns CPU/line "
      "(sender included); %lld of %d counter increments arrived (the rest dropped by "
      "the kernel)\n",
      kPackets, kLinesPerPacket, elapsed, seen ? "" : " (marker not seen)", lines / elapsed,
      cpu_used / lines, static_cast<long long>(gathered.counted), kPackets * kLinesPerPacket / 2);
}

void bench_tail() {
  constexpr int kLines = 1'000'000;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "sluice-tail-bench";
  std::filesystem::create_directories(dir);
  std::string path = (dir / "bench.log").string();
  {
    std::ofstream out(path, std::ios::trunc);
    for (int i = 0; i < kLines; ++i) {
      out << "http_requests,host=web" << (i % 10) << ",path=/api/v" << (i % 3)
          << " status=200i,latency=" << (i % 1000) * 0.25 << ",bytes=" << i << "i "
          << 1'700'000'000'000'000'000LL + i << "\n";
    }
  }
  auto input = make("tail", "{files: [\"" + path + "\"], from_beginning: true}");
  auto& service = dynamic_cast<ServiceInput&>(*input);
  CountingAccumulator acc;
  double wall = wall_s(), cpu = cpu_ns();
  service.start(acc);
  bool done = wait_for([&] { return acc.metrics.load() >= kLines; }, 120);
  double elapsed = wall_s() - wall, cpu_used = cpu_ns() - cpu;
  service.stop();
  std::printf(
      "tail: %d lines (%.1f MB) read in %.3f s%s: %.0f lines/s, %.0f ns CPU/line, %zu "
      "batches\n",
      kLines, static_cast<double>(std::filesystem::file_size(path)) / 1e6, elapsed,
      done ? "" : " (not all read)", kLines / elapsed, cpu_used / kLines, acc.batches.load());
  std::filesystem::remove_all(dir);
}

}  // namespace

int main() {
  plugin::Registry::set_active(plugin::Registry::builtins());
  bench_statsd();
  bench_tail();
  return 0;
}
