// MQTT 3.1.1 control packets: encoding to bytes and decoding from a byte stream. Only what a
// client sends and receives (no will messages, no UNSUBSCRIBE): CONNECT, CONNACK, PUBLISH,
// PUBACK, PUBREC, PUBREL, PUBCOMP, SUBSCRIBE, SUBACK, PINGREQ, PINGRESP and DISCONNECT.
// MQTT 5 as far as a publisher needs it: CONNECT with a session expiry, CONNACK with the
// broker's limits, PUBLISH without properties, acknowledgements and DISCONNECT with a reason
// code; other properties are read over.
// Decoding is strict: whatever the specification calls malformed is an error naming the packet
// and the fault, so a broken peer is dropped with a reason instead of being misread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sluice::core::mqtt {

enum class PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
};

std::string_view packet_name(PacketType type);

// The protocol level byte of CONNECT: which MQTT a connection speaks.
constexpr uint8_t kMqtt311 = 4;
constexpr uint8_t kMqtt5 = 5;

// What an MQTT 5 reason code means ("not authorized", "quota exceeded"...); codes below 0x80
// are successes.
std::string reason_name(uint8_t code);

// The largest remaining length four varint bytes can carry (about 256 MiB).
constexpr size_t kMaxRemainingLength = 268'435'455;

struct Connect {
  Connect() = default;
  Connect(std::string id, bool clean, uint16_t keep_alive, std::optional<std::string> user,
          std::optional<std::string> pass)
      : client_id(std::move(id)),
        clean_session(clean),
        keep_alive_seconds(keep_alive),
        username(std::move(user)),
        password(std::move(pass)) {}
  std::string client_id;
  bool clean_session = true;
  uint16_t keep_alive_seconds = 0;
  std::optional<std::string> username;
  std::optional<std::string> password;
  uint8_t protocol_level = kMqtt311;
  uint32_t session_expiry_seconds = 0;  // MQTT 5: how long the broker keeps the session
  bool operator==(const Connect&) const = default;
};

// The CONNECT of a session's settings (the client's and the publisher's alike: client_id,
// clean_session, keep_alive, username and password), keep-alive capped at the protocol's 65535 s.
template <typename SessionSettings>
Connect connect_packet(const SessionSettings& s) {
  Connect connect;
  connect.client_id = s.client_id;
  connect.clean_session = s.clean_session;
  connect.keep_alive_seconds =
      static_cast<uint16_t>(std::min<int64_t>(s.keep_alive.count(), 65535));
  connect.username = s.username;
  connect.password = s.password;
  return connect;
}

struct Connack {
  Connack(bool present = false, uint8_t code = 0) : session_present(present), return_code(code) {}
  bool session_present = false;
  uint8_t return_code = 0;  // 0: accepted (MQTT 5: a reason code)
  // MQTT 5 properties: the broker's limits, when it states them.
  std::optional<uint16_t> receive_maximum;
  std::optional<uint8_t> maximum_qos;
  std::optional<uint32_t> maximum_packet_size;
  std::string reason_string;
  bool operator==(const Connack&) const = default;
};

// Why a broker refused a connection, from CONNACK's return code.
std::string connack_reason(uint8_t return_code);

struct Publish {
  std::string topic;
  std::string payload;
  uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  uint16_t packet_id = 0;  // only for QoS 1 and 2
  bool operator==(const Publish&) const = default;
};

struct TopicFilter {
  std::string filter;
  uint8_t qos = 0;
  bool operator==(const TopicFilter&) const = default;
};

struct Subscribe {
  uint16_t packet_id = 0;
  std::vector<TopicFilter> filters;
  bool operator==(const Subscribe&) const = default;
};

constexpr uint8_t kSubscribeFailure = 0x80;

struct Suback {
  uint16_t packet_id = 0;
  std::vector<uint8_t> return_codes;  // the granted QoS per filter, or kSubscribeFailure
  bool operator==(const Suback&) const = default;
};

// PUBACK, PUBREC, PUBREL and PUBCOMP: a type and a packet identifier (MQTT 5: and a reason).
struct PacketAck {
  PacketAck(PacketType t = PacketType::kPuback, uint16_t id = 0) : type(t), packet_id(id) {}
  PacketType type = PacketType::kPuback;
  uint16_t packet_id = 0;
  uint8_t reason_code = 0;  // MQTT 5; 0x80 and above: the message was refused
  std::string reason_string;
  bool operator==(const PacketAck&) const = default;
};

// PINGREQ, PINGRESP and DISCONNECT: nothing but the type (an MQTT 5 DISCONNECT: and a reason).
struct Bare {
  Bare(PacketType t = PacketType::kPingreq) : type(t) {}
  PacketType type = PacketType::kPingreq;
  uint8_t reason_code = 0;
  std::string reason_string;
  bool operator==(const Bare&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, Subscribe, Suback, PacketAck, Bare>;

PacketType type_of(const Packet& packet);

// Appends the encoded packet to `out`, in the MQTT of `protocol_level` (a CONNECT says its own).
// Returns "" or why it cannot be encoded (a string longer than 65535 bytes, a packet beyond
// kMaxRemainingLength, QoS above 2, a packet id of 0 where one is needed, a subscription
// without filters).
std::string encode(const Packet& packet, std::string& out, uint8_t protocol_level = kMqtt311);

// The remaining-length varint alone: 1 to 4 bytes. False when `length` exceeds the maximum.
bool encode_remaining_length(size_t length, std::string& out);

struct Decoded {
  enum class Status { kPacket, kNeedMore, kMalformed };
  Status status = Status::kNeedMore;
  size_t consumed = 0;  // bytes of the packet, with kPacket
  Packet packet;
  std::string error;  // with kMalformed
};

// Decodes the first packet of `bytes`. kNeedMore while the packet is incomplete (read more and
// call again with the whole buffer); kMalformed when it can never be read, including a packet
// whose remaining length exceeds `max_packet_size`.
Decoded decode(std::string_view bytes, size_t max_packet_size = kMaxRemainingLength,
               uint8_t protocol_level = kMqtt311);

}  // namespace sluice::core::mqtt
