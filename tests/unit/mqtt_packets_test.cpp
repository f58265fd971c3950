// The MQTT 3.1.1 packet codec: every packet a client uses survives a round trip, known byte
// sequences decode as the specification says, and broken input is refused with its reason.
#include <doctest/doctest.h>

#include "core/mqtt_packets.hpp"
#include "core/mqtt_transport.hpp"

using namespace sluice::core::mqtt;

namespace {

std::string encoded(const Packet& p) {
  std::string out;
  std::string error = encode(p, out);
  REQUIRE_MESSAGE(error.empty(), error);
  return out;
}

Packet round_trip(const Packet& p) {
  std::string bytes = encoded(p);
  Decoded d = decode(bytes);
  REQUIRE_MESSAGE(d.status == Decoded::Status::kPacket, d.error);
  CHECK(d.consumed == bytes.size());
  return d.packet;
}

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

std::string malformed(const std::string& input, size_t limit = kMaxRemainingLength) {
  Decoded d = decode(input, limit);
  REQUIRE(d.status == Decoded::Status::kMalformed);
  return d.error;
}

std::string encode_error(const Packet& p) {
  std::string out = "kept";
  std::string error = encode(p, out);
  CHECK(out == "kept");  // nothing of a refused packet is written
  return error;
}

}  // namespace

TEST_CASE("mqtt packets: every packet type survives a round trip") {
  Connect connect{"sluice-1", false, 60, std::string("user"), std::string("pa\0ss", 5)};
  CHECK(round_trip(connect) == Packet(connect));
  Connect bare_connect{"", true, 0, std::nullopt, std::nullopt};
  CHECK(round_trip(bare_connect) == Packet(bare_connect));
  CHECK(round_trip(Connack{true, 0}) == Packet(Connack{true, 0}));
  CHECK(round_trip(Connack{false, 5}) == Packet(Connack{false, 5}));
  for (uint8_t qos : {0, 1, 2}) {
    Publish p{"sensors/a/temp", std::string("t v=1\n\0\xff", 8), qos, qos == 1,
              qos == 2, static_cast<uint16_t>(qos == 0 ? 0 : 65535)};
    CHECK(round_trip(p) == Packet(p));
  }
  Publish empty_payload{"t", "", 1, false, false, 7};
  CHECK(round_trip(empty_payload) == Packet(empty_payload));
  Subscribe sub{42, {{"a/+/b", 0}, {"sensors/#", 1}, {"x", 2}}};
  CHECK(round_trip(sub) == Packet(sub));
  Suback suback{42, {0, 1, 2, kSubscribeFailure}};
  CHECK(round_trip(suback) == Packet(suback));
  for (PacketType t : {PacketType::kPuback, PacketType::kPubrec, PacketType::kPubrel,
                       PacketType::kPubcomp}) {
    CHECK(round_trip(PacketAck{t, 513}) == Packet(PacketAck{t, 513}));
  }
  for (PacketType t : {PacketType::kPingreq, PacketType::kPingresp, PacketType::kDisconnect}) {
    CHECK(round_trip(Bare{t}) == Packet(Bare{t}));
  }
}

TEST_CASE("mqtt packets: the bytes are those of the specification") {
  CHECK(encoded(Bare{PacketType::kPingreq}) == bytes({0xc0, 0x00}));
  CHECK(encoded(Bare{PacketType::kDisconnect}) == bytes({0xe0, 0x00}));
  CHECK(encoded(PacketAck{PacketType::kPuback, 0x0102}) == bytes({0x40, 0x02, 0x01, 0x02}));
  CHECK(encoded(PacketAck{PacketType::kPubrel, 1}) == bytes({0x62, 0x02, 0x00, 0x01}));
  CHECK(encoded(Publish{"a/b", "hi", 1, true, true, 10}) ==
        bytes({0x3b, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 'h', 'i'}));
  CHECK(encoded(Connect{"c", true, 30, std::nullopt, std::nullopt}) ==
        bytes({0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30, 0, 1, 'c'}));
  CHECK(encoded(Subscribe{1, {{"t", 1}}}) == bytes({0x82, 6, 0, 1, 0, 1, 't', 1}));
  // A CONNACK as Mosquitto sends it: session present, accepted.
  Decoded d = decode(bytes({0x20, 0x02, 0x01, 0x00}));
  REQUIRE(d.status == Decoded::Status::kPacket);
  CHECK(std::get<Connack>(d.packet) == Connack{true, 0});
}

TEST_CASE("mqtt packets: remaining length uses 1 to 4 bytes up to its limit") {
  struct Case {
    size_t length;
    std::string bytes;
  };
  for (const Case& c : {Case{0, bytes({0x00})}, Case{127, bytes({0x7f})},
                        Case{128, bytes({0x80, 0x01})}, Case{16383, bytes({0xff, 0x7f})},
                        Case{16384, bytes({0x80, 0x80, 0x01})},
                        Case{2097151, bytes({0xff, 0xff, 0x7f})},
                        Case{2097152, bytes({0x80, 0x80, 0x80, 0x01})},
                        Case{kMaxRemainingLength, bytes({0xff, 0xff, 0xff, 0x7f})}}) {
    std::string out;
    CHECK(encode_remaining_length(c.length, out));
    CHECK(out == c.bytes);
  }
  std::string out;
  CHECK_FALSE(encode_remaining_length(kMaxRemainingLength + 1, out));
  // A payload that needs a three-byte length decodes whole.
  Publish big{"big", std::string(20000, 'x'), 0, false, false, 0};
  CHECK(round_trip(big) == Packet(big));
  // A fifth length byte is malformed, even before the packet is complete.
  CHECK(malformed(bytes({0x30, 0xff, 0xff, 0xff, 0xff, 0x01})) ==
        "PUBLISH: remaining length longer than 4 bytes");
  CHECK(malformed(bytes({0x30, 0xff, 0xff, 0xff, 0xff})) ==
        "PUBLISH: remaining length longer than 4 bytes");
  // Longer than the reader allows: refused from the header alone.
  CHECK(malformed(bytes({0x30, 0x80, 0x08}), 1000) ==
        "PUBLISH: remaining length of 1024 bytes exceeds the limit of 1000");
}

TEST_CASE("mqtt packets: an incomplete packet asks for more, at every cut") {
  std::string whole = encoded(Publish{"sensors/x", "load v=1i", 2, false, false, 9}) +
                      encoded(Bare{PacketType::kPingresp});
  size_t first = whole.size() - 2;
  for (size_t cut = 0; cut < first; ++cut) {
    Decoded d = decode(std::string_view(whole).substr(0, cut));
    CHECK_MESSAGE(d.status == Decoded::Status::kNeedMore, "cut at ", cut);
  }
  // Two packets in one buffer: the first is decoded, and says where the second begins.
  Decoded d = decode(whole);
  REQUIRE(d.status == Decoded::Status::kPacket);
  CHECK(d.consumed == first);
  Decoded next = decode(std::string_view(whole).substr(d.consumed));
  REQUIRE(next.status == Decoded::Status::kPacket);
  CHECK(next.packet == Packet(Bare{PacketType::kPingresp}));
}

TEST_CASE("mqtt packets: malformed input is refused with its reason") {
  CHECK(malformed(bytes({0x00, 0x00})) == "unknown packet type 0 (first byte 0x00)");
  CHECK(malformed(bytes({0xf0, 0x00})) == "unknown packet type 15 (first byte 0xf0)");
  CHECK(malformed(bytes({0x60, 0x02, 0x00, 0x01})) == "PUBREL: reserved header flags 0x0");
  CHECK(malformed(bytes({0x41, 0x02, 0x00, 0x01})) == "PUBACK: reserved header flags 0x1");
  CHECK(malformed(bytes({0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01})) ==
        "PUBLISH: QoS 3 is not a QoS");
  CHECK(malformed(bytes({0x38, 0x03, 0x00, 0x01, 't'})) ==
        "PUBLISH: the DUP flag is set on a QoS 0 message");
  CHECK(malformed(bytes({0x30, 0x03, 0x00, 0x05, 't'})) ==
        "PUBLISH: truncated: the topic runs past the end of the packet");
  CHECK(malformed(bytes({0x32, 0x03, 0x00, 0x01, 't'})) ==
        "PUBLISH: truncated: the packet id runs past the end of the packet");
  CHECK(malformed(bytes({0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00})) == "PUBLISH: packet id 0");
  CHECK(malformed(bytes({0x30, 0x02, 0x00, 0x00})) == "PUBLISH: the topic is empty");
  CHECK(malformed(bytes({0x30, 0x03, 0x00, 0x01, '#'})) ==
        "PUBLISH: the topic \"#\" contains a wildcard");
  CHECK(malformed(bytes({0x20, 0x03, 0x00, 0x00, 0x00})) == "CONNACK: remaining length is not 2");
  CHECK(malformed(bytes({0x20, 0x02, 0x02, 0x00})) ==
        "CONNACK: reserved acknowledge flags are set");
  CHECK(malformed(bytes({0x40, 0x01, 0x00})) ==
        "PUBACK: truncated: the packet id runs past the end of the packet");
  CHECK(malformed(bytes({0x40, 0x02, 0x00, 0x00})) == "PUBACK: packet id 0");
  CHECK(malformed(bytes({0xd0, 0x01, 0x00})) == "PINGRESP: remaining length is not 0");
  CHECK(malformed(bytes({0x90, 0x02, 0x00, 0x01})) == "SUBACK: no return codes");
  CHECK(malformed(bytes({0x90, 0x03, 0x00, 0x01, 0x03})) ==
        "SUBACK: return code 0x03 is not a QoS or 0x80");
  CHECK(malformed(bytes({0x82, 0x02, 0x00, 0x01})) == "SUBSCRIBE: no topic filters");
  CHECK(malformed(bytes({0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 3, 0x02, 0, 0, 0, 0})) ==
        "CONNECT: protocol level 3 is not 4 (MQTT 3.1.1) or 5");
  CHECK(malformed(bytes({0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'X', 4, 0x02, 0, 0, 0, 0})) ==
        "CONNECT: unknown protocol name \"MQTX\"");
  CHECK(malformed(bytes({0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x80, 0, 0, 0, 0})) ==
        "CONNECT: truncated: the user name runs past the end of the packet");
}

TEST_CASE("mqtt packets: what cannot be encoded is refused, and nothing is written") {
  CHECK(encode_error(Publish{"t", "", 3, false, false, 1}) == "PUBLISH: QoS 3 is not 0, 1 or 2");
  CHECK(encode_error(Publish{"t", "", 1, false, false, 0}) ==
        "PUBLISH: QoS 1 and 2 need a packet id other than 0");
  CHECK(encode_error(Publish{std::string(65536, 't'), "", 0, false, false, 0}) ==
        "PUBLISH: topic is longer than 65535 bytes");
  CHECK(encode_error(Publish{"t", std::string(kMaxRemainingLength, 'x'), 0, false, false, 0}) ==
        "packet body of 268435458 bytes exceeds the MQTT limit of 268435455");
  CHECK(encode_error(Subscribe{1, {}}) == "SUBSCRIBE: needs at least one topic filter");
  CHECK(encode_error(Subscribe{0, {{"t", 0}}}) == "SUBSCRIBE: needs a packet id other than 0");
  CHECK(encode_error(PacketAck{PacketType::kPuback, 0}) == "PUBACK: needs a packet id other than 0");
  CHECK(encode_error(Bare{PacketType::kPuback}) == "PUBACK is not a packet without a body");
  CHECK(encode_error(Connect{"c", true, 0, std::nullopt, std::string("p")}) ==
        "CONNECT: a password needs a user name");
}

TEST_CASE("mqtt broker addresses: the schemes of Telegraf, default ports, clear refusals") {
  BrokerAddress a;
  CHECK(parse_broker_address("tcp://127.0.0.1:1884", a) == "");
  CHECK((a.host == "127.0.0.1" && a.port == 1884 && !a.tls));
  CHECK(parse_broker_address("mqtts://broker.example", a) == "");
  CHECK((a.host == "broker.example" && a.port == 8883 && a.tls));
  CHECK(a.text() == "ssl://broker.example:8883");
  CHECK(parse_broker_address("tls://b:9000", a) == "");
  CHECK((a.tls && a.port == 9000));
  CHECK(parse_broker_address("ssl://b", a) == "");
  CHECK(a.tls);
  CHECK(parse_broker_address("mqtt://b", a) == "");
  CHECK((!a.tls && a.port == 1883));
  CHECK(parse_broker_address("localhost:1883", a) == "");
  CHECK((a.host == "localhost" && !a.tls));
  CHECK(parse_broker_address("tcp://[::1]:1883", a) == "");
  CHECK((a.host == "::1" && a.port == 1883));
  CHECK(a.text() == "tcp://[::1]:1883");
  CHECK(parse_broker_address("ws://b:80", a) ==
        "unknown scheme \"ws\" in \"ws://b:80\"; use tcp, mqtt, ssl, tls or mqtts");
  CHECK(parse_broker_address("tcp://b:0", a) == "port \"0\" in \"tcp://b:0\" is not 1 to 65535");
  CHECK(parse_broker_address("tcp://b:x", a) == "port \"x\" in \"tcp://b:x\" is not 1 to 65535");
  CHECK(parse_broker_address("tcp://:1883", a) == "no host in \"tcp://:1883\"");
  CHECK(parse_broker_address("tcp://b/path", a) == "a broker address has no path: \"tcp://b/path\"");
}

namespace {

Packet decode_v5(const std::string& input) {
  Decoded d = decode(input, kMaxRemainingLength, kMqtt5);
  REQUIRE_MESSAGE(d.status == Decoded::Status::kPacket, d.error);
  CHECK(d.consumed == input.size());
  return d.packet;
}

std::string malformed_v5(const std::string& input) {
  Decoded d = decode(input, kMaxRemainingLength, kMqtt5);
  REQUIRE(d.status == Decoded::Status::kMalformed);
  return d.error;
}

std::string encoded_v5(const Packet& p) {
  std::string out;
  REQUIRE(encode(p, out, kMqtt5).empty());
  return out;
}

}  // namespace

TEST_CASE("mqtt packets: MQTT 5 CONNECT, PUBLISH and acknowledgements in the specification's bytes") {
  Connect connect{"c", false, 30, std::nullopt, std::nullopt};
  connect.protocol_level = kMqtt5;
  connect.session_expiry_seconds = 0xFFFFFFFF;
  // Level 5, no clean start, then the properties: Session Expiry Interval (0x11) of 2^32-1.
  CHECK(encoded_v5(connect) == bytes({0x10, 19, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x00, 0, 30, 5, 0x11,
                                      0xff, 0xff, 0xff, 0xff, 0, 1, 'c'}));
  CHECK(decode_v5(encoded_v5(connect)) == Packet(connect));
  connect.session_expiry_seconds = 0;  // a clean session: an empty property list
  CHECK(encoded_v5(connect) ==
        bytes({0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x00, 0, 30, 0, 0, 1, 'c'}));
  // PUBLISH: an empty property list between the packet id and the payload.
  Publish publish{"a/b", "hi", 1, false, false, 10};
  CHECK(encoded_v5(publish) ==
        bytes({0x32, 0x0a, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 0x00, 'h', 'i'}));
  CHECK(decode_v5(encoded_v5(publish)) == Packet(publish));
  // A success needs no reason code: PUBREL stays four bytes.
  CHECK(encoded_v5(PacketAck{PacketType::kPubrel, 1}) == bytes({0x62, 0x02, 0x00, 0x01}));
  CHECK(decode_v5(bytes({0x40, 0x02, 0x00, 0x07})) == Packet(PacketAck{PacketType::kPuback, 7}));
}

TEST_CASE("mqtt packets: an MQTT 5 CONNACK gives the broker's limits and steps over the rest") {
  // Mosquitto-like: Receive Maximum 20, Topic Alias Maximum 10, Retain Available 1, a user
  // property, an assigned client id, Maximum QoS 1, Maximum Packet Size 1000.
  std::string props = bytes({0x21, 0, 20, 0x22, 0, 10, 0x25, 1, 0x26, 0, 1, 'k', 0, 2, 'v', 'v',
                             0x12, 0, 2, 'i', 'd', 0x24, 1, 0x27, 0, 0, 0x03, 0xe8});
  std::string body = bytes({0x00, 0x00}) + static_cast<char>(props.size()) + props;
  Packet p = decode_v5(bytes({0x20, static_cast<int>(body.size())}) + body);
  const Connack& c = std::get<Connack>(p);
  CHECK_FALSE(c.session_present);
  CHECK(c.return_code == 0);
  CHECK(c.receive_maximum == std::optional<uint16_t>(20));
  CHECK(c.maximum_qos == std::optional<uint8_t>(1));
  CHECK(c.maximum_packet_size == std::optional<uint32_t>(1000));
  // Round trip of what the codec writes.
  Connack limits{true, 0};
  limits.receive_maximum = 5;
  limits.reason_string = "ok";
  CHECK(decode_v5(encoded_v5(limits)) == Packet(limits));
  // A refusal with its reason code and reason string.
  Connack refused{false, 0x87};
  refused.reason_string = "no";
  CHECK(decode_v5(encoded_v5(refused)) == Packet(refused));
  CHECK(reason_name(0x87) == "not authorized");
}

TEST_CASE("mqtt packets: MQTT 5 acknowledgements and DISCONNECT carry a reason") {
  // PUBACK 7: not authorized, with a reason string "no".
  Packet refused = decode_v5(bytes({0x40, 0x09, 0x00, 0x07, 0x87, 0x05, 0x1f, 0x00, 0x02, 'n', 'o'}));
  const PacketAck& ack = std::get<PacketAck>(refused);
  CHECK(ack.packet_id == 7);
  CHECK(ack.reason_code == 0x87);
  CHECK(ack.reason_string == "no");
  // A reason without properties.
  CHECK(std::get<PacketAck>(decode_v5(bytes({0x50, 0x03, 0x00, 0x02, 0x10}))).reason_code == 0x10);
  Packet disconnect = decode_v5(bytes({0xe0, 0x02, 0x8b, 0x00}));
  const Bare& bye = std::get<Bare>(disconnect);
  CHECK(bye.type == PacketType::kDisconnect);
  CHECK(bye.reason_code == 0x8b);
  CHECK(reason_name(bye.reason_code) == "server shutting down");
}

TEST_CASE("mqtt packets: malformed MQTT 5 properties are named") {
  CHECK(malformed_v5(bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x7f, 0x00})) ==
        "CONNACK: unknown property 0x7f");
  CHECK(malformed_v5(bytes({0x20, 0x04, 0x00, 0x00, 0x05, 0x21})) ==
        "CONNACK: truncated: the properties runs past the end of the packet");
  CHECK(malformed_v5(bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x21, 0x00})) ==
        "CONNACK: truncated: Receive Maximum runs past the end of the packet");
  CHECK(malformed_v5(bytes({0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00})) ==
        "CONNACK: Receive Maximum of 0");
  // In MQTT 3.1.1 the same bytes are too long for a CONNACK.
  Decoded d = decode(bytes({0x20, 0x03, 0x00, 0x00, 0x00}));
  REQUIRE(d.status == Decoded::Status::kMalformed);
  CHECK(d.error == "CONNACK: remaining length is not 2");
}
