#include "core/mqtt_packets.hpp"

#include <fmt/format.h>

namespace sluice::core::mqtt {
namespace {

constexpr size_t kMaxString = 65535;

void put_u16(uint16_t v, std::string& out) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

void put_u32(uint32_t v, std::string& out) {
  put_u16(static_cast<uint16_t>(v >> 16), out);
  put_u16(static_cast<uint16_t>(v & 0xffff), out);
}

// A UTF-8 string or binary field: two bytes of length, then the bytes.
bool put_string(std::string_view s, std::string& out) {
  if (s.size() > kMaxString) return false;
  put_u16(static_cast<uint16_t>(s.size()), out);
  out += s;
  return true;
}

// Writes the fixed header and the body after it.
std::string finish(uint8_t first_byte, const std::string& body, std::string& out) {
  if (body.size() > kMaxRemainingLength) {
    return fmt::format("packet body of {} bytes exceeds the MQTT limit of {}", body.size(),
                       kMaxRemainingLength);
  }
  out += static_cast<char>(first_byte);
  encode_remaining_length(body.size(), out);
  out += body;
  return "";
}

uint8_t header(PacketType type, uint8_t flags = 0) {
  return static_cast<uint8_t>((static_cast<uint8_t>(type) << 4) | flags);
}

std::string too_long(std::string_view what) {
  return fmt::format("{} is longer than {} bytes", what, kMaxString);
}

// MQTT 5 property identifiers this codec writes or reads.
constexpr uint8_t kSessionExpiryInterval = 0x11;
constexpr uint8_t kReasonString = 0x1F;
constexpr uint8_t kReceiveMaximum = 0x21;
constexpr uint8_t kMaximumQos = 0x24;
constexpr uint8_t kMaximumPacketSize = 0x27;

// An MQTT 5 property list: its length as a varint, then the properties.
void put_properties(const std::string& properties, std::string& out) {
  encode_remaining_length(properties.size(), out);
  out += properties;
}

std::string encode_connect(const Connect& c, std::string& out) {
  std::string body;
  if (c.protocol_level != kMqtt311 && c.protocol_level != kMqtt5) {
    return fmt::format("CONNECT: protocol level {} is not 4 (MQTT 3.1.1) or 5", c.protocol_level);
  }
  put_string("MQTT", body);
  body += static_cast<char>(c.protocol_level);
  uint8_t flags = 0;
  if (c.clean_session) flags |= 0x02;
  if (c.password && !c.username) return "CONNECT: a password needs a user name";
  if (c.username) flags |= 0x80;
  if (c.password) flags |= 0x40;
  body += static_cast<char>(flags);
  put_u16(c.keep_alive_seconds, body);
  if (c.protocol_level == kMqtt5) {
    std::string properties;
    if (c.session_expiry_seconds > 0) {
      properties += static_cast<char>(kSessionExpiryInterval);
      put_u32(c.session_expiry_seconds, properties);
    }
    put_properties(properties, body);
  }
  if (!put_string(c.client_id, body)) return too_long("CONNECT: client id");
  if (c.username && !put_string(*c.username, body)) return too_long("CONNECT: user name");
  if (c.password && !put_string(*c.password, body)) return too_long("CONNECT: password");
  return finish(header(PacketType::kConnect), body, out);
}

std::string encode_publish(const Publish& p, std::string& out, uint8_t level) {
  if (p.qos > 2) return fmt::format("PUBLISH: QoS {} is not 0, 1 or 2", p.qos);
  if (p.qos > 0 && p.packet_id == 0) return "PUBLISH: QoS 1 and 2 need a packet id other than 0";
  if (p.topic.empty()) return "PUBLISH: the topic is empty";
  std::string body;
  body.reserve(p.topic.size() + p.payload.size() + 4);
  if (!put_string(p.topic, body)) return too_long("PUBLISH: topic");
  if (p.qos > 0) put_u16(p.packet_id, body);
  if (level == kMqtt5) body += '\0';  // no properties
  body += p.payload;
  uint8_t flags = static_cast<uint8_t>(p.qos << 1);
  if (p.dup && p.qos > 0) flags |= 0x08;
  if (p.retain) flags |= 0x01;
  return finish(header(PacketType::kPublish, flags), body, out);
}

std::string encode_subscribe(const Subscribe& s, std::string& out) {
  if (s.packet_id == 0) return "SUBSCRIBE: needs a packet id other than 0";
  if (s.filters.empty()) return "SUBSCRIBE: needs at least one topic filter";
  std::string body;
  put_u16(s.packet_id, body);
  for (const TopicFilter& f : s.filters) {
    if (f.filter.empty()) return "SUBSCRIBE: a topic filter is empty";
    if (f.qos > 2) return fmt::format("SUBSCRIBE: QoS {} is not 0, 1 or 2", f.qos);
    if (!put_string(f.filter, body)) return too_long("SUBSCRIBE: topic filter");
    body += static_cast<char>(f.qos);
  }
  return finish(header(PacketType::kSubscribe, 0x02), body, out);
}

std::string encode_suback(const Suback& s, std::string& out) {
  if (s.packet_id == 0) return "SUBACK: needs a packet id other than 0";
  std::string body;
  put_u16(s.packet_id, body);
  for (uint8_t code : s.return_codes) body += static_cast<char>(code);
  return finish(header(PacketType::kSuback), body, out);
}

std::string encode_ack(const PacketAck& a, std::string& out, uint8_t level) {
  switch (a.type) {
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubcomp:
    case PacketType::kPubrel:
      break;
    default:
      return fmt::format("{} does not carry a packet id alone", packet_name(a.type));
  }
  if (a.packet_id == 0) return fmt::format("{}: needs a packet id other than 0", packet_name(a.type));
  std::string body;
  put_u16(a.packet_id, body);
  // MQTT 5 leaves out a reason of 0 (success) and empty properties.
  if (level == kMqtt5 && (a.reason_code != 0 || !a.reason_string.empty())) {
    body += static_cast<char>(a.reason_code);
    if (!a.reason_string.empty()) {
      std::string properties;
      properties += static_cast<char>(kReasonString);
      if (!put_string(a.reason_string, properties)) return too_long("reason string");
      put_properties(properties, body);
    }
  }
  // PUBREL is the one acknowledgement with fixed flags 0010.
  return finish(header(a.type, a.type == PacketType::kPubrel ? 0x02 : 0), body, out);
}

std::string encode_bare(const Bare& b, std::string& out, uint8_t level) {
  if (b.type != PacketType::kPingreq && b.type != PacketType::kPingresp &&
      b.type != PacketType::kDisconnect) {
    return fmt::format("{} is not a packet without a body", packet_name(b.type));
  }
  std::string body;
  if (level == kMqtt5 && b.type == PacketType::kDisconnect && b.reason_code != 0) {
    body += static_cast<char>(b.reason_code);
  }
  return finish(header(b.type), body, out);
}

std::string encode_connack(const Connack& c, std::string& out, uint8_t level) {
  std::string body;
  body += static_cast<char>(c.session_present ? 1 : 0);
  body += static_cast<char>(c.return_code);
  if (level == kMqtt5) {
    std::string properties;
    if (c.receive_maximum) {
      properties += static_cast<char>(kReceiveMaximum);
      put_u16(*c.receive_maximum, properties);
    }
    if (c.maximum_qos) {
      properties += static_cast<char>(kMaximumQos);
      properties += static_cast<char>(*c.maximum_qos);
    }
    if (c.maximum_packet_size) {
      properties += static_cast<char>(kMaximumPacketSize);
      put_u32(*c.maximum_packet_size, properties);
    }
    if (!c.reason_string.empty()) {
      properties += static_cast<char>(kReasonString);
      if (!put_string(c.reason_string, properties)) return too_long("CONNACK: reason string");
    }
    put_properties(properties, body);
  }
  return finish(header(PacketType::kConnack), body, out);
}

// Reads fields from a packet's body, remembering the first fault.
class BodyReader {
 public:
  BodyReader(std::string_view body, std::string_view packet) : body_(body), packet_(packet) {}

  bool u8(uint8_t& v) {
    if (!need(1, "a byte")) return false;
    v = static_cast<uint8_t>(body_[at_++]);
    return true;
  }
  bool u16(uint16_t& v, std::string_view what) {
    if (!need(2, what)) return false;
    v = static_cast<uint16_t>((static_cast<uint8_t>(body_[at_]) << 8) |
                              static_cast<uint8_t>(body_[at_ + 1]));
    at_ += 2;
    return true;
  }
  bool u32(uint32_t& v, std::string_view what) {
    uint16_t high = 0, low = 0;
    if (!u16(high, what) || !u16(low, what)) return false;
    v = (static_cast<uint32_t>(high) << 16) | low;
    return true;
  }
  bool varint(uint32_t& v, std::string_view what) {
    v = 0;
    for (int shift = 0; shift < 28; shift += 7) {
      uint8_t byte = 0;
      if (!need(1, what)) return false;
      byte = static_cast<uint8_t>(body_[at_++]);
      v |= static_cast<uint32_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return fail(fmt::format("{} is longer than 4 bytes", what));
  }
  bool string(std::string& s, std::string_view what) {
    uint16_t n = 0;
    if (!u16(n, what)) return false;
    if (!need(n, what)) return false;
    s.assign(body_.substr(at_, n));
    at_ += n;
    return true;
  }
  std::string_view rest() {
    std::string_view r = body_.substr(at_);
    at_ = body_.size();
    return r;
  }
  bool at_end() const { return at_ == body_.size(); }
  // A reader of the next `n` bytes (an MQTT 5 property list), which this one steps over.
  bool sub(size_t n, std::string_view what, std::string_view& out) {
    if (!need(n, what)) return false;
    out = body_.substr(at_, n);
    at_ += n;
    return true;
  }
  const std::string& error() const { return error_; }
  std::string_view packet() const { return packet_; }
  bool fail(std::string why) {
    if (error_.empty()) error_ = fmt::format("{}: {}", packet_, why);
    return false;
  }
  // Takes the fault of a reader of part of this body (a property list) as its own.
  bool adopt_error(const BodyReader& part) {
    if (error_.empty()) error_ = part.error_;
    return false;
  }

 private:
  bool need(size_t n, std::string_view what) {
    if (body_.size() - at_ >= n) return true;
    return fail(fmt::format("truncated: {} runs past the end of the packet", what));
  }

  std::string_view body_;
  std::string_view packet_;
  size_t at_ = 0;
  std::string error_;
};

// What an MQTT 5 property list says that this codec keeps; everything else is read over.
struct Properties {
  std::optional<uint16_t> receive_maximum;
  std::optional<uint8_t> maximum_qos;
  std::optional<uint32_t> maximum_packet_size;
  std::optional<uint32_t> session_expiry;
  std::string reason_string;
};

// How an MQTT 5 property is encoded, and what an error calls it.
struct PropertySpec {
  enum Type { kByte, kTwoBytes, kFourBytes, kVarint, kString, kStringPair } type;
  const char* name;
};

std::optional<PropertySpec> property_spec(uint8_t id) {
  using enum PropertySpec::Type;
  switch (id) {
    case kMaximumQos:
      return PropertySpec{kByte, "Maximum QoS"};
    case 0x01: case 0x17: case 0x19: case 0x25: case 0x28: case 0x29: case 0x2A:
      return PropertySpec{kByte, "a one-byte property"};
    case kReceiveMaximum:
      return PropertySpec{kTwoBytes, "Receive Maximum"};
    case 0x13: case 0x22: case 0x23:
      return PropertySpec{kTwoBytes, "a two-byte property"};
    case kSessionExpiryInterval:
      return PropertySpec{kFourBytes, "Session Expiry Interval"};
    case kMaximumPacketSize:
      return PropertySpec{kFourBytes, "Maximum Packet Size"};
    case 0x02: case 0x18:
      return PropertySpec{kFourBytes, "a four-byte property"};
    case 0x0B:
      return PropertySpec{kVarint, "Subscription Identifier"};
    case kReasonString:
      return PropertySpec{kString, "Reason String"};
    case 0x03: case 0x08: case 0x09: case 0x12: case 0x15: case 0x16: case 0x1A: case 0x1C:
      return PropertySpec{kString, "a string property"};
    case 0x26:
      return PropertySpec{kStringPair, "a user property"};
    default:
      return std::nullopt;
  }
}

// Reads an MQTT 5 property list (its varint length, then the properties), by each identifier's
// data type, so that unknown-to-us properties are stepped over exactly; keeps those the
// publisher acts on.
bool read_properties(BodyReader& r, Properties& p) {
  uint32_t length = 0;
  std::string_view list;
  if (!r.varint(length, "the property length") || !r.sub(length, "the properties", list)) {
    return false;
  }
  BodyReader props(list, r.packet());
  while (!props.at_end()) {
    uint8_t id = 0;
    props.u8(id);
    const std::optional<PropertySpec> spec = property_spec(id);
    if (!spec) {
      props.fail(fmt::format("unknown property 0x{:02x}", id));
      return r.adopt_error(props);
    }
    uint32_t number = 0;
    std::string text;
    bool ok = true;
    switch (spec->type) {
      case PropertySpec::kByte: {
        uint8_t v = 0;
        ok = props.u8(v);
        number = v;
        break;
      }
      case PropertySpec::kTwoBytes: {
        uint16_t v = 0;
        ok = props.u16(v, spec->name);
        number = v;
        break;
      }
      case PropertySpec::kFourBytes:
        ok = props.u32(number, spec->name);
        break;
      case PropertySpec::kVarint:
        ok = props.varint(number, spec->name);
        break;
      case PropertySpec::kString:
        ok = props.string(text, spec->name);
        break;
      case PropertySpec::kStringPair:
        ok = props.string(text, spec->name) && props.string(text, spec->name);
        break;
    }
    switch (id) {
      case kMaximumQos:
        if (ok && number > 1) ok = props.fail(fmt::format("Maximum QoS {} is not 0 or 1", number));
        p.maximum_qos = static_cast<uint8_t>(number);
        break;
      case kReceiveMaximum:
        if (ok && number == 0) ok = props.fail("Receive Maximum of 0");
        p.receive_maximum = static_cast<uint16_t>(number);
        break;
      case kSessionExpiryInterval:
        p.session_expiry = number;
        break;
      case kMaximumPacketSize:
        if (ok && number == 0) ok = props.fail("Maximum Packet Size of 0");
        p.maximum_packet_size = number;
        break;
      case kReasonString:
        p.reason_string = std::move(text);
        break;
      default:
        break;
    }
    if (!ok) return r.adopt_error(props);
  }
  return true;
}

// MQTT 5's tail of an acknowledgement or a DISCONNECT: a reason code, then properties, each
// left out when there is nothing after it (a reason of 0, success, when absent).
bool read_reason(BodyReader& r, uint8_t& code, std::string& reason_string) {
  if (r.at_end()) return true;
  if (!r.u8(code)) return false;
  if (r.at_end()) return true;
  Properties p;
  if (!read_properties(r, p)) return false;
  reason_string = std::move(p.reason_string);
  return true;
}

bool decode_connect(BodyReader& r, Connect& c) {
  std::string protocol;
  uint8_t level = 0, flags = 0;
  if (!r.string(protocol, "the protocol name") || !r.u8(level) || !r.u8(flags) ||
      !r.u16(c.keep_alive_seconds, "the keep-alive")) {
    return false;
  }
  if (protocol != "MQTT") return r.fail(fmt::format("unknown protocol name \"{}\"", protocol));
  if (level != kMqtt311 && level != kMqtt5) {
    return r.fail(fmt::format("protocol level {} is not 4 (MQTT 3.1.1) or 5", level));
  }
  c.protocol_level = level;
  if (flags & 0x01) return r.fail("the reserved flag is set");
  if (flags & 0x04) return r.fail("will messages are not supported");
  if ((flags & 0x40) && !(flags & 0x80)) return r.fail("a password without a user name");
  c.clean_session = (flags & 0x02) != 0;
  if (level == kMqtt5) {
    Properties p;
    if (!read_properties(r, p)) return false;
    c.session_expiry_seconds = p.session_expiry.value_or(0);
  }
  if (!r.string(c.client_id, "the client id")) return false;
  if (flags & 0x80) {
    c.username.emplace();
    if (!r.string(*c.username, "the user name")) return false;
  }
  if (flags & 0x40) {
    c.password.emplace();
    if (!r.string(*c.password, "the password")) return false;
  }
  return r.at_end() || r.fail("bytes after the payload");
}

bool decode_publish(BodyReader& r, uint8_t flags, uint8_t level, Publish& p) {
  p.qos = (flags >> 1) & 0x03;
  p.dup = (flags & 0x08) != 0;
  p.retain = (flags & 0x01) != 0;
  if (p.qos == 3) return r.fail("QoS 3 is not a QoS");
  if (p.qos == 0 && p.dup) return r.fail("the DUP flag is set on a QoS 0 message");
  if (!r.string(p.topic, "the topic")) return false;
  if (p.topic.empty()) return r.fail("the topic is empty");
  if (p.topic.find_first_of("+#") != std::string::npos) {
    return r.fail(fmt::format("the topic \"{}\" contains a wildcard", p.topic));
  }
  if (p.qos > 0) {
    if (!r.u16(p.packet_id, "the packet id")) return false;
    if (p.packet_id == 0) return r.fail("packet id 0");
  }
  Properties ignored;
  if (level == kMqtt5 && !read_properties(r, ignored)) return false;
  p.payload.assign(r.rest());
  return true;
}

bool decode_subscribe(BodyReader& r, Subscribe& s) {
  if (!r.u16(s.packet_id, "the packet id")) return false;
  if (s.packet_id == 0) return r.fail("packet id 0");
  while (!r.at_end()) {
    TopicFilter f;
    if (!r.string(f.filter, "a topic filter") || !r.u8(f.qos)) return false;
    if (f.qos > 2) return r.fail(fmt::format("requested QoS {} for \"{}\"", f.qos, f.filter));
    s.filters.push_back(std::move(f));
  }
  return !s.filters.empty() || r.fail("no topic filters");
}

bool decode_suback(BodyReader& r, Suback& s) {
  if (!r.u16(s.packet_id, "the packet id")) return false;
  if (r.at_end()) return r.fail("no return codes");
  for (char c : r.rest()) {
    uint8_t code = static_cast<uint8_t>(c);
    if (code > 2 && code != kSubscribeFailure) {
      return r.fail(fmt::format("return code 0x{:02x} is not a QoS or 0x80", code));
    }
    s.return_codes.push_back(code);
  }
  return true;
}

bool valid_flags(PacketType type, uint8_t flags) {
  switch (type) {
    case PacketType::kPublish:
      return true;  // checked with the body
    case PacketType::kPubrel:
    case PacketType::kSubscribe:
      return flags == 0x02;
    default:
      return flags == 0;
  }
}

bool known_type(uint8_t t) { return (t >= 1 && t <= 9) || (t >= 12 && t <= 14); }

}  // namespace

std::string_view packet_name(PacketType type) {
  switch (type) {
    case PacketType::kConnect: return "CONNECT";
    case PacketType::kConnack: return "CONNACK";
    case PacketType::kPublish: return "PUBLISH";
    case PacketType::kPuback: return "PUBACK";
    case PacketType::kPubrec: return "PUBREC";
    case PacketType::kPubrel: return "PUBREL";
    case PacketType::kPubcomp: return "PUBCOMP";
    case PacketType::kSubscribe: return "SUBSCRIBE";
    case PacketType::kSuback: return "SUBACK";
    case PacketType::kPingreq: return "PINGREQ";
    case PacketType::kPingresp: return "PINGRESP";
    case PacketType::kDisconnect: return "DISCONNECT";
  }
  return "unknown packet";
}

std::string connack_reason(uint8_t return_code) {
  switch (return_code) {
    case 0: return "accepted";
    case 1: return "unacceptable protocol version";
    case 2: return "client identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return fmt::format("unknown return code {}", return_code);
  }
}

std::string reason_name(uint8_t code) {
  switch (code) {
    case 0x00: return "success";
    case 0x10: return "no matching subscribers";
    case 0x80: return "unspecified error";
    case 0x81: return "malformed packet";
    case 0x82: return "protocol error";
    case 0x83: return "implementation specific error";
    case 0x84: return "unsupported protocol version";
    case 0x85: return "client identifier not valid";
    case 0x86: return "bad user name or password";
    case 0x87: return "not authorized";
    case 0x88: return "server unavailable";
    case 0x89: return "server busy";
    case 0x8A: return "banned";
    case 0x8B: return "server shutting down";
    case 0x8C: return "bad authentication method";
    case 0x8D: return "keep alive timeout";
    case 0x8E: return "session taken over";
    case 0x90: return "topic name invalid";
    case 0x91: return "packet identifier in use";
    case 0x93: return "receive maximum exceeded";
    case 0x94: return "topic alias invalid";
    case 0x95: return "packet too large";
    case 0x96: return "message rate too high";
    case 0x97: return "quota exceeded";
    case 0x98: return "administrative action";
    case 0x99: return "payload format invalid";
    case 0x9A: return "retain not supported";
    case 0x9B: return "QoS not supported";
    case 0x9C: return "use another server";
    case 0x9D: return "server moved";
    case 0x9F: return "connection rate exceeded";
    case 0xA0: return "maximum connect time";
    default: return fmt::format("reason code 0x{:02x}", code);
  }
}

PacketType type_of(const Packet& packet) {
  struct Visitor {
    PacketType operator()(const Connect&) const { return PacketType::kConnect; }
    PacketType operator()(const Connack&) const { return PacketType::kConnack; }
    PacketType operator()(const Publish&) const { return PacketType::kPublish; }
    PacketType operator()(const Subscribe&) const { return PacketType::kSubscribe; }
    PacketType operator()(const Suback&) const { return PacketType::kSuback; }
    PacketType operator()(const PacketAck& a) const { return a.type; }
    PacketType operator()(const Bare& b) const { return b.type; }
  };
  return std::visit(Visitor{}, packet);
}

bool encode_remaining_length(size_t length, std::string& out) {
  if (length > kMaxRemainingLength) return false;
  do {
    uint8_t byte = length & 0x7f;
    length >>= 7;
    if (length > 0) byte |= 0x80;
    out += static_cast<char>(byte);
  } while (length > 0);
  return true;
}

std::string encode(const Packet& packet, std::string& out, uint8_t protocol_level) {
  struct Visitor {
    std::string& out;
    uint8_t level;
    std::string operator()(const Connect& c) const { return encode_connect(c, out); }
    std::string operator()(const Connack& c) const { return encode_connack(c, out, level); }
    std::string operator()(const Publish& p) const { return encode_publish(p, out, level); }
    std::string operator()(const Subscribe& s) const { return encode_subscribe(s, out); }
    std::string operator()(const Suback& s) const { return encode_suback(s, out); }
    std::string operator()(const PacketAck& a) const { return encode_ack(a, out, level); }
    std::string operator()(const Bare& b) const { return encode_bare(b, out, level); }
  };
  // Nothing of a packet that cannot be encoded is left in `out`.
  size_t before = out.size();
  std::string error = std::visit(Visitor{out, protocol_level}, packet);
  if (!error.empty()) out.resize(before);
  return error;
}

Decoded decode(std::string_view bytes, size_t max_packet_size, uint8_t protocol_level) {
  const bool v5 = protocol_level == kMqtt5;
  Decoded d;
  if (bytes.empty()) return d;
  uint8_t first = static_cast<uint8_t>(bytes[0]);
  uint8_t type_bits = first >> 4;
  uint8_t flags = first & 0x0f;
  auto malformed = [&d](std::string error) {
    d.status = Decoded::Status::kMalformed;
    d.error = std::move(error);
    return d;
  };
  if (!known_type(type_bits)) {
    return malformed(fmt::format("unknown packet type {} (first byte 0x{:02x})", type_bits, first));
  }
  auto type = static_cast<PacketType>(type_bits);
  std::string_view name = packet_name(type);
  if (!valid_flags(type, flags)) {
    return malformed(fmt::format("{}: reserved header flags 0x{:x}", name, flags));
  }
  // The remaining length: 7 bits a byte, least significant first, at most 4 bytes.
  size_t length = 0;
  size_t at = 1;
  for (int shift = 0;; shift += 7) {
    if (at > 4) return malformed(fmt::format("{}: remaining length longer than 4 bytes", name));
    if (at >= bytes.size()) return d;  // the length itself is incomplete
    uint8_t byte = static_cast<uint8_t>(bytes[at++]);
    length |= static_cast<size_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
  }
  if (length > max_packet_size) {
    return malformed(fmt::format("{}: remaining length of {} bytes exceeds the limit of {}", name,
                                 length, max_packet_size));
  }
  if (bytes.size() - at < length) return d;
  BodyReader r(bytes.substr(at, length), name);
  bool ok = false;
  switch (type) {
    case PacketType::kConnect: {
      Connect c;
      ok = decode_connect(r, c);
      d.packet = std::move(c);
      break;
    }
    case PacketType::kConnack: {
      Connack c;
      uint8_t ack_flags = 0;
      ok = r.u8(ack_flags) && r.u8(c.return_code);
      if (ok && (ack_flags & 0xfe)) ok = r.fail("reserved acknowledge flags are set");
      if (ok && v5) {
        Properties p;
        ok = read_properties(r, p);
        c.receive_maximum = p.receive_maximum;
        c.maximum_qos = p.maximum_qos;
        c.maximum_packet_size = p.maximum_packet_size;
        c.reason_string = p.reason_string;
      }
      if (ok && !r.at_end()) ok = r.fail(v5 ? "bytes after the properties" : "remaining length is not 2");
      c.session_present = (ack_flags & 0x01) != 0;
      d.packet = c;
      break;
    }
    case PacketType::kPublish: {
      Publish p;
      ok = decode_publish(r, flags, protocol_level, p);
      d.packet = std::move(p);
      break;
    }
    case PacketType::kSubscribe: {
      Subscribe s;
      ok = decode_subscribe(r, s);
      d.packet = std::move(s);
      break;
    }
    case PacketType::kSuback: {
      Suback s;
      ok = decode_suback(r, s);
      d.packet = std::move(s);
      break;
    }
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp: {
      PacketAck a{type, 0};
      ok = r.u16(a.packet_id, "the packet id");
      if (ok && v5) ok = read_reason(r, a.reason_code, a.reason_string);
      if (ok && !r.at_end()) ok = r.fail(v5 ? "bytes after the properties" : "remaining length is not 2");
      if (ok && a.packet_id == 0) ok = r.fail("packet id 0");
      d.packet = a;
      break;
    }
    case PacketType::kPingreq:
    case PacketType::kPingresp:
    case PacketType::kDisconnect: {
      Bare b{type};
      ok = !(v5 && type == PacketType::kDisconnect) ||
           read_reason(r, b.reason_code, b.reason_string);
      if (ok && !r.at_end()) ok = r.fail("remaining length is not 0");
      d.packet = std::move(b);
      break;
    }
  }
  if (!ok) return malformed(r.error());
  d.status = Decoded::Status::kPacket;
  d.consumed = at + length;
  return d;
}

}  // namespace sluice::core::mqtt
