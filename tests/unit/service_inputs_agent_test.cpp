// statsd and tail inside the sluice binary: what they read reaches an output, and a reload
// (SIGHUP) neither loses nor repeats anything: statsd binds its port again, tail resumes where
// the previous configuration stopped.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/net.hpp"
#include "support/process.hpp"
#include "support/test_plugins.hpp"

using sluice::testing::BackgroundProcess;
using sluice::testing::eventually;
using sluice::testing::read_text;

namespace fs = std::filesystem;

namespace {

void send_udp(int port, const std::string& packet) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  close(fd);
}

void append(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::app) << text;
}

// The output's lines that start with `prefix`, without their timestamps.
std::vector<std::string> lines_with(const fs::path& path, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(read_text(path));
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(prefix)) out.push_back(line.substr(0, line.rfind(' ')));
  }
  return out;
}

}  // namespace

TEST_CASE(
    "statsd and tail in the agent: metrics reach the output, and a reload loses and repeats "
    "nothing") {
  sluice::testing::TempDir dir("service-inputs");
  int port = sluice::testing::free_port();
  fs::path log = dir.path() / "app.log";
  fs::path out = dir.path() / "metrics.out";
  append(log, "old v=0i 1000\n");  // before the start: not read (the end is where tail starts)
  std::ofstream(dir.path() / "sluice.yaml")
      << "agent: {interval: 200ms, flush_interval: 100ms, omit_hostname: true, state_dir: \""
      << (dir.path() / "state").string()
      << "\"}\n"
         "inputs:\n"
         "  - statsd: {service_address: \"127.0.0.1:"
      << port
      << "\"}\n"
         "  - tail: {files: [\""
      << log.string()
      << "\"]}\n"
         "outputs:\n"
         "  - file: {files: [\""
      << out.string() << "\"]}\n";
  BackgroundProcess agent(std::string(SLUICE_BINARY) + " run --config " +
                          (dir.path() / "sluice.yaml").string() + " 2> " +
                          (dir.path() / "log").string());
  REQUIRE(agent.started());
  REQUIRE(eventually(
      [&] { return read_text(dir.path() / "log").find("running:") != std::string::npos; }, 20));

  append(log, "line v=1i 1001\n");
  REQUIRE(eventually([&] { return !lines_with(out, "line,").empty(); }, 10));
  send_udp(port, "hits:1|c\n");
  REQUIRE(eventually([&] { return !lines_with(out, "hits,").empty(); }, 10));

  agent.signal(SIGHUP);
  REQUIRE(eventually(
      [&] {
        return read_text(dir.path() / "log").find("configuration reloaded") != std::string::npos;
      },
      20));
  append(log, "line v=2i 1002\n");
  REQUIRE(eventually([&] { return lines_with(out, "line,").size() >= 2; }, 10));
  // The new statsd binds the port again (it says so a second time), then reads.
  REQUIRE(eventually(
      [&] {
        std::string text = read_text(dir.path() / "log");
        size_t first = text.find("listening on udp port");
        return first != std::string::npos &&
               text.find("listening on udp port", first + 1) != std::string::npos;
      },
      10));
  send_udp(port, "hits:2|c\n");
  REQUIRE(eventually([&] { return lines_with(out, "hits,").size() >= 2; }, 10));
  agent.signal(SIGTERM);
  CHECK(agent.wait_exit(20) == 0);

  const std::string tag = ",path=" + log.string();
  CHECK(lines_with(out, "line,") ==
        std::vector<std::string>{"line" + tag + " v=1i", "line" + tag + " v=2i"});
  CHECK(lines_with(out, "old").empty());
  // delete_counters: each value once, in the gather after it arrived.
  CHECK(lines_with(out, "hits,") == std::vector<std::string>{"hits,metric_type=counter value=1i",
                                                             "hits,metric_type=counter value=2i"});
}

TEST_CASE("tail in the agent: lines written while the agent is down are read after a restart") {
  sluice::testing::TempDir dir("tail-restart");
  fs::path log = dir.path() / "app.log";
  fs::path out = dir.path() / "metrics.out";
  append(log, "old v=0i 1000\n");  // never seen before: tail starts at the end
  std::ofstream(dir.path() / "sluice.yaml")
      << "agent: {interval: 200ms, flush_interval: 100ms, omit_hostname: true, state_dir: \""
      << (dir.path() / "state").string()
      << "\"}\n"
         "inputs:\n"
         "  - tail: {files: [\""
      << log.string()
      << "\"]}\n"
         "outputs:\n"
         "  - file: {files: [\""
      << out.string() << "\"]}\n";
  auto run = [&](const std::string& before_stop, size_t expect) {
    BackgroundProcess agent(std::string(SLUICE_BINARY) + " run --config " +
                            (dir.path() / "sluice.yaml").string() + " 2>> " +
                            (dir.path() / "log").string());
    REQUIRE(agent.started());
    REQUIRE(eventually([&] { return lines_with(out, "line,").size() >= expect - 1; }, 20));
    REQUIRE(eventually([&] { return fs::exists(dir.path() / "state"); }, 20));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // its files are looked at
    append(log, before_stop);
    REQUIRE(eventually([&] { return lines_with(out, "line,").size() >= expect; }, 10));
    agent.signal(SIGTERM);
    CHECK(agent.wait_exit(20) == 0);
  };
  run("line v=1i 1001\n", 1);
  append(log, "line v=2i 1002\n");  // while the agent is down
  run("line v=3i 1003\n", 3);
  const std::string tag = ",path=" + log.string();
  CHECK(lines_with(out, "line,") == std::vector<std::string>{"line" + tag + " v=1i",
                                                             "line" + tag + " v=2i",
                                                             "line" + tag + " v=3i"});
  CHECK(lines_with(out, "old").empty());
}
