#include "core/mqtt_client.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sluice::core::mqtt {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

std::chrono::milliseconds until(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

}  // namespace

Client::Client(ClientSettings settings, MessageHandler on_message, Logger& log)
    : settings_(std::move(settings)), on_message_(std::move(on_message)), log_(log) {
  if (settings_.servers.empty()) throw std::invalid_argument("no MQTT broker to connect to");
  tls_ = tls_context_for(settings_.servers, settings_.tls);
  if (settings_.max_unacknowledged == 0) settings_.max_unacknowledged = 1;
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw std::runtime_error("eventfd failed");
}

Client::~Client() {
  stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Client::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Client::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  sleep_cv_.notify_all();
  wake();
  if (thread_.joinable()) thread_.join();
}

void Client::wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void Client::acknowledge(const Receipt& receipt) {
  unacknowledged_.fetch_sub(1);
  if (receipt.qos > 0) {
    std::lock_guard lock(mutex_);
    acks_.push_back(receipt);
  }
  wake();  // also lifts a pause
}

void Client::abandon(const Receipt& receipt) {
  unacknowledged_.fetch_sub(1);
  if (receipt.qos > 0 && receipt.connection == connection_.load()) {
    std::lock_guard lock(mutex_);
    redeliver_ = true;
  }
  wake();
}

void Client::sleep_for(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  sleep_cv_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

bool Client::send(const Packet& packet, std::string& error) {
  std::string bytes;
  error = encode(packet, bytes);
  if (!error.empty()) return false;
  if (!transport_->write(bytes, error)) return false;
  last_sent_ = Clock::now();
  return true;
}

void Client::run() {
  // A TLS write to a connection the broker closed raises SIGPIPE on this thread; keep it
  // pending here instead of ending the process.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);

  size_t index = 0;
  auto backoff = settings_.reconnect_initial;
  bool in_outage = false;
  Clock::time_point outage_since;
  while (!stopping_) {
    const BrokerAddress& server = settings_.servers[index];
    std::string error = open_session(server);
    if (stopping_) break;
    if (error.empty()) {
      if (in_outage) {
        auto seconds = std::chrono::duration<double>(Clock::now() - outage_since).count();
        log_.info(fmt::format("reconnected to {} after {:.1f}s", server.text(), seconds));
      } else {
        log_.info(fmt::format("connected to {} as client \"{}\"", server.text(),
                              settings_.client_id));
      }
      in_outage = false;
      backoff = settings_.reconnect_initial;
      std::string why = serve();
      connected_ = false;
      transport_.reset();
      if (stopping_) break;
      if (redeliver_at_) continue;  // ended on purpose: reconnect at once
      // One line per outage: the failed attempts that follow are at debug level.
      log_.warn(fmt::format("disconnected from {}: {}; reconnecting", server.text(), why));
      in_outage = true;
      outage_since = Clock::now();
      continue;  // at once: the next attempt waits if it fails
    }
    transport_.reset();
    if (!in_outage) {
      log_.warn(fmt::format("cannot connect to {}: {}; retrying with back-off", server.text(),
                            error));
      in_outage = true;
      outage_since = Clock::now();
    } else {
      log_.debug(fmt::format("cannot connect to {}: {}", server.text(), error));
    }
    index = (index + 1) % settings_.servers.size();
    sleep_for(backoff);
    backoff = std::min(backoff * 2, settings_.reconnect_max);
  }
}

std::string Client::open_session(const BrokerAddress& server) {
  std::string error;
  transport_ = open_transport(server, tls_.get(), !settings_.tls.insecure_skip_verify,
                              settings_.connection_timeout, settings_.connection_timeout, error);
  if (!transport_) return error;
  in_.clear();
  awaiting_pubrel_.clear();
  redeliver_at_.reset();
  ping_sent_.reset();

  Connect connect = connect_packet(settings_);
  if (!send(connect, error)) return "sending CONNECT: " + error;

  auto deadline = Clock::now() + settings_.connection_timeout;
  std::optional<Connack> connack;
  while (!connack) {
    Decoded d = decode(in_, settings_.max_packet_size);
    if (d.status == Decoded::Status::kMalformed) return "malformed answer: " + d.error;
    if (d.status == Decoded::Status::kPacket) {
      if (type_of(d.packet) != PacketType::kConnack) {
        return fmt::format("expected CONNACK, got {}", packet_name(type_of(d.packet)));
      }
      connack = std::get<Connack>(d.packet);
      in_.erase(0, d.consumed);  // what follows (queued messages) stays for serve()
      break;
    }
    auto left = until(deadline);
    if (left.count() == 0) {
      return fmt::format("no CONNACK within {}ms", settings_.connection_timeout.count());
    }
    if (!transport_->pending()) {
      pollfd fds[2] = {{transport_->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      poll(fds, 2, static_cast<int>(left.count()));
      if (stopping_) return "stopped";
      if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    }
    char buffer[4096];
    size_t got = 0;
    switch (transport_->read(buffer, sizeof buffer, got, error)) {
      case Transport::Read::kData: in_.append(buffer, got); break;
      case Transport::Read::kNothing: break;
      case Transport::Read::kClosed: return "the broker closed the connection before CONNACK";
      case Transport::Read::kFailed: return error;
    }
  }
  if (connack->return_code != 0) {
    return "the broker refused the connection: " + connack_reason(connack->return_code);
  }
  if (!settings_.clean_session && !connack->session_present) {
    log_.debug(fmt::format("the broker had no session for client \"{}\": a new one starts",
                           settings_.client_id));
  }
  {
    std::lock_guard lock(mutex_);
    redeliver_ = false;  // this connection gets the abandoned messages again
  }
  connection_.fetch_add(1);
  connected_ = true;

  if (!settings_.subscriptions.empty()) {
    subscribe_id_ = static_cast<uint16_t>(subscribe_id_ % 65535 + 1);
    if (!send(Subscribe{subscribe_id_, settings_.subscriptions}, error)) {
      return "sending SUBSCRIBE: " + error;
    }
  }
  return "";
}

std::string Client::send_queued_acks() {
  std::vector<Receipt> acks;
  bool redeliver = false;
  {
    std::lock_guard lock(mutex_);
    acks.swap(acks_);
    redeliver = redeliver_;
    redeliver_ = false;
  }
  uint64_t current = connection_.load();
  std::string error;
  for (const Receipt& r : acks) {
    if (r.connection != current) continue;  // the broker sends that message again
    if (r.qos > 0) redeliver_wait_ = std::chrono::milliseconds(1000);
    if (r.qos == 1) {
      if (!send(PacketAck{PacketType::kPuback, r.packet_id}, error)) return "sending PUBACK: " + error;
    } else if (r.qos == 2) {
      if (!send(PacketAck{PacketType::kPubrec, r.packet_id}, error)) return "sending PUBREC: " + error;
      awaiting_pubrel_.insert(r.packet_id);
    }
  }
  if (redeliver && !redeliver_at_) {
    redeliver_at_ = Clock::now() + redeliver_wait_;
    log_.warn(fmt::format(
        "the outputs lost some messages' metrics: reconnecting in {}ms so that the broker sends "
        "them again",
        redeliver_wait_.count()));
    redeliver_wait_ = std::min(redeliver_wait_ * 2, std::max(settings_.reconnect_max,
                                                             std::chrono::milliseconds(1000)));
  }
  return "";
}

std::string Client::handle(Packet&& packet) {
  std::string error;
  if (auto* p = std::get_if<Publish>(&packet)) {
    if (p->qos == 2 && awaiting_pubrel_.contains(p->packet_id)) {
      // Delivered and acknowledged already; the broker did not get our PUBREC.
      if (!send(PacketAck{PacketType::kPubrec, p->packet_id}, error)) return error;
      return "";
    }
    unacknowledged_.fetch_add(1);
    Receipt receipt{connection_.load(), p->packet_id, p->qos};
    on_message_(ReceivedMessage{std::move(*p), receipt});
    return "";
  }
  if (auto* a = std::get_if<PacketAck>(&packet)) {
    if (a->type == PacketType::kPubrel) {
      awaiting_pubrel_.erase(a->packet_id);
      if (!send(PacketAck{PacketType::kPubcomp, a->packet_id}, error)) {
        return "sending PUBCOMP: " + error;
      }
      return "";
    }
    return fmt::format("unexpected {} from the broker: this client publishes nothing",
                       packet_name(a->type));
  }
  if (auto* s = std::get_if<Suback>(&packet)) {
    if (s->packet_id != subscribe_id_) return "SUBACK for a subscription never asked for";
    std::string granted;
    for (size_t i = 0; i < s->return_codes.size() && i < settings_.subscriptions.size(); ++i) {
      const TopicFilter& f = settings_.subscriptions[i];
      if (s->return_codes[i] == kSubscribeFailure) {
        log_.error(fmt::format("the broker refused the subscription to \"{}\"", f.filter));
      } else {
        granted += fmt::format("{}\"{}\" (QoS {})", granted.empty() ? "" : ", ", f.filter,
                               s->return_codes[i]);
      }
    }
    if (!granted.empty()) log_.info("subscribed to " + granted);
    return "";
  }
  if (auto* b = std::get_if<Bare>(&packet); b && b->type == PacketType::kPingresp) {
    ping_sent_.reset();
    return "";
  }
  return fmt::format("unexpected {} from the broker", packet_name(type_of(packet)));
}

std::string Client::serve() {
  std::string error;
  size_t decoded_to = 0;  // in_ before this offset is handled
  bool was_paused = false;
  auto keep_alive = std::chrono::duration_cast<std::chrono::milliseconds>(settings_.keep_alive);
  while (!stopping_) {
    if (std::string why = send_queued_acks(); !why.empty()) return why;
    bool pause = paused();
    // A PINGRESP that came while nothing was read is not late.
    if (was_paused && !pause && ping_sent_) ping_sent_ = Clock::now();
    was_paused = pause;

    while (!paused() && !stopping_) {
      Decoded d = decode(std::string_view(in_).substr(decoded_to), settings_.max_packet_size);
      if (d.status == Decoded::Status::kMalformed) return "malformed packet: " + d.error;
      if (d.status == Decoded::Status::kNeedMore) break;
      decoded_to += d.consumed;
      if (std::string why = handle(std::move(d.packet)); !why.empty()) return why;
    }
    in_.erase(0, decoded_to);
    decoded_to = 0;
    if (stopping_) break;
    pause = paused();

    auto now = Clock::now();
    auto wait = std::chrono::milliseconds(1000);
    if (redeliver_at_) {
      if (now >= *redeliver_at_) {
        send(Bare{PacketType::kDisconnect}, error);
        return "reconnecting for the messages the outputs lost";
      }
      wait = std::min(wait, std::max(until(*redeliver_at_), std::chrono::milliseconds(1)));
    }
    if (keep_alive.count() > 0) {
      // While paused the broker's answers are not read, but pings still tell it we are here.
      if ((!ping_sent_ || pause) && now - last_sent_ >= keep_alive) {
        if (!send(Bare{PacketType::kPingreq}, error)) return "sending PINGREQ: " + error;
        if (!ping_sent_) ping_sent_ = now;
      }
      if (ping_sent_ && !pause && now - *ping_sent_ > settings_.ping_timeout) {
        return fmt::format("no PINGRESP within {}ms", settings_.ping_timeout.count());
      }
      wait = std::min(wait, until(last_sent_ + keep_alive));
      if (ping_sent_ && !pause) wait = std::min(wait, until(*ping_sent_ + settings_.ping_timeout));
      wait = std::max(wait, std::chrono::milliseconds(1));
    }

    bool readable = !pause && transport_->pending();
    if (!readable) {
      pollfd fds[2] = {{transport_->fd(), static_cast<short>(pause ? 0 : POLLIN), 0},
                       {wake_fd_, POLLIN, 0}};
      int ready = poll(fds, 2, static_cast<int>(wait.count()));
      if (ready < 0 && errno != EINTR) return fmt::format("poll failed: {}", std::strerror(errno));
      if (fds[1].revents & POLLIN) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof count);
      }
      if (pause && (fds[0].revents & (POLLHUP | POLLERR))) return "the broker closed the connection";
      readable = !pause && (fds[0].revents & (POLLIN | POLLHUP | POLLERR));
    }
    if (!readable) continue;
    size_t at = in_.size();
    in_.resize(at + kReadChunk);
    size_t got = 0;
    Transport::Read result = transport_->read(in_.data() + at, kReadChunk, got, error);
    in_.resize(at + got);
    if (result == Transport::Read::kClosed) return "the broker closed the connection";
    if (result == Transport::Read::kFailed) return "read failed: " + error;
  }
  // Acknowledgements queued just before the stop still go out, or the broker would send those
  // messages again; then a clean goodbye (the broker keeps a persistent session's
  // unacknowledged messages).
  if (std::string why = send_queued_acks(); !why.empty()) return why;
  send(Bare{PacketType::kDisconnect}, error);
  return "";
}

}  // namespace sluice::core::mqtt
