// An MQTT 3.1.1 or 5 publishing session, driven by the thread that publishes: publish() writes the
// messages, reads the broker's acknowledgements and returns once every message is
// acknowledged as its QoS requires (QoS 0: written to the socket; QoS 1: PUBACK; QoS 2:
// PUBREC, then PUBREL and PUBCOMP). No thread of its own: handing each message and each
// acknowledgement between threads costs more than the broker's round trip, and a batch writer
// waits for the whole batch anyway.
//
// At most `max_inflight` QoS 1 and 2 messages await their acknowledgement at once; several
// PUBLISH packets go out in one write. With a persistent session (clean_session false) the
// messages still unacknowledged when a connection ends are kept, and sent again on the next
// connection as the specification wants: PUBLISH with DUP set, or PUBREL for those the broker
// had received (PUBREC). The broker would otherwise keep their packet ids in use.
//
// With MQTT 5 the broker's Receive Maximum narrows the window, a message above its Maximum
// Packet Size or QoS is refused before it is sent, and a message the broker refuses (a reason
// code of 0x80 or more on PUBACK or PUBREC) fails the publish with that reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mqtt_packets.hpp"
#include "core/mqtt_transport.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core::mqtt {

struct PublisherSettings {
  std::vector<BrokerAddress> servers;  // tried in order when connecting
  TlsClientFiles tls;                  // for servers with TLS
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool clean_session = true;
  std::chrono::seconds keep_alive{30};     // 0: none
  std::chrono::milliseconds timeout{5000};  // for a connection, and for each acknowledgement
  size_t max_inflight = 20;                 // QoS 1 and 2 messages unacknowledged at once
  uint8_t protocol_level = kMqtt311;         // kMqtt311 or kMqtt5
};

struct OutgoingMessage {
  std::string_view topic;
  std::string_view payload;
};

class Publisher {
 public:
  // Throws std::invalid_argument when no server is given or the TLS files do not load.
  Publisher(PublisherSettings settings, Logger& log);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Connects unless the connection is open and the broker has not closed it; tries each server
  // in turn. "" or why no server took the connection.
  std::string connect();

  // Publishes `messages` in order and waits for their acknowledgements, and for those of
  // messages resent from an earlier connection. "" when all arrived; else why not (the
  // connection is then closed: the next connect() opens a new one).
  std::string publish(std::span<const OutgoingMessage> messages, uint8_t qos, bool retain);
  // Whether the last failed publish failed because the broker refused a message for what it
  // is (MQTT 5: not authorized, topic name invalid, packet too large, QoS or retain not
  // supported...), so that sending it again cannot help.
  bool refused_for_good() const { return refused_for_good_; }

  // Sends DISCONNECT and closes the connection (kept messages stay for a persistent session).
  void disconnect();

  bool connected() const { return transport_ != nullptr; }
  // QoS 1 and 2 messages sent and not yet fully acknowledged.
  size_t unacknowledged() const { return inflight_.size(); }
  // The server of the open connection, or of the last one.
  const BrokerAddress& server() const { return settings_.servers[server_index_]; }

 private:
  using Clock = std::chrono::steady_clock;

  // A QoS 1 or 2 message awaiting its acknowledgement.
  struct Inflight {
    uint64_t order = 0;        // sending order, to resend in it
    PacketType awaiting = PacketType::kPuback;  // kPuback, kPubrec or kPubcomp
    std::string packet;        // the encoded PUBLISH, to resend with DUP
  };

  std::string open(const BrokerAddress& server);
  void close_connection();
  // Queues what a persistent session owes the broker after a reconnect.
  void queue_resends();
  uint16_t next_packet_id();
  // Reads what arrived and handles it. Waits up to `wait` for the first bytes. "" or why the
  // connection is lost.
  std::string receive(std::chrono::milliseconds wait);
  std::string handle(const Packet& packet);
  // A PUBACK or PUBREC with a failure reason: forgets the message and says why it failed.
  std::string refusal(const PacketAck& ack);
  // The broker's limits from its CONNACK.
  void take_limits(const Connack& connack);
  std::string flush_output();

  PublisherSettings settings_;
  Logger& log_;
  SslCtxPtr tls_;
  size_t server_index_ = 0;

  std::unique_ptr<Transport> transport_;
  std::string in_;   // bytes read, not yet decoded
  std::string out_;  // packets to write next
  Clock::time_point last_sent_;
  std::unordered_map<uint16_t, Inflight> inflight_;
  uint16_t last_packet_id_ = 0;
  uint64_t sent_count_ = 0;
  uint64_t answered_ = 0;  // acknowledgements that moved a message on: the progress waited for
  // What the broker of the open connection takes: set from each CONNACK (take_limits), from
  // the settings where MQTT 5's limits are absent.
  size_t window_ = 0;
  uint8_t maximum_qos_ = 2;
  size_t maximum_packet_size_ = kMaxRemainingLength;
  bool refused_for_good_ = false;
};

}  // namespace sluice::core::mqtt
