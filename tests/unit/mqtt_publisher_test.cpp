// The MQTT publisher against a scripted broker on 127.0.0.1: the packets it sends are read
// and answered one by one, so the QoS 1 and 2 flows, the in-flight window, the resending of a
// persistent session after a reconnect and the acknowledgement timeout are checked packet by
// packet.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "core/mqtt_packets.hpp"
#include "core/mqtt_publisher.hpp"
#include "plugins/plugin_test_support.hpp"

using namespace std::chrono_literals;
using namespace sluice::core::mqtt;

namespace {

// Accepts one client at a time; every wait is bounded, a missing packet fails the test.
class ScriptedBroker {
 public:
  ScriptedBroker() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(listen(listen_fd_, 4) == 0);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~ScriptedBroker() {
    drop_client();
    close(listen_fd_);
  }

  BrokerAddress address() const { return BrokerAddress{"127.0.0.1", port_, false}; }

  // Accepts the client, reads its CONNECT and answers CONNACK with `return_code`.
  Connect accept_session(bool session_present, uint8_t return_code = 0) {
    return accept_session(Connack{session_present, return_code});
  }
  Connect accept_session(const Connack& connack) {
    pollfd p{listen_fd_, POLLIN, 0};
    REQUIRE(poll(&p, 1, 5000) == 1);
    client_fd_ = accept(listen_fd_, nullptr, nullptr);
    REQUIRE(client_fd_ >= 0);
    Packet connect = next();
    REQUIRE(type_of(connect) == PacketType::kConnect);
    send(connack);
    return std::get<Connect>(connect);
  }
  // The MQTT the broker reads and writes after CONNECT (which says its own level).
  void speak(uint8_t level) { level_ = level; }
  uint8_t level() const { return level_; }

  // The next packet from the client, waiting at most 5 s.
  Packet next() {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (true) {
      Decoded d = decode(in_, kMaxRemainingLength, level_);
      REQUIRE_MESSAGE(d.status != Decoded::Status::kMalformed, d.error);
      if (d.status == Decoded::Status::kPacket) {
        in_.erase(0, d.consumed);
        return d.packet;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      REQUIRE_MESSAGE(left.count() > 0, "no packet from the client within 5s");
      pollfd p{client_fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) != 1) continue;
      char buffer[4096];
      ssize_t n = recv(client_fd_, buffer, sizeof buffer, 0);
      REQUIRE_MESSAGE(n > 0, "the client closed the connection");
      in_.append(buffer, static_cast<size_t>(n));
    }
  }
  Publish next_publish() {
    Packet p = next();
    REQUIRE(type_of(p) == PacketType::kPublish);
    return std::get<Publish>(p);
  }
  PacketAck next_ack() {
    Packet p = next();
    REQUIRE(std::holds_alternative<PacketAck>(p));
    return std::get<PacketAck>(p);
  }
  // True when the client sent nothing within `wait`.
  bool quiet_for(std::chrono::milliseconds wait) {
    if (!in_.empty()) return false;
    pollfd p{client_fd_, POLLIN, 0};
    return poll(&p, 1, static_cast<int>(wait.count())) == 0;
  }

  void send(const Packet& packet) {
    std::string bytes;
    REQUIRE(encode(packet, bytes, level_).empty());
    REQUIRE(::send(client_fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  void ack(PacketType type, uint16_t id) { send(PacketAck{type, id}); }

  void drop_client() {
    if (client_fd_ >= 0) close(client_fd_);
    client_fd_ = -1;
    in_.clear();
  }

 private:
  int listen_fd_ = -1;
  int client_fd_ = -1;
  int port_ = 0;
  uint8_t level_ = kMqtt311;
  std::string in_;
};

PublisherSettings settings_for(const ScriptedBroker& broker) {
  PublisherSettings s;
  s.servers = {broker.address()};
  s.client_id = "publisher-test";
  s.timeout = 2000ms;
  s.protocol_level = broker.level();  // the MQTT version the broker was told to speak
  return s;
}

// Connects the publisher to the scripted broker, which starts a new session for it.
void connect_new_session(Publisher& publisher, ScriptedBroker& broker) {
  auto connected = std::async(std::launch::async, [&] { return publisher.connect(); });
  broker.accept_session(false);
  REQUIRE(connected.get() == "");
}

// Views of `payloads`, which must outlive them.
std::vector<OutgoingMessage> messages(const std::vector<std::string>& payloads) {
  std::vector<OutgoingMessage> out;
  for (const std::string& p : payloads) out.push_back({"t/x", p});
  return out;
}
std::vector<OutgoingMessage> messages(std::vector<std::string>&& temporary) = delete;

}  // namespace

TEST_CASE("mqtt publisher: QoS 1 waits for every PUBACK, whatever their order") {
  sluice::testing::NullLogger log;
  ScriptedBroker broker;
  Publisher publisher(settings_for(broker), log);
  auto connected = std::async(std::launch::async, [&] { return publisher.connect(); });
  Connect connect = broker.accept_session(false);
  REQUIRE(connected.get() == "");
  CHECK(connect.client_id == "publisher-test");
  CHECK(connect.clean_session);

  std::vector<std::string> payloads = {"a", "b", "c"};
  auto list = messages(payloads);
  auto published = std::async(std::launch::async, [&] { return publisher.publish(list, 1, true); });
  std::vector<Publish> got;
  for (int i = 0; i < 3; ++i) got.push_back(broker.next_publish());
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].payload == payloads[i]);
    CHECK(got[i].topic == "t/x");
    CHECK(got[i].qos == 1);
    CHECK(got[i].retain);
    CHECK_FALSE(got[i].dup);
  }
  CHECK(got[0].packet_id != got[1].packet_id);
  broker.ack(PacketType::kPuback, got[2].packet_id);
  broker.ack(PacketType::kPuback, got[0].packet_id);
  CHECK(published.wait_for(200ms) == std::future_status::timeout);  // one still missing
  broker.ack(PacketType::kPuback, got[1].packet_id);
  REQUIRE(published.wait_for(5s) == std::future_status::ready);
  CHECK(published.get() == "");
  CHECK(publisher.unacknowledged() == 0);
}

TEST_CASE("mqtt publisher: QoS 2 answers PUBREC with PUBREL and completes on PUBCOMP") {
  sluice::testing::NullLogger log;
  ScriptedBroker broker;
  Publisher publisher(settings_for(broker), log);
  connect_new_session(publisher, broker);

  std::vector<std::string> payloads = {"one", "two"};
  auto list = messages(payloads);
  auto published = std::async(std::launch::async, [&] { return publisher.publish(list, 2, false); });
  Publish first = broker.next_publish();
  Publish second = broker.next_publish();
  CHECK(first.qos == 2);
  broker.ack(PacketType::kPubrec, first.packet_id);
  CHECK(broker.next_ack() == PacketAck{PacketType::kPubrel, first.packet_id});
  broker.ack(PacketType::kPubcomp, first.packet_id);
  broker.ack(PacketType::kPubrec, second.packet_id);
  CHECK(broker.next_ack() == PacketAck{PacketType::kPubrel, second.packet_id});
  CHECK(published.wait_for(200ms) == std::future_status::timeout);  // PUBCOMP still missing
  broker.ack(PacketType::kPubcomp, second.packet_id);
  REQUIRE(published.wait_for(5s) == std::future_status::ready);
  CHECK(published.get() == "");
}

TEST_CASE("mqtt publisher: no more than max_inflight messages await their acknowledgement") {
  sluice::testing::NullLogger log;
  ScriptedBroker broker;
  PublisherSettings settings = settings_for(broker);
  settings.max_inflight = 2;
  Publisher publisher(std::move(settings), log);
  connect_new_session(publisher, broker);

  std::vector<std::string> payloads = {"1", "2", "3", "4", "5"};
  auto list = messages(payloads);
  auto published = std::async(std::launch::async, [&] { return publisher.publish(list, 1, false); });
  std::vector<std::string> seen;
  Publish a = broker.next_publish();
  Publish b = broker.next_publish();
  CHECK(broker.quiet_for(200ms));  // the window is full
  broker.ack(PacketType::kPuback, a.packet_id);
  Publish c = broker.next_publish();
  CHECK(broker.quiet_for(100ms));
  broker.ack(PacketType::kPuback, b.packet_id);
  broker.ack(PacketType::kPuback, c.packet_id);
  Publish d = broker.next_publish();
  Publish e = broker.next_publish();
  broker.ack(PacketType::kPuback, d.packet_id);
  broker.ack(PacketType::kPuback, e.packet_id);
  REQUIRE(published.wait_for(5s) == std::future_status::ready);
  CHECK(published.get() == "");
  for (const Publish& p : {a, b, c, d, e}) seen.push_back(p.payload);
  CHECK(seen == payloads);
}

TEST_CASE("mqtt publisher: a persistent session resends with DUP, and PUBREL for received ones") {
  sluice::testing::NullLogger log;
  ScriptedBroker broker;
  PublisherSettings settings = settings_for(broker);
  settings.clean_session = false;
  Publisher publisher(std::move(settings), log);
  auto connected = std::async(std::launch::async, [&] { return publisher.connect(); });
  CHECK_FALSE(broker.accept_session(false).clean_session);
  REQUIRE(connected.get() == "");

  std::vector<std::string> payloads = {"p", "q", "r"};
  auto list = messages(payloads);
  auto published = std::async(std::launch::async, [&] { return publisher.publish(list, 2, false); });
  Publish p = broker.next_publish();
  Publish q = broker.next_publish();
  Publish r = broker.next_publish();
  broker.ack(PacketType::kPubrec, p.packet_id);  // the broker has p; q and r are lost
  CHECK(broker.next_ack() == PacketAck{PacketType::kPubrel, p.packet_id});
  broker.drop_client();
  REQUIRE(published.wait_for(5s) == std::future_status::ready);
  CHECK(published.get() != "");
  CHECK(publisher.unacknowledged() == 3);

  // The broker kept the session: it is owed PUBREL for p and the messages q and r again.
  connected = std::async(std::launch::async, [&] { return publisher.connect(); });
  broker.accept_session(true);
  REQUIRE(connected.get() == "");
  CHECK(broker.next_ack() == PacketAck{PacketType::kPubrel, p.packet_id});
  Publish q2 = broker.next_publish();
  Publish r2 = broker.next_publish();
  CHECK(q2.dup);
  CHECK(r2.dup);
  CHECK(q2.packet_id == q.packet_id);
  CHECK(r2.packet_id == r.packet_id);
  CHECK(q2.payload == "q");
  CHECK(r2.payload == "r");

  // The next publish (here of nothing new) waits for them to complete.
  published = std::async(std::launch::async, [&] { return publisher.publish({}, 2, false); });
  broker.ack(PacketType::kPubcomp, p.packet_id);
  for (const Publish& m : {q2, r2}) {
    broker.ack(PacketType::kPubrec, m.packet_id);
    CHECK(broker.next_ack() == PacketAck{PacketType::kPubrel, m.packet_id});
    broker.ack(PacketType::kPubcomp, m.packet_id);
  }
  REQUIRE(published.wait_for(5s) == std::future_status::ready);
  CHECK(published.get() == "");
  CHECK(publisher.unacknowledged() == 0);
}

TEST_CASE("mqtt publisher: a clean session forgets unacknowledged messages on reconnect") {
  sluice::testing::NullLogger log;
  ScriptedBroker broker;
  Publisher publisher(settings_for(broker), log);
  connect_new_session(publisher, broker);
  std::vector<std::string> lost = {"lost"};
  auto list = messages(lost);
  auto published = std::async(std::launch::async, [&] { return publisher.publish(list, 1, false); });
  broker.next_publish();
  broker.drop_client();
  REQUIRE(published.wait_for(5s) == std::future_status::ready);
  CHECK(published.get() == "the broker closed the connection");
  CHECK(publisher.unacknowledged() == 0);

  connect_new_session(publisher, broker);
  CHECK(broker.quiet_for(200ms));
}

TEST_CASE("mqtt publisher: a broker that does not acknowledge fails the publish after timeout") {
  sluice::testing::NullLogger log;
  ScriptedBroker broker;
  PublisherSettings settings = settings_for(broker);
  settings.timeout = 300ms;
  Publisher publisher(std::move(settings), log);
  connect_new_session(publisher, broker);
  std::vector<std::string> unanswered = {"x", "y"};
  auto list = messages(unanswered);
  auto start = std::chrono::steady_clock::now();
  auto published = std::async(std::launch::async, [&] { return publisher.publish(list, 1, false); });
  broker.next_publish();
  broker.next_publish();
  REQUIRE(published.wait_for(5s) == std::future_status::ready);
  CHECK(published.get() == "2 messages unacknowledged after 300ms");
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);
  CHECK_FALSE(publisher.connected());
}

TEST_CASE("mqtt publisher: QoS 0 returns once written, a refused CONNECT names the reason") {
  sluice::testing::NullLogger log;
  ScriptedBroker broker;
  Publisher publisher(settings_for(broker), log);
  connect_new_session(publisher, broker);
  std::vector<std::string> fire_and_forget = {"fire", "forget"};
  auto list = messages(fire_and_forget);
  CHECK(publisher.publish(list, 0, false) == "");
  Publish first = broker.next_publish();
  CHECK(first.qos == 0);
  CHECK(first.payload == "fire");
  CHECK(broker.next_publish().payload == "forget");
  publisher.disconnect();
  CHECK(type_of(broker.next()) == PacketType::kDisconnect);
  broker.drop_client();

  auto connected = std::async(std::launch::async, [&] { return publisher.connect(); });
  broker.accept_session(false, 5);
  std::string refused = connected.get();
  CHECK(refused.find("refused the connection") != std::string::npos);
  CHECK(refused.find(connack_reason(5)) != std::string::npos);
  CHECK_FALSE(publisher.connected());
}

TEST_CASE("mqtt publisher: MQTT 5 keeps to the broker's Receive Maximum, and a persistent session outlives the connection") {
  sluice::testing::NullLogger log;
  ScriptedBroker broker;
  broker.speak(kMqtt5);
  PublisherSettings settings = settings_for(broker);
  settings.clean_session = false;
  settings.max_inflight = 20;
  Publisher publisher(settings, log);
  auto connected = std::async(std::launch::async, [&] { return publisher.connect(); });
  Connack limits{false, 0};
  limits.receive_maximum = 3;
  Connect connect = broker.accept_session(limits);
  REQUIRE(connected.get() == "");
  CHECK(connect.protocol_level == kMqtt5);
  CHECK_FALSE(connect.clean_session);
  CHECK(connect.session_expiry_seconds == 0xFFFFFFFF);

  std::vector<std::string> payloads = {"a", "b", "c", "d", "e"};
  auto list = messages(payloads);
  auto published = std::async(std::launch::async, [&] { return publisher.publish(list, 1, false); });
  std::vector<uint16_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(broker.next_publish().packet_id);
  CHECK(broker.quiet_for(300ms));  // a fourth waits for an acknowledgement: the broker said 3
  broker.ack(PacketType::kPuback, ids[0]);
  Publish fourth = broker.next_publish();
  CHECK(fourth.payload == "d");
  ids.push_back(fourth.packet_id);
  CHECK(broker.quiet_for(200ms));
  broker.ack(PacketType::kPuback, ids[1]);
  ids.push_back(broker.next_publish().packet_id);
  for (size_t i = 2; i < ids.size(); ++i) broker.ack(PacketType::kPuback, ids[i]);
  REQUIRE(published.wait_for(5s) == std::future_status::ready);
  CHECK(published.get() == "");
}

TEST_CASE("mqtt publisher: a message an MQTT 5 broker refuses fails the publish with the reason") {
  sluice::testing::NullLogger log;
  ScriptedBroker broker;
  broker.speak(kMqtt5);
  PublisherSettings settings = settings_for(broker);
  Publisher publisher(settings, log);
  connect_new_session(publisher, broker);

  std::vector<std::string> payloads = {"a"};
  auto list = messages(payloads);
  auto published = std::async(std::launch::async, [&] { return publisher.publish(list, 1, false); });
  PacketAck refused{PacketType::kPuback, broker.next_publish().packet_id};
  refused.reason_code = 0x87;
  refused.reason_string = "acl";
  broker.send(refused);
  CHECK(published.get() ==
        "the broker refused the message on \"t/x\" (PUBACK): not authorized (acl)");
  CHECK(publisher.refused_for_good());  // sending it again cannot help
  CHECK_FALSE(publisher.connected());
  broker.drop_client();

  // Over quota: worth another try later.
  connect_new_session(publisher, broker);
  published = std::async(std::launch::async, [&] { return publisher.publish(list, 2, false); });
  PacketAck busy{PacketType::kPubrec, broker.next_publish().packet_id};
  busy.reason_code = 0x97;
  broker.send(busy);
  CHECK(published.get() == "the broker refused the message on \"t/x\" (PUBREC): quota exceeded");
  CHECK_FALSE(publisher.refused_for_good());
  broker.drop_client();

  // A broker that ends the connection says why.
  connect_new_session(publisher, broker);
  published = std::async(std::launch::async, [&] { return publisher.publish(list, 1, false); });
  broker.next_publish();
  Bare bye{PacketType::kDisconnect};
  bye.reason_code = 0x8B;
  broker.send(bye);
  CHECK(published.get() == "the broker disconnected: server shutting down");
}
