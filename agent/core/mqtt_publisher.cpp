#include "core/mqtt_publisher.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sluice::core::mqtt {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
// PUBLISH packets gathered into one write, at most (more at once only delays the first ones).
constexpr size_t kWriteChunk = 64 * 1024;

// Rounded up: 0 only once the deadline passed.
std::chrono::milliseconds until(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline -
                                                           std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

// A TLS write to a connection the broker closed raises SIGPIPE, which would end the agent:
// block it on this thread for the write, and take back one that the write made pending.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_set_);
  }
  ~SigpipeGuard() {
    if (!was_pending_) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_set_, nullptr, &zero) == SIGPIPE) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_set_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_set_;
  sigset_t old_set_;
  bool was_pending_ = false;
};

// A failure's reason, with the broker's own words after it when it gave some (MQTT 5's Reason
// String).
std::string explained(std::string why, const std::string& reason_string) {
  if (!reason_string.empty()) why += " (" + reason_string + ")";
  return why;
}

}  // namespace

Publisher::Publisher(PublisherSettings settings, Logger& log)
    : settings_(std::move(settings)), log_(log) {
  if (settings_.servers.empty()) throw std::invalid_argument("no MQTT broker to connect to");
  tls_ = tls_context_for(settings_.servers, settings_.tls);
  settings_.max_inflight = std::clamp<size_t>(settings_.max_inflight, 1, 65535);
}

Publisher::~Publisher() { close_connection(); }

std::string Publisher::connect() {
  if (transport_) {
    // The broker may have closed an idle connection since the last publish: notice it now,
    // before anything is sent on it.
    if (std::string error = receive(std::chrono::milliseconds(0)); error.empty()) {
      auto keep_alive = std::chrono::duration_cast<Clock::duration>(settings_.keep_alive);
      if (keep_alive.count() > 0 && Clock::now() - last_sent_ >= keep_alive) {
        encode(Bare{PacketType::kPingreq}, out_);
        if (std::string why = flush_output(); !why.empty()) close_connection();
      }
    }
    if (transport_) return "";
    log_.debug("the broker " + server().text() + " closed the connection; reconnecting");
  }
  std::string errors;
  for (size_t i = 0; i < settings_.servers.size(); ++i) {
    const BrokerAddress& address = settings_.servers[i];
    server_index_ = i;
    std::string error = open(address);
    if (error.empty()) return "";
    close_connection();
    errors += fmt::format("{}{}: {}", errors.empty() ? "" : "; ", address.text(), error);
  }
  return errors;
}

std::string Publisher::open(const BrokerAddress& server) {
  std::string error;
  transport_ = open_transport(server, tls_.get(), !settings_.tls.insecure_skip_verify,
                              settings_.timeout, settings_.timeout, error);
  if (!transport_) return error;
  in_.clear();
  out_.clear();

  Connect connect = connect_packet(settings_);
  connect.protocol_level = settings_.protocol_level;
  // An MQTT 5 session ends with its connection unless it is given a lifetime.
  if (settings_.protocol_level == kMqtt5 && !settings_.clean_session) {
    connect.session_expiry_seconds = 0xFFFFFFFF;  // never
  }
  if (error = encode(connect, out_); !error.empty()) return error;
  if (error = flush_output(); !error.empty()) return "sending CONNECT: " + error;

  auto deadline = Clock::now() + settings_.timeout;
  while (true) {
    Decoded d = decode(in_, kMaxRemainingLength, settings_.protocol_level);
    if (d.status == Decoded::Status::kMalformed) return "malformed answer: " + d.error;
    if (d.status == Decoded::Status::kPacket) {
      if (type_of(d.packet) != PacketType::kConnack) {
        return fmt::format("expected CONNACK, got {}", packet_name(type_of(d.packet)));
      }
      in_.erase(0, d.consumed);
      const Connack& connack = std::get<Connack>(d.packet);
      if (connack.return_code != 0) {
        std::string why = settings_.protocol_level == kMqtt5 ? reason_name(connack.return_code)
                                                             : connack_reason(connack.return_code);
        return "the broker refused the connection: " + explained(why, connack.reason_string);
      }
      take_limits(connack);
      if (!settings_.clean_session && connack.session_present) {
        queue_resends();
        if (error = flush_output(); !error.empty()) return "resending: " + error;
      } else {
        // No session on the broker: nothing it owes or is owed. The writer publishes those
        // messages again itself.
        inflight_.clear();
      }
      return "";
    }
    auto left = until(deadline);
    if (left.count() == 0) {
      return fmt::format("no CONNACK within {}ms", settings_.timeout.count());
    }
    if (!transport_->pending()) {
      pollfd p{transport_->fd(), POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    }
    size_t at = in_.size();
    in_.resize(at + kReadChunk);
    size_t got = 0;
    Transport::Read result = transport_->read(in_.data() + at, kReadChunk, got, error);
    in_.resize(at + got);
    if (result == Transport::Read::kClosed) return "the broker closed the connection before CONNACK";
    if (result == Transport::Read::kFailed) return error;
  }
}

void Publisher::take_limits(const Connack& connack) {
  window_ = settings_.max_inflight;
  if (connack.receive_maximum) window_ = std::min<size_t>(window_, *connack.receive_maximum);
  maximum_qos_ = connack.maximum_qos.value_or(2);
  // Maximum Packet Size counts the whole packet, fixed header included.
  maximum_packet_size_ = connack.maximum_packet_size
                             ? std::min<size_t>(kMaxRemainingLength, *connack.maximum_packet_size)
                             : kMaxRemainingLength;
}

void Publisher::queue_resends() {
  std::vector<std::pair<uint64_t, uint16_t>> order;
  order.reserve(inflight_.size());
  for (const auto& [id, message] : inflight_) order.emplace_back(message.order, id);
  std::sort(order.begin(), order.end());
  for (const auto& [_, id] : order) {
    Inflight& message = inflight_[id];
    if (message.awaiting == PacketType::kPubcomp) {
      encode(PacketAck{PacketType::kPubrel, id}, out_);
    } else {
      message.packet[0] = static_cast<char>(message.packet[0] | 0x08);  // DUP
      out_ += message.packet;
    }
  }
  if (!order.empty()) {
    log_.info(fmt::format("resending {} unacknowledged messages of the persistent session",
                          order.size()));
  }
}

void Publisher::close_connection() {
  transport_.reset();
  in_.clear();
  out_.clear();
  // Only a persistent session sends them again; a clean one forgets them with the connection.
  if (settings_.clean_session) inflight_.clear();
}

void Publisher::disconnect() {
  if (!transport_) return;
  out_.clear();
  encode(Bare{PacketType::kDisconnect}, out_, settings_.protocol_level);
  flush_output();
  close_connection();
}

std::string Publisher::flush_output() {
  if (out_.empty()) return "";
  std::string error;
  bool written = false;
  if (server().tls) {
    SigpipeGuard guard;
    written = transport_->write(out_, error);
  } else {
    written = transport_->write(out_, error);
  }
  out_.clear();
  if (!written) return error;
  last_sent_ = Clock::now();
  return "";
}

uint16_t Publisher::next_packet_id() {
  // The window is below 65535, so a free id is always near.
  do {
    last_packet_id_ = static_cast<uint16_t>(last_packet_id_ % 65535 + 1);
  } while (inflight_.contains(last_packet_id_));
  return last_packet_id_;
}

std::string Publisher::publish(std::span<const OutgoingMessage> messages, uint8_t qos,
                               bool retain) {
  refused_for_good_ = false;
  if (!transport_) return "not connected";
  if (qos > 2) return fmt::format("QoS {} is not 0, 1 or 2", qos);
  if (qos > maximum_qos_) {
    refused_for_good_ = true;
    return fmt::format("the broker takes messages of QoS {} at most (its Maximum QoS), not {}",
                       maximum_qos_, qos);
  }
  auto fail = [this](std::string why) {
    close_connection();
    return why;
  };
  size_t next = 0;
  auto last_progress = Clock::now();
  Publish publish;
  publish.qos = qos;
  publish.retain = retain;
  while (true) {
    // Fill the window, then write what was gathered (with any PUBREL due) at once.
    while (next < messages.size() && (qos == 0 || inflight_.size() < window_) &&
           out_.size() < kWriteChunk) {
      publish.topic = messages[next].topic;
      publish.payload = messages[next].payload;
      publish.packet_id = qos > 0 ? next_packet_id() : 0;
      size_t at = out_.size();
      if (std::string error = encode(publish, out_, settings_.protocol_level); !error.empty()) {
        return fail(fmt::format("message on \"{}\": {}", publish.topic, error));
      }
      if (out_.size() - at > maximum_packet_size_) {
        refused_for_good_ = true;
        return fail(fmt::format("message on \"{}\": a packet of {} bytes, more than the broker's "
                                "Maximum Packet Size of {}",
                                publish.topic, out_.size() - at, maximum_packet_size_));
      }
      if (qos > 0) {
        inflight_[publish.packet_id] =
            Inflight{++sent_count_, qos == 1 ? PacketType::kPuback : PacketType::kPubrec,
                     out_.substr(at)};
      }
      ++next;
    }
    bool answering = !out_.empty();
    if (std::string error = flush_output(); !error.empty()) return fail(error);
    if (next == messages.size() && inflight_.empty()) return "";
    if (inflight_.empty()) continue;  // more QoS 0 messages to write
    // As the last acknowledgements of a batch come in there is nothing to send, and the TCP
    // ACK the kernel delays would hold the broker's next one back: a broker without
    // TCP_NODELAY (Mosquitto's default) waits for it before sending another small packet.
    // That cost up to 40 ms a batch, a quarter of the time at QoS 2 with batches of 5000.
    if (!answering) transport_->acknowledge_now();

    auto left = until(last_progress + settings_.timeout);
    if (left.count() == 0) {
      return fail(fmt::format("{} messages unacknowledged after {}ms", inflight_.size(),
                              settings_.timeout.count()));
    }
    uint64_t answered_before = answered_;
    if (std::string error = receive(left); !error.empty()) return fail(error);
    if (answered_ != answered_before) last_progress = Clock::now();
  }
}

std::string Publisher::receive(std::chrono::milliseconds wait) {
  if (!transport_->pending()) {
    pollfd p{transport_->fd(), POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(wait.count()));
    if (ready < 0 && errno != EINTR) return fmt::format("poll failed: {}", std::strerror(errno));
    if (ready <= 0) return "";
  }
  std::string error;
  size_t at = in_.size();
  in_.resize(at + kReadChunk);
  size_t got = 0;
  Transport::Read result = transport_->read(in_.data() + at, kReadChunk, got, error);
  in_.resize(at + got);
  if (result == Transport::Read::kClosed) {
    close_connection();
    return "the broker closed the connection";
  }
  if (result == Transport::Read::kFailed) {
    close_connection();
    return "read failed: " + error;
  }
  size_t decoded_to = 0;
  while (true) {
    Decoded d = decode(std::string_view(in_).substr(decoded_to), kMaxRemainingLength,
                       settings_.protocol_level);
    if (d.status == Decoded::Status::kNeedMore) break;
    if (d.status == Decoded::Status::kMalformed) {
      close_connection();
      return "malformed packet from the broker: " + d.error;
    }
    decoded_to += d.consumed;
    if (std::string why = handle(d.packet); !why.empty()) {
      close_connection();
      return why;
    }
  }
  in_.erase(0, decoded_to);
  return "";
}

std::string Publisher::refusal(const PacketAck& ack) {
  auto it = inflight_.find(ack.packet_id);
  std::string topic = "?";
  if (it != inflight_.end()) {
    Decoded sent = decode(it->second.packet, kMaxRemainingLength, settings_.protocol_level);
    if (const auto* publish = std::get_if<Publish>(&sent.packet)) topic = publish->topic;
    inflight_.erase(it);
  }
  switch (ack.reason_code) {
    case 0x87:  // not authorized
    case 0x90:  // topic name invalid
    case 0x95:  // packet too large
    case 0x99:  // payload format invalid
    case 0x9A:  // retain not supported
    case 0x9B:  // QoS not supported
      refused_for_good_ = true;
      break;
    default:
      break;
  }
  return explained(fmt::format("the broker refused the message on \"{}\" ({}): {}", topic,
                               packet_name(ack.type), reason_name(ack.reason_code)),
                   ack.reason_string);
}

std::string Publisher::handle(const Packet& packet) {
  if (const auto* ack = std::get_if<PacketAck>(&packet)) {
    if (ack->reason_code >= 0x80 &&
        (ack->type == PacketType::kPuback || ack->type == PacketType::kPubrec)) {
      return refusal(*ack);
    }
    auto it = inflight_.find(ack->packet_id);
    switch (ack->type) {
      case PacketType::kPuback:
        if (it != inflight_.end() && it->second.awaiting == PacketType::kPuback) {
          inflight_.erase(it);
          ++answered_;
        }
        return "";
      case PacketType::kPubrec:
        // Also for an id no longer known (a repeated PUBREC): the broker waits for PUBREL.
        if (it != inflight_.end() && it->second.awaiting != PacketType::kPuback) {
          if (it->second.awaiting == PacketType::kPubrec) ++answered_;
          it->second.awaiting = PacketType::kPubcomp;
          it->second.packet = std::string();  // the message itself is never sent again
        }
        return encode(PacketAck{PacketType::kPubrel, ack->packet_id}, out_);
      case PacketType::kPubcomp:
        if (it != inflight_.end() && it->second.awaiting == PacketType::kPubcomp) {
          inflight_.erase(it);
          ++answered_;
        }
        return "";
      default:
        return fmt::format("unexpected {} from the broker: this client receives nothing",
                           packet_name(ack->type));
    }
  }
  if (const auto* bare = std::get_if<Bare>(&packet); bare && bare->type == PacketType::kPingresp) {
    return "";
  }
  if (const auto* bare = std::get_if<Bare>(&packet); bare && bare->type == PacketType::kDisconnect) {
    return explained("the broker disconnected: " + reason_name(bare->reason_code),
                     bare->reason_string);
  }
  return fmt::format("unexpected {} from the broker", packet_name(type_of(packet)));
}

}  // namespace sluice::core::mqtt
