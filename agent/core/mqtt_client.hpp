// An MQTT 3.1.1 client that subscribes and lets its user decide when a message is
// acknowledged: PUBACK (QoS 1) or PUBREC (QoS 2) goes out only when acknowledge() is called,
// so a consumer can hold it back until the message's metrics were written. (Paho acknowledges
// on arrival, which loses messages the agent had not yet written when it dies.)
//
// One thread per client does all the socket work: connecting (in turn to each server, with
// back-off), subscribing, reading, keep-alive pings, and sending the acknowledgements queued
// from any thread. While `max_unacknowledged` received messages wait for their
// acknowledgement the thread stops reading, so the broker's own in-flight limit holds the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/mqtt_packets.hpp"
#include "core/mqtt_transport.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core::mqtt {

struct ClientSettings {
  std::vector<BrokerAddress> servers;  // tried in turn
  TlsClientFiles tls;                  // for servers with TLS
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool clean_session = true;
  std::chrono::seconds keep_alive{60};  // 0: no pings
  std::chrono::milliseconds ping_timeout{10'000};
  std::chrono::milliseconds connection_timeout{30'000};
  std::vector<TopicFilter> subscriptions;
  size_t max_unacknowledged = 1000;
  size_t max_packet_size = kMaxRemainingLength;
  std::chrono::milliseconds reconnect_initial{100};
  std::chrono::milliseconds reconnect_max{30'000};
};

// What acknowledging one received message takes. `connection` tells the connections apart: an
// acknowledgement meant for an earlier one is not sent, since the broker sends the message
// again on the new one (and may have given its packet id to another message by then).
struct Receipt {
  uint64_t connection = 0;
  uint16_t packet_id = 0;
  uint8_t qos = 0;
};

struct ReceivedMessage {
  Publish publish;
  Receipt receipt;
};

class Client {
 public:
  // Called on the client's thread for each message; it may block (back-pressure), which stops
  // the reading. Every message must later be acknowledge()d or abandon()ed, also at QoS 0: that
  // is what max_unacknowledged counts.
  using MessageHandler = std::function<void(ReceivedMessage&&)>;

  // Throws std::invalid_argument when the TLS files do not load or no server is given.
  Client(ClientSettings settings, MessageHandler on_message, Logger& log);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void start();
  // Disconnects (DISCONNECT, so the broker keeps a persistent session's unacknowledged
  // messages for the next connection) and joins the thread.
  void stop();

  // The message's metrics were delivered: send PUBACK (QoS 1) or PUBREC (QoS 2). Thread-safe
  // and quick: the client's thread sends it.
  void acknowledge(const Receipt& receipt);
  // The message's metrics were lost: no acknowledgement. The client reconnects so that the
  // broker sends the message again (it does so only on a new connection, and only with a
  // persistent session).
  void abandon(const Receipt& receipt);

  bool connected() const { return connected_.load(); }
  // Received messages not yet acknowledged or abandoned.
  size_t unacknowledged() const { return unacknowledged_.load(); }
  // How many connections were established so far.
  uint64_t connections() const { return connection_.load(); }

 private:
  using Clock = std::chrono::steady_clock;

  void run();
  // Connects and subscribes; "" or why it failed.
  std::string open_session(const BrokerAddress& server);
  // Serves one connection; returns why it ended.
  std::string serve();
  bool send(const Packet& packet, std::string& error);
  // Handles one packet from the broker; "" or why the connection must end.
  std::string handle(Packet&& packet);
  std::string send_queued_acks();
  bool paused() const { return unacknowledged_.load() >= settings_.max_unacknowledged; }
  void wake();
  // Waits up to `delay`, less when stopped.
  void sleep_for(std::chrono::milliseconds delay);

  ClientSettings settings_;
  MessageHandler on_message_;
  Logger& log_;
  SslCtxPtr tls_;

  std::thread thread_;
  int wake_fd_ = -1;  // eventfd: acknowledgements queued, or stop
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> connection_{0};
  std::atomic<size_t> unacknowledged_{0};

  std::mutex mutex_;  // guards the queue and the flag below, and the sleep
  std::condition_variable sleep_cv_;
  std::vector<Receipt> acks_;
  bool redeliver_ = false;  // a message of this connection was abandoned

  // The thread's own state for the current connection.
  std::unique_ptr<Transport> transport_;
  std::string in_;  // bytes read, not yet decoded
  std::set<uint16_t> awaiting_pubrel_;
  uint16_t subscribe_id_ = 0;
  Clock::time_point last_sent_;
  // Reconnecting for lost messages waits this long, doubling while nothing is acknowledged in
  // between: an output that keeps losing them (down, with a small buffer) does not make the
  // client reconnect in a tight loop.
  // The connection keeps serving until then (acknowledging what the outputs write), so that
  // only the lost messages come again.
  std::chrono::milliseconds redeliver_wait_{1000};
  std::optional<Clock::time_point> redeliver_at_;
  std::optional<Clock::time_point> ping_sent_;
};

}  // namespace sluice::core::mqtt
