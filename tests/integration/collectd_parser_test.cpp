// The collectd parser against real collectd: its network plugin sends to UDP sockets on
// 127.0.0.1 read here, one plain and one encrypted, and the packets are parsed as an input
// would parse them.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "plugins/plugin_test_support.hpp"
#include "support/net.hpp"
#include "support/process.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

// A UDP socket on 127.0.0.1 at a port the kernel picks.
class UdpSocket {
 public:
  UdpSocket() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    timeval tv{0, 200'000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~UdpSocket() { close(fd_); }
  int port() const { return port_; }
  // One datagram, or "" after the receive timeout.
  std::string receive() {
    std::string buf(65536, '\0');
    ssize_t n = recv(fd_, buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return buf;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

const Metric* find(const Batch& metrics, std::string_view name) {
  for (const Metric& m : metrics) {
    if (m.name() == name) return &m;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("collectd's network plugin packets, plain and encrypted, parse into metrics") {
  if (!std::filesystem::exists("/usr/sbin/collectd")) {
    MESSAGE("collectd is not installed (apt-get install collectd-core): skipped");
    return;
  }
  TempDir dir("collectd");
  UdpSocket plain, encrypted;
  std::ofstream(dir / "collectd.conf")
      << "Hostname \"sluice-test\"\nFQDNLookup false\nInterval 1\n"
      << "BaseDir \"" << dir.path().string() << "\"\nPIDFile \"" << (dir / "collectd.pid")
      << "\"\nPluginDir \"/usr/lib/collectd\"\nTypesDB \"/usr/share/collectd/types.db\"\n"
      << "LoadPlugin load\nLoadPlugin memory\nLoadPlugin network\n"
      << "<Plugin network>\n  Server \"127.0.0.1\" \"" << plain.port() << "\"\n"
      << "  <Server \"127.0.0.1\" \"" << encrypted.port() << "\">\n"
      << "    SecurityLevel Encrypt\n    Username \"alice\"\n    Password \"s3cret\"\n"
      << "  </Server>\n</Plugin>\n";
  std::ofstream(dir / "auth") << "alice: s3cret\n";

  auto plain_parser = make_parser("collectd");  // /usr/share/collectd/types.db
  auto encrypted_parser = make_parser(
      "collectd",
      {{"collectd_security_level", std::string("encrypt")}, {"collectd_auth_file", dir / "auth"}});

  BackgroundProcess collectd("/usr/sbin/collectd -f -C " + (dir / "collectd.conf"));
  REQUIRE(collectd.started());

  Batch from_plain, from_encrypted;
  std::vector<ParseError> errors;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  while (std::chrono::steady_clock::now() < until &&
         (find(from_plain, "load_shortterm") == nullptr ||
          find(from_encrypted, "load_shortterm") == nullptr ||
          find(from_plain, "memory_value") == nullptr)) {
    std::string packet = plain.receive();
    if (!packet.empty()) plain_parser->parse(packet, 0, from_plain, errors);
    packet = encrypted.receive();
    if (!packet.empty()) encrypted_parser->parse(packet, 0, from_encrypted, errors);
    REQUIRE(collectd.running());
  }
  for (const ParseError& e : errors) MESSAGE(e.reason);
  CHECK(errors.empty());

  for (const Batch* batch : {&from_plain, &from_encrypted}) {
    const Metric* load = find(*batch, "load_shortterm");
    REQUIRE(load != nullptr);
    CHECK(load->tags() == std::vector<Tag>{{"host", "sluice-test"}, {"type", "load"}});
    REQUIRE(load->fields().size() == 1);
    CHECK(load->fields()[0].key == "value");
    REQUIRE(std::holds_alternative<double>(load->fields()[0].value));
    CHECK(std::get<double>(load->fields()[0].value) >= 0.0);
    CHECK(load->type() == ValueType::kGauge);
    // collectd stamps its own time: within a minute of the test's clock.
    CHECK(std::llabs(load->time() - now) < 60 * kSecond);
    CHECK(find(*batch, "load_midterm") != nullptr);
    CHECK(find(*batch, "load_longterm") != nullptr);
  }
  const Metric* used = nullptr;
  for (const Metric& m : from_plain) {
    if (m.name() == "memory_value" && m.tag("type_instance") == "used") used = &m;
  }
  REQUIRE(used != nullptr);
  CHECK(used->tag("type") == "memory");
  CHECK(std::get<double>(used->fields()[0].value) > 0.0);
}
