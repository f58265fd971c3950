// socket_listener: TCP, UDP, unix and unixgram; framing of lines across reads; bad, binary and
// oversized input; max_connections; read_timeout; gzip; TLS and mutual TLS with openssl's own
// client; back-pressure from a pipeline that does not take metrics.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "config/config.hpp"
#include "core/http_gzip.hpp"
#include "pipeline/clock.hpp"
#include "pipeline/pipeline.hpp"
#include "plugins/listener_test_support.hpp"
#include "support/net.hpp"
#include "support/process.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

std::string tcp_address(int port) { return "tcp://127.0.0.1:" + std::to_string(port); }

// n lines "m,i=<k> v=<k>i <k + 1>" for k in [from, from + n) (time 0 would mean "now").
std::string numbered_lines(int from, int n) {
  std::string out;
  for (int k = from; k < from + n; ++k) {
    out += "m,i=" + std::to_string(k) + " v=" + std::to_string(k) + "i " + std::to_string(k + 1) +
           "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("socket_listener TCP: lines split across writes arrive whole and exact") {
  int port = free_port();
  auto input = make_listener("socket_listener", {{"service_address", tcp_address(port)}});
  ListenerRecorder acc;
  input->start(acc);
  int fd = connect_tcp(port);
  REQUIRE(fd >= 0);
  REQUIRE(send_all(fd, "cpu,host=a usage=1.5 1000\ncpu,host=b usa"));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(send_all(fd, "ge=2.5 2000\nmem free=7i"));
  close(fd);  // the last line has no '\n': the end of the stream ends it
  REQUIRE(acc.wait_for(3));
  CHECK(acc.lines() == "cpu,host=a usage=1.5 1000\ncpu,host=b usage=2.5 2000\nmem free=7i " +
                           std::to_string(kGatherTime) + "\n");
  CHECK(acc.rejected_copy().empty());
  input->stop();
}

TEST_CASE("socket_listener TCP: a run of complete lines is parsed and handed over at once") {
  int port = free_port();
  auto input = make_listener("socket_listener", {{"service_address", tcp_address(port)}});
  ListenerRecorder acc;
  input->start(acc);
  int fd = connect_tcp(port);
  REQUIRE(fd >= 0);
  std::string text = numbered_lines(0, 2000);  // about 50 KB, less than one read
  REQUIRE(send_all(fd, text));
  close(fd);
  REQUIRE(acc.wait_for(2000));
  auto sizes = acc.batch_sizes_copy();
  // One line per hand-over would make 2000 batches.
  CHECK(sizes.size() <= 20);
  CHECK(acc.lines() == text);
  input->stop();
}

TEST_CASE("socket_listener TCP: bad, binary and overlong lines are rejected and the rest kept") {
  int port = free_port();
  auto input = make_listener("socket_listener", {{"service_address", tcp_address(port)}});
  ListenerRecorder acc;
  input->start(acc);
  int fd = connect_tcp(port);
  REQUIRE(fd >= 0);
  std::string binary("\x00\x01\xff\xfe garbage\x00\n", 14);
  std::string overlong = "big v=\"" + std::string(70 * 1024, 'x') + "\"\n";
  REQUIRE(send_all(fd, "a v=1i 1\nnot line protocol\n" + binary + "b v=\"str\" 2\nc v=1x 3\n"));
  REQUIRE(send_all(fd, overlong));
  REQUIRE(send_all(fd, "d v=4i 4\n"));
  close(fd);
  REQUIRE(acc.wait_for(3));
  REQUIRE(eventually([&] { return acc.rejected_copy().size() == 4; }));
  CHECK(acc.lines() == "a v=1i 1\nb v=\"str\" 2\nd v=4i 4\n");
  auto rejected = acc.rejected_copy();
  CHECK(rejected[0].find("127.0.0.1:") == 0);
  CHECK(rejected[0].find("data_format influx, line 2") != std::string::npos);
  CHECK(rejected[3].find("longer than the 65536 bytes allowed") != std::string::npos);
  input->stop();
}

TEST_CASE("socket_listener TCP: read_buffer_size raises the longest line accepted") {
  int port = free_port();
  auto input = make_listener("socket_listener", {{"service_address", tcp_address(port)},
                                                 {"read_buffer_size", uint64_t{256 * 1024}}});
  ListenerRecorder acc;
  input->start(acc);
  int fd = connect_tcp(port);
  REQUIRE(fd >= 0);
  std::string value(200 * 1024, 'y');
  REQUIRE(send_all(fd, "big v=\"" + value + "\" 5\n"));
  close(fd);
  REQUIRE(acc.wait_for(1));
  CHECK(acc.lines() == "big v=\"" + value + "\" 5\n");
  input->stop();
}

TEST_CASE("socket_listener UDP: each datagram is a message, bad ones are rejected") {
  int port = free_port();
  auto input = make_listener("socket_listener",
                             {{"service_address", "udp://127.0.0.1:" + std::to_string(port)}});
  ListenerRecorder acc;
  input->start(acc);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(send_udp(port, "a v=1i 1\nb v=2i 2\n"));
  REQUIRE(send_udp(port, std::string("\xff\x00\x13 nonsense", 12)));
  REQUIRE(send_udp(port, "c v=3i 3"));  // no '\n' needed: a datagram is whole
  REQUIRE(acc.wait_for(3));
  CHECK(acc.lines() == "a v=1i 1\nb v=2i 2\nc v=3i 3\n");
  REQUIRE(eventually([&] { return acc.rejected_copy().size() == 1; }));
  input->stop();
}

TEST_CASE("socket_listener unix and unixgram sockets with socket_mode, sent with nc") {
  TempDir dir("socket-listener-unix");
  std::string stream_path = dir / "in.sock";
  std::string gram_path = dir / "gram.sock";
  auto stream = make_listener("socket_listener", {{"service_address", "unix://" + stream_path},
                                                  {"socket_mode", std::string("600")}});
  auto gram = make_listener("socket_listener", {{"service_address", "unixgram://" + gram_path}});
  ListenerRecorder stream_acc, gram_acc;
  stream->start(stream_acc);
  gram->start(gram_acc);
  REQUIRE(eventually([&] { return std::filesystem::exists(stream_path); }));
  struct stat st {};
  REQUIRE(stat(stream_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ofstream(dir / "lines.txt") << "u v=1i 1\nu v=2i 2\n";
  auto r = run_command("nc -N -U " + stream_path + " < " + (dir / "lines.txt"));
  CHECK(r.exit_code == 0);
  REQUIRE(stream_acc.wait_for(2));
  CHECK(stream_acc.lines() == "u v=1i 1\nu v=2i 2\n");

  int fd = connect_unix(gram_path, SOCK_DGRAM);
  REQUIRE(fd >= 0);
  REQUIRE(send(fd, "g v=9i 9\n", 9, 0) == 9);
  close(fd);
  REQUIRE(gram_acc.wait_for(1));
  CHECK(gram_acc.lines() == "g v=9i 9\n");
  stream->stop();
  gram->stop();
  CHECK_FALSE(std::filesystem::exists(stream_path));  // removed when stopped
}

TEST_CASE("socket_listener TCP with nc: a real client's stream") {
  int port = free_port();
  TempDir dir("socket-listener-nc");
  auto input = make_listener("socket_listener", {{"service_address", tcp_address(port)}});
  ListenerRecorder acc;
  input->start(acc);
  std::string text = numbered_lines(0, 10000);
  std::ofstream(dir / "lines.txt") << text;
  REQUIRE(wait_for_port(port));
  auto r = run_command("nc -N 127.0.0.1 " + std::to_string(port) + " < " + (dir / "lines.txt"));
  CHECK(r.exit_code == 0);
  REQUIRE(acc.wait_for(10000));
  CHECK(acc.count() == 10000);
  CHECK(acc.lines() == text);
  input->stop();
}

TEST_CASE("socket_listener max_connections: one more is refused and counted, the others served") {
  int port = free_port();
  auto input = make_listener(
      "socket_listener", {{"service_address", tcp_address(port)}, {"max_connections", int64_t{1}}});
  ListenerRecorder acc;
  input->start(acc);
  int first = connect_tcp(port);
  REQUIRE(first >= 0);
  REQUIRE(send_all(first, "one v=1i 1\n"));
  REQUIRE(acc.wait_for(1));  // the first is being served
  int second = connect_tcp(port);
  REQUIRE(second >= 0);
  CHECK(closed_by_peer(second, 5.0));
  close(second);
  REQUIRE(eventually([&] { return !acc.errors_copy().empty(); }));
  CHECK(acc.errors_copy()[0].find("refused 1 connection(s)") != std::string::npos);
  CHECK(acc.errors_copy()[0].find("max_connections (1)") != std::string::npos);
  REQUIRE(send_all(first, "two v=2i 2\n"));
  REQUIRE(acc.wait_for(2));
  close(first);
  // Once the first is gone, a new one is taken.
  REQUIRE(eventually([&] {
    int third = connect_tcp(port);
    bool ok = send_all(third, "three v=3i 3\n");
    close(third);
    return ok && acc.wait_for(3, 0.5);
  }));
  CHECK(acc.lines().find("three v=3i 3\n") != std::string::npos);
  input->stop();
}

TEST_CASE("socket_listener read_timeout closes an idle connection") {
  int port = free_port();
  auto input =
      make_listener("socket_listener", {{"service_address", tcp_address(port)},
                                        {"read_timeout", std::chrono::nanoseconds(200'000'000)}});
  ListenerRecorder acc;
  input->start(acc);
  int fd = connect_tcp(port);
  REQUIRE(fd >= 0);
  auto started = std::chrono::steady_clock::now();
  CHECK(closed_by_peer(fd, 5.0));
  auto waited = std::chrono::steady_clock::now() - started;
  CHECK(waited >= std::chrono::milliseconds(150));
  CHECK(waited < std::chrono::seconds(3));
  close(fd);
  input->stop();
}

TEST_CASE("socket_listener gzip: a compressed stream and compressed datagrams") {
  int port = free_port();
  auto tcp = make_listener("socket_listener", {{"service_address", tcp_address(port)},
                                               {"content_encoding", std::string("gzip")}});
  int uport = free_port();
  auto udp = make_listener("socket_listener",
                           {{"service_address", "udp://127.0.0.1:" + std::to_string(uport)},
                            {"content_encoding", std::string("gzip")}});
  ListenerRecorder acc, uacc;
  tcp->start(acc);
  udp->start(uacc);
  core::GzipEncoder gzip;
  std::string text = numbered_lines(0, 5000);
  std::string first, second;
  REQUIRE(gzip.compress(text.substr(0, 100'000), first));
  REQUIRE(gzip.compress(text.substr(100'000), second));  // two members, one stream
  int fd = connect_tcp(port);
  REQUIRE(fd >= 0);
  REQUIRE(send_all(fd, first + second));
  close(fd);
  REQUIRE(acc.wait_for(5000));
  CHECK(acc.lines() == text);

  std::string datagram;
  REQUIRE(gzip.compress("z v=1i 1\n", datagram));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(send_udp(uport, datagram));
  REQUIRE(send_udp(uport, "not gzip at all"));
  REQUIRE(uacc.wait_for(1));
  CHECK(uacc.lines() == "z v=1i 1\n");
  REQUIRE(eventually([&] { return uacc.rejected_copy().size() == 1; }));
  CHECK(uacc.rejected_copy()[0].find("cannot decode gzip") != std::string::npos);
  tcp->stop();
  udp->stop();
}

namespace {

bool make_cert(const TempDir& dir, const std::string& file, const std::string& name) {
  auto r = run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + name +
                       " -addext subjectAltName=IP:127.0.0.1 -keyout " + (dir / (file + ".key")) +
                       " -out " + (dir / (file + ".pem")));
  if (r.exit_code != 0) MESSAGE(r.output);
  return r.exit_code == 0;
}

}  // namespace

TEST_CASE("socket_listener TLS: openssl s_client sends over TLS, mutual TLS refuses no cert") {
  TempDir dir("socket-listener-tls");
  REQUIRE(make_cert(dir, "server", "127.0.0.1"));
  REQUIRE(make_cert(dir, "client", "sluice-client"));
  int port = free_port();
  auto input = make_listener("socket_listener",
                             {{"service_address", tcp_address(port)},
                              {"tls_cert", dir / "server.pem"},
                              {"tls_key", dir / "server.key"},
                              {"tls_allowed_cacerts", std::vector<std::string>{dir / "client.pem"}},
                              {"read_timeout", std::chrono::nanoseconds(1'000'000'000)}});
  ListenerRecorder acc;
  input->start(acc);
  REQUIRE(wait_for_port(port));
  std::ofstream(dir / "lines.txt") << "tls v=1i 1\ntls v=2i 2\n";
  std::string client =
      "timeout 20 openssl s_client -quiet -connect 127.0.0.1:" + std::to_string(port) +
      " -CAfile " + (dir / "server.pem");
  auto with_cert = run_command(client + " -cert " + (dir / "client.pem") + " -key " +
                               (dir / "client.key") + " < " + (dir / "lines.txt"));
  REQUIRE(acc.wait_for(2));
  CHECK(acc.lines() == "tls v=1i 1\ntls v=2i 2\n");

  auto without_cert = run_command(client + " < " + (dir / "lines.txt"));
  REQUIRE(eventually([&] {
    for (const auto& e : acc.errors_copy()) {
      if (e.find("TLS handshake with") != std::string::npos) return true;
    }
    return false;
  }));
  CHECK(acc.count() == 2);  // nothing from the client without a certificate
  input->stop();
}

TEST_CASE("socket_listener back-pressure: a full pipeline stops reading, TCP holds the sender") {
  int port = free_port();
  auto input = make_listener("socket_listener", {{"service_address", tcp_address(port)}});
  ListenerRecorder acc;
  acc.hold(true);  // the pipeline takes nothing
  input->start(acc);
  int fd = connect_tcp(port);
  REQUIRE(fd >= 0);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  std::string chunk = numbered_lines(0, 1000);  // ~28 KB
  size_t sent = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int stalls = 0;
  while (std::chrono::steady_clock::now() < until && stalls < 50) {
    size_t offset = sent % chunk.size();
    ssize_t n = send(fd, chunk.data() + offset, chunk.size() - offset, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      stalls = 0;
    } else {
      ++stalls;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // The sender was stopped by TCP, after the kernel's buffers and one read of the listener.
  CHECK(stalls >= 50);
  CHECK(sent < 64u * 1024 * 1024);
  MESSAGE("bytes accepted before the sender was held: " << sent);
  acc.hold(false);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  if (sent % chunk.size() != 0) {
    REQUIRE(send_all(fd, std::string_view(chunk).substr(sent % chunk.size())));
  }
  close(fd);
  size_t expected = (sent + chunk.size() - 1) / chunk.size() * 1000;
  REQUIRE(acc.wait_for(expected, 20.0));
  CHECK(acc.count() == expected);
  input->stop();
}

TEST_CASE("socket_listener rejects bad options when created") {
  auto bad = [](OptionOverrides o) {
    try {
      make_listener("socket_listener", o);
    } catch (const OptionError& e) {
      return e.option();
    }
    return std::string();
  };
  CHECK(bad({{"service_address", std::string("8094")}}) == "service_address");
  CHECK(bad({{"service_address", std::string("sctp://:1")}}) == "service_address");
  CHECK(bad({{"service_address", std::string("tcp://:1")},
             {"content_encoding", std::string("br")}}) == "content_encoding");
  CHECK(bad({{"service_address", std::string("tcp://:1")}, {"socket_mode", std::string("777")}}) ==
        "socket_mode");
  CHECK(bad({{"service_address", std::string("tcp://:1")},
             {"tls_cert", std::string("/nonexistent.pem")},
             {"tls_key", std::string("/nonexistent.key")}}) == "tls_cert");
  CHECK(bad({{"service_address", std::string("tcp://:1")}, {"data_format", std::string("nope")}}) ==
        "data_format");
}

TEST_CASE("socket_listener in the pipeline: nc to the file output, bad lines counted as rejected") {
  TempDir dir("socket-listener-pipeline");
  int port = free_port();
  std::string out = dir / "out.lp";
  std::string yaml =
      "agent: {flush_interval: 100ms, metric_batch_size: 100, omit_hostname: true}\n"
      "inputs:\n  - socket_listener: {service_address: \"tcp://127.0.0.1:" +
      std::to_string(port) +
      "\", tags: {via: tcp}}\n"
      "outputs:\n  - file: {files: [\"" +
      out + "\"]}\n";
  config::Config config = config::load_text(yaml, "pipeline.yaml", plugin::Registry::builtins());
  pipeline::Pipeline pipeline(config, pipeline::SystemClock::instance());
  pipeline.start();
  REQUIRE(wait_for_port(port));
  std::ofstream(dir / "in.lp") << numbered_lines(0, 500) << "garbage\n" << numbered_lines(500, 500);
  auto r = run_command("nc -N 127.0.0.1 " + std::to_string(port) + " < " + (dir / "in.lp"));
  CHECK(r.exit_code == 0);
  auto& stats = pipeline.inputs()[0]->stats();
  REQUIRE(eventually([&] { return stats.metrics_gathered == 1000; }));
  pipeline.stop(pipeline::SystemClock::instance().now() + 2'000'000'000);
  CHECK(stats.metrics_rejected == 1);
  std::string written = read_text(out);
  std::string expected;
  for (int k = 0; k < 1000; ++k) {
    expected += "m,i=" + std::to_string(k) + ",via=tcp v=" + std::to_string(k) + "i " +
                std::to_string(k + 1) + "\n";
  }
  CHECK(written == expected);
}

TEST_CASE("socket_listener over IPv6 (tcp6, udp6) and dual-stack on every interface") {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 loop{};
  loop.sin6_family = AF_INET6;
  loop.sin6_addr = in6addr_loopback;
  bool has_v6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&loop), sizeof loop) == 0;
  if (probe >= 0) close(probe);
  if (!has_v6) {
    MESSAGE("skipped: no IPv6 loopback here");
    return;
  }
  TempDir dir("socket-listener-v6");
  std::ofstream(dir / "lines.txt") << "six v=6i 6\n";
  int port = free_port();
  auto tcp6 = make_listener("socket_listener",
                            {{"service_address", "tcp6://[::1]:" + std::to_string(port)}});
  ListenerRecorder acc6;
  tcp6->start(acc6);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto r = run_command("nc -6 -N ::1 " + std::to_string(port) + " < " + (dir / "lines.txt"));
  CHECK(r.exit_code == 0);
  REQUIRE(acc6.wait_for(1));
  CHECK(acc6.lines() == "six v=6i 6\n");
  tcp6->stop();

  int uport = free_port();
  auto udp6 = make_listener("socket_listener",
                            {{"service_address", "udp6://[::1]:" + std::to_string(uport)}});
  ListenerRecorder uacc;
  udp6->start(uacc);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int fd = socket(AF_INET6, SOCK_DGRAM, 0);
  loop.sin6_port = htons(static_cast<uint16_t>(uport));
  REQUIRE(sendto(fd, "u6 v=1i 1\n", 10, 0, reinterpret_cast<sockaddr*>(&loop), sizeof loop) == 10);
  close(fd);
  REQUIRE(uacc.wait_for(1));
  CHECK(uacc.lines() == "u6 v=1i 1\n");
  udp6->stop();

  int aport = free_port();
  auto any =
      make_listener("socket_listener", {{"service_address", "tcp://:" + std::to_string(aport)}});
  ListenerRecorder aacc;
  any->start(aacc);
  int v4 = connect_tcp(aport);  // 127.0.0.1 reaches the dual-stack socket
  REQUIRE(v4 >= 0);
  REQUIRE(send_all(v4, "four v=4i 4\n"));
  close(v4);
  REQUIRE(aacc.wait_for(1));
  CHECK(aacc.lines() == "four v=4i 4\n");
  any->stop();
}

TEST_CASE("socket_listener stops promptly with clients connected, idle or mid-line") {
  int port = free_port();
  auto input = make_listener("socket_listener", {{"service_address", tcp_address(port)}});
  ListenerRecorder acc;
  input->start(acc);
  std::vector<int> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(connect_tcp(port));
  REQUIRE(send_all(clients[0], "done v=1i 1\nhalf v="));
  REQUIRE(acc.wait_for(1));
  auto started = std::chrono::steady_clock::now();
  input->stop();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  for (int fd : clients) {
    CHECK(closed_by_peer(fd, 2.0));
    close(fd);
  }
  CHECK(acc.lines() == "done v=1i 1\n");  // the half line is not made up into a metric
}
