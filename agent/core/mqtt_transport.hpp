// The byte stream under an MQTT client: a TCP connection to a broker, plain or in TLS
// (OpenSSL). Broker addresses are read here too, in the schemes Telegraf accepts.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tls_server.hpp"

namespace sluice::core::mqtt {

struct BrokerAddress {
  std::string host;
  int port = 1883;
  bool tls = false;
  std::string text() const;  // scheme://host:port
};

// "tcp://host:port", "mqtt://", "ssl://", "tls://", "mqtts://", or "host:port" (tcp). A missing
// port is 1883, or 8883 with TLS. Returns "" or why `server` is not a broker address.
std::string parse_broker_address(std::string_view server, BrokerAddress& out);

// The client side of TLS, in the options' terms (tls_ca, tls_cert, tls_key,
// insecure_skip_verify).
struct TlsClientFiles {
  std::string ca;    // PEM CAs to trust; empty: the system's
  std::string cert;  // PEM client certificate, for brokers that want one
  std::string key;   // its private key
  bool insecure_skip_verify = false;
};

// A client context with the files loaded (TLS 1.2 at least); null with `error` set when they
// do not load.
SslCtxPtr make_tls_client_context(const TlsClientFiles& files, std::string& error);

// The TLS context for a list of brokers: null when none of them uses TLS. Throws
// std::invalid_argument when the files do not load.
SslCtxPtr tls_context_for(const std::vector<BrokerAddress>& servers, const TlsClientFiles& files);

class Transport {
 public:
  enum class Read { kData, kNothing, kClosed, kFailed };

  virtual ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Reads up to `size` bytes into `buffer`, waiting at most the socket's read timeout.
  // kNothing when no whole TLS record or byte came in time.
  virtual Read read(char* buffer, size_t size, size_t& got, std::string& error) = 0;
  // Writes all of `data`; false with `error` on failure (a peer that stops reading makes it
  // fail after the write timeout).
  virtual bool write(std::string_view data, std::string& error) = 0;
  // True when bytes are already decrypted and waiting (poll() on the socket cannot tell).
  virtual bool pending() const { return false; }

  // Sends the TCP acknowledgement of what was read now rather than after the kernel's delay
  // (up to 40 ms), for when there is nothing to send that would carry it.
  void acknowledge_now();

  int fd() const { return fd_; }

 protected:
  explicit Transport(int fd) : fd_(fd) {}
  int fd_;
};

// Connects to `address` within `timeout` (TCP, then the TLS handshake with `tls` when the
// address wants it), with reads and writes bounded by `io_timeout`. Null with `error` set.
std::unique_ptr<Transport> open_transport(const BrokerAddress& address, SSL_CTX* tls,
                                          bool verify_peer, std::chrono::milliseconds timeout,
                                          std::chrono::milliseconds io_timeout,
                                          std::string& error);

}  // namespace sluice::core::mqtt
