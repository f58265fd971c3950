// End-to-end ingestion: line protocol over TCP into socket_listener and over HTTP (batches of
// 5000 lines) into influxdb_listener, through the pipeline into the file output writing to
// /dev/null; then collectd 5.12 in the same run (network plugin fed by collectd-tg, write_graphite
// into a local TCP sink that counts), for a side-by-side figure. Prints figures; asserts nothing.
//
//   listener_bench [metrics=3000000] [collectd_seconds=10] [scenarios]
//
// scenarios: a comma-separated choice among tcp1, discard, tcp4, http, overload, connections
// and collectd (all by default).
//
// Lossless runs use when_full: block, so a slower pipeline holds the sender back through TCP and
// "sent == written" is checked. CPU is the process's (getrusage) minus the sender threads' own.
#include <fmt/format.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "cpu_lines.hpp"
#include "core/http_client.hpp"
#include "pipeline/clock.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/registry.hpp"
#include "support/net.hpp"
#include "support/process.hpp"

using namespace sluice;
using Seconds = std::chrono::duration<double>;

namespace {

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double process_cpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

long current_rss_kib() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

int connect_tcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  for (int i = 0; i < 500; ++i) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  close(fd);
  return -1;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

struct Run {
  size_t sent = 0;
  size_t written = 0;
  size_t dropped = 0;
  double wall = 0;
  double agent_cpu = 0;
  long peak_rss = 0;
};

void print_run(const char* what, const Run& r) {
  double rate = static_cast<double>(r.written) / r.wall;
  std::printf("%s\n", what);
  std::printf("  sent %zu, written %zu, dropped %zu%s\n", r.sent, r.written, r.dropped,
              r.sent == r.written ? " (lossless)" : "");
  std::printf("  %.2f M metrics/s (%.2f M fields/s), wall %.2f s\n", rate / 1e6, rate * 5 / 1e6,
              r.wall);
  size_t read = r.sent;  // the input reads everything sent, in every scenario
  std::printf(
      "  agent cpu %.2f s = %.3f cpu-s per million metrics read = %.2f M metrics per "
      "cpu-s\n",
      r.agent_cpu, r.agent_cpu * 1e6 / static_cast<double>(read),
      static_cast<double>(read) / r.agent_cpu / 1e6);
  std::printf("  peak RSS of the process %.1f MiB\n", static_cast<double>(r.peak_rss) / 1024);
}

// socket_listener over TCP with `connections` senders of `per_connection` metrics each.
Run tcp_run(const std::string& block, size_t block_lines, size_t total, int connections,
            const std::string& when_full, const std::string& output_yaml, bool lossless = true) {
  int port = testing::free_port();
  std::string yaml = fmt::format(
      "agent: {{flush_interval: 200ms, metric_batch_size: 1000, metric_buffer_limit: 100000, "
      "omit_hostname: true}}\n"
      "inputs:\n  - socket_listener: {{service_address: \"tcp://127.0.0.1:{}\"}}\n"
      "outputs:\n  - {}\n",
      port, fmt::format(fmt::runtime(output_yaml), when_full));
  config::Config config = config::load_text(yaml, "bench.yaml", plugin::Registry::builtins());
  pipeline::Pipeline pipeline(config, pipeline::SystemClock::instance());
  pipeline.start();
  auto& stats = pipeline.outputs()[0]->stats();
  size_t per_connection = total / static_cast<size_t>(connections);
  size_t blocks = per_connection / block_lines;
  Run run;
  run.sent = blocks * block_lines * static_cast<size_t>(connections);
  std::vector<int> fds;
  for (int c = 0; c < connections; ++c) fds.push_back(connect_tcp(port));
  std::atomic<double> sender_cpu{0};
  double cpu_before = process_cpu();
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> senders;
  for (int c = 0; c < connections; ++c) {
    senders.emplace_back([&, fd = fds[static_cast<size_t>(c)]] {
      double before = thread_cpu();
      for (size_t b = 0; b < blocks; ++b) send_all(fd, block);
      close(fd);
      double used = thread_cpu() - before;
      double seen = sender_cpu.load();
      while (!sender_cpu.compare_exchange_weak(seen, seen + used)) {
      }
    });
  }
  for (auto& t : senders) t.join();
  auto& input_stats = pipeline.inputs()[0]->stats();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  // Lossless: until the output wrote everything. Overload: until the input read everything
  // (the output never writes).
  while ((lossless ? stats.metrics_written + stats.metrics_dropped
                   : input_stats.metrics_gathered.load()) < run.sent &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  run.wall = Seconds(std::chrono::steady_clock::now() - start).count();
  run.agent_cpu = process_cpu() - cpu_before - sender_cpu.load();
  run.written = stats.metrics_written;
  run.dropped = stats.metrics_dropped;
  run.peak_rss = peak_rss_kib();
  pipeline.stop(pipeline::SystemClock::instance().now() + (lossless ? 2'000'000'000 : 0));
  return run;
}

// influxdb_listener with `senders` HTTP clients posting bodies of 5000 lines.
Run http_run(const std::vector<std::string>& bodies, size_t lines_per_body, size_t total,
             int senders) {
  int port = testing::free_port();
  std::string yaml = fmt::format(
      "agent: {{flush_interval: 200ms, metric_batch_size: 5000, metric_buffer_limit: 100000, "
      "omit_hostname: true}}\n"
      "inputs:\n  - influxdb_listener: {{service_address: \"127.0.0.1:{}\"}}\n"
      "outputs:\n  - file: {{files: [/dev/null], when_full: block}}\n",
      port);
  config::Config config = config::load_text(yaml, "bench.yaml", plugin::Registry::builtins());
  pipeline::Pipeline pipeline(config, pipeline::SystemClock::instance());
  pipeline.start();
  testing::wait_for_port(port);
  auto& stats = pipeline.outputs()[0]->stats();
  size_t requests = total / lines_per_body / static_cast<size_t>(senders);
  Run run;
  run.sent = requests * lines_per_body * static_cast<size_t>(senders);
  std::atomic<double> sender_cpu{0};
  std::atomic<int> failures{0};
  double cpu_before = process_cpu();
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {
      double before = thread_cpu();
      core::HttpClientOptions options;
      options.timeout = std::chrono::seconds(30);
      core::HttpClient client(options);
      std::string url = fmt::format("http://127.0.0.1:{}/write?db=bench", port);
      for (size_t i = 0; i < requests; ++i) {
        core::HttpRequest request;
        request.url = url;
        request.body = bodies[(i + static_cast<size_t>(s)) % bodies.size()];
        auto response = client.send(request);
        if (response.status != 204) failures++;
      }
      double used = thread_cpu() - before;
      double seen = sender_cpu.load();
      while (!sender_cpu.compare_exchange_weak(seen, seen + used)) {
      }
    });
  }
  for (auto& t : threads) t.join();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (stats.metrics_written + stats.metrics_dropped < run.sent &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  run.wall = Seconds(std::chrono::steady_clock::now() - start).count();
  run.agent_cpu = process_cpu() - cpu_before - sender_cpu.load();
  run.written = stats.metrics_written;
  run.dropped = stats.metrics_dropped;
  run.peak_rss = peak_rss_kib();
  if (failures > 0) std::printf("  %d requests failed\n", failures.load());
  pipeline.stop(pipeline::SystemClock::instance().now() + 2'000'000'000);
  return run;
}

// What an idle connection costs socket_listener (a thread and a buffer each).
void connection_cost() {
  int port = testing::free_port();
  std::string yaml = fmt::format(
      "agent: {{omit_hostname: true}}\n"
      "inputs:\n  - socket_listener: {{service_address: \"tcp://127.0.0.1:{}\"}}\n"
      "outputs:\n  - file: {{files: [/dev/null]}}\n",
      port);
  config::Config config = config::load_text(yaml, "bench.yaml", plugin::Registry::builtins());
  pipeline::Pipeline pipeline(config, pipeline::SystemClock::instance());
  pipeline.start();
  constexpr int kConnections = 500;
  long before = current_rss_kib();
  std::vector<int> fds;
  for (int i = 0; i < kConnections; ++i) {
    int fd = connect_tcp(port);
    send_all(fd, "warm v=1i\n");  // makes the connection's thread touch its buffer
    fds.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long after = current_rss_kib();
  std::printf(
      "socket_listener, %d idle TCP connections: +%.1f KiB RSS each (thread + 64 KiB "
      "line buffer)\n",
      kConnections, static_cast<double>(after - before) / kConnections);
  for (int fd : fds) close(fd);
  pipeline.stop(pipeline::SystemClock::instance().now() + 2'000'000'000);
}

// collectd 5.12: network plugin <- collectd-tg, write_graphite -> a counting sink.
struct CollectdRun {
  bool ran = false;
  size_t values = 0;
  double wall = 0;
  double cpu = 0;
};

// A program run through `sh -c 'exec ...'`, so that its pid is the program's.
class Child {
 public:
  explicit Child(const std::string& command) {
    pid_ = fork();
    if (pid_ == 0) {
      std::string exec = "exec " + command;
      execl("/bin/sh", "sh", "-c", exec.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0 && running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  bool running() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  void stop(int sig) {
    if (pid_ <= 0) return;
    kill(pid_, sig);
    for (int i = 0; i < 1000 && running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  pid_t pid_ = -1;
};

double pid_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close_paren = text.rfind(')');
  if (close_paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(close_paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

CollectdRun collectd_run(double seconds) {
  CollectdRun out;
  if (!std::filesystem::exists("/usr/sbin/collectd") ||
      !std::filesystem::exists("/usr/bin/collectd-tg")) {
    std::printf(
        "collectd: not installed (apt-get install collectd-core collectd-utils); "
        "skipped\n");
    return out;
  }
  testing::TempDir dir("collectd-bench");
  int sink_port = testing::free_port();
  int listen_port = testing::free_port();
  // The sink: counts graphite lines.
  int sink = socket(AF_INET, SOCK_STREAM, 0);
  int yes = 1;
  setsockopt(sink, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(sink_port));
  bind(sink, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(sink, 16);
  std::atomic<size_t> lines{0};
  std::atomic<bool> stop{false};
  std::thread sink_thread([&] {
    std::vector<std::thread> readers;
    while (!stop) {
      timeval tv{0, 200'000};
      setsockopt(sink, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      int fd = accept(sink, nullptr, nullptr);
      if (fd < 0) continue;
      readers.emplace_back([&, fd] {
        std::vector<char> buffer(1 << 16);
        timeval rtv{0, 200'000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &rtv, sizeof rtv);
        while (!stop) {
          ssize_t n = recv(fd, buffer.data(), buffer.size(), 0);
          if (n == 0) break;
          if (n < 0) continue;
          size_t count = 0;
          for (ssize_t i = 0; i < n; ++i) count += buffer[static_cast<size_t>(i)] == '\n';
          lines += count;
        }
        close(fd);
      });
    }
    for (auto& t : readers) t.join();
  });
  std::ofstream(dir / "collectd.conf") << fmt::format(
      "Hostname \"bench\"\nFQDNLookup false\nInterval 10\nBaseDir \"{0}\"\n"
      "PIDFile \"{0}/collectd.pid\"\nTypesDB \"/usr/share/collectd/types.db\"\n"
      "WriteThreads 2\nReadThreads 1\n"
      "LoadPlugin network\nLoadPlugin write_graphite\n"
      "<Plugin network>\n  <Listen \"127.0.0.1\" \"{1}\">\n  </Listen>\n</Plugin>\n"
      "<Plugin write_graphite>\n  <Node \"sink\">\n    Host \"127.0.0.1\"\n    Port \"{2}\"\n"
      "    Protocol \"tcp\"\n  </Node>\n</Plugin>\n",
      dir.path().string(), listen_port, sink_port);
  Child collectd("/usr/sbin/collectd -f -C " + (dir / "collectd.conf") + " > " +
                 (dir / "collectd.log") + " 2>&1");
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // collectd-tg sends each of -n value lists once per -i seconds: 100000 lists every 10 ms asks
  // for far more than collectd takes, so what it writes is its ceiling.
  double cpu_before = pid_cpu_seconds(collectd.pid());
  size_t lines_before = lines;
  auto start = std::chrono::steady_clock::now();
  Child tg("/usr/bin/collectd-tg -n 100000 -H 100 -p 20 -i 0.01 -d 127.0.0.1 -D " +
           std::to_string(listen_port) + " > /dev/null 2>&1");
  std::this_thread::sleep_for(Seconds(seconds));
  tg.stop(SIGTERM);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let collectd write what it took
  out.wall = Seconds(std::chrono::steady_clock::now() - start).count();
  out.cpu = pid_cpu_seconds(collectd.pid()) - cpu_before;
  out.values = lines - lines_before;
  out.ran = collectd.running();
  collectd.stop(SIGTERM);
  stop = true;
  sink_thread.join();
  close(sink);
  if (!out.ran)
    std::printf("collectd did not run: %s\n", testing::read_text(dir / "collectd.log").c_str());
  return out;
}

// Runs one scenario in a child process, so that its peak RSS is its own.
template <typename F>
void isolated(F scenario) {
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    scenario();
    std::fflush(stdout);
    _exit(0);
  }
  waitpid(pid, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  size_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 3'000'000;
  double collectd_seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 10.0;
  std::string only = argc > 3 ? argv[3] : "tcp1,discard,tcp4,http,overload,connections,collectd";
  auto wanted = [&](const char* name) { return only.find(name) != std::string::npos; };
  signal(SIGPIPE, SIG_IGN);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  std::printf(
      "listener_bench: %zu metrics of 3 tags and 5 fields (~140 bytes of line protocol)\n"
      "machine: %ld cores; sender threads' cpu is not counted as the agent's; each "
      "scenario runs in a process of its own\n\n",
      total, sysconf(_SC_NPROCESSORS_ONLN));
  constexpr size_t kBlockLines = 20'000;
  std::string block = bench::cpu_lines(kBlockLines);
  const std::string to_null = "file: {{files: [/dev/null], when_full: {}}}";

  // The figures of the 1-connection TCP run, for the ratio to collectd (through a pipe, as the
  // run is in a child process).
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 1;
  if (wanted("tcp1")) {
    isolated([&] {
      tcp_run(block, kBlockLines, total / 4, 1, "block", to_null);  // warms up
      Run tcp1 = tcp_run(block, kBlockLines, total, 1, "block", to_null);
      print_run("TCP -> socket_listener -> file /dev/null, 1 connection, when_full: block", tcp1);
      double figures[2] = {static_cast<double>(tcp1.written) / tcp1.wall,
                           static_cast<double>(tcp1.written) / tcp1.agent_cpu};
      if (write(pipe_fds[1], figures, sizeof figures) != sizeof figures) std::printf("pipe\n");
    });
  }
  if (wanted("discard")) {
    isolated([&] {
      // Without the file output's serializing: the listener's and the pipeline's own cost.
      Run discard = tcp_run(block, kBlockLines, total, 1, "block", "discard: {{when_full: {}}}");
      print_run("TCP -> socket_listener -> discard, 1 connection, when_full: block", discard);
    });
  }
  if (wanted("tcp4")) {
    isolated([&] {
      Run tcp4 = tcp_run(block, kBlockLines, total, 4, "block", to_null);
      print_run("TCP -> socket_listener -> file /dev/null, 4 connections, when_full: block", tcp4);
    });
  }
  if (wanted("http")) {
    isolated([&] {
      std::vector<std::string> bodies;
      for (size_t i = 0; i < 8; ++i) bodies.push_back(bench::cpu_lines(5000, i * 5000));
      Run http2 = http_run(bodies, 5000, total, 2);
      print_run("HTTP POST /write (5000 lines each, 2 clients) -> influxdb_listener -> /dev/null",
                http2);
    });
  }
  if (wanted("overload")) {
    // The output's server is down, so the senders are far faster than the output; the buffer
    // (metric_buffer_limit 100000) drops its oldest, and memory must stay flat.
    isolated([&] {
      int dead_port = testing::free_port();
      Run overload = tcp_run(block, kBlockLines, total, 2, "drop_oldest",
                             fmt::format("influxdb: {{{{urls: [\"http://127.0.0.1:{}\"], "
                                         "when_full: {{}}}}}}",
                                         dead_port),
                             false);
      print_run("overload: 2 TCP senders, output down (influxdb to a closed port), drop_oldest",
                overload);
    });
  }
  if (wanted("connections")) isolated([] { connection_cost(); });

  double sluice_rate = 0, sluice_per_cpu = 0;
  if (wanted("tcp1")) {
    double figures[2] = {0, 0};
    if (read(pipe_fds[0], figures, sizeof figures) == sizeof figures) {
      sluice_rate = figures[0];
      sluice_per_cpu = figures[1];
    }
  }
  if (!wanted("collectd")) return 0;
  CollectdRun collectd = collectd_run(collectd_seconds);
  if (collectd.ran) {
    double rate = static_cast<double>(collectd.values) / collectd.wall;
    std::printf(
        "\ncollectd 5.12: collectd-tg -> network (UDP) -> write_graphite (TCP sink), "
        "%.0f s\n",
        collectd.wall);
    std::printf(
        "  %zu values written, %.3f M values/s, collectd cpu %.2f s = %.3f cpu-s per "
        "million values\n",
        collectd.values, rate / 1e6, collectd.cpu,
        collectd.cpu * 1e6 / static_cast<double>(std::max<size_t>(1, collectd.values)));
    if (sluice_rate > 0) {
      double collectd_per_cpu = static_cast<double>(collectd.values) / std::max(0.01, collectd.cpu);
      std::printf("ratio sluice (TCP, 1 connection) / collectd:\n");
      std::printf("  metrics/s vs values/s:                 %.1fx (fields/s vs values/s: %.1fx)\n",
                  sluice_rate / rate, sluice_rate * 5 / rate);
      std::printf("  metrics per cpu-s vs values per cpu-s: %.1fx (fields: %.1fx)\n",
                  sluice_per_cpu / collectd_per_cpu, sluice_per_cpu * 5 / collectd_per_cpu);
    }
  }
  return 0;
}
