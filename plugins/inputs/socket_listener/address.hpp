// service_address of socket_listener: "tcp://host:port", "udp4://:8094", "unix:///path", ...,
// and opening the listening socket it names.
#pragma once

#include <string>
#include <string_view>

namespace sluice::inputs::socket_listener {

struct ServiceAddress {
  std::string network;  // tcp, tcp4, tcp6, udp, udp4, udp6, unix, unixgram
  std::string host;     // "" for every interface (ip networks)
  std::string port;     // a number or a service name (ip networks)
  std::string path;     // unix and unixgram
  bool is_stream() const { return network.rfind("tcp", 0) == 0 || network == "unix"; }
  bool is_unix() const { return network == "unix" || network == "unixgram"; }
  std::string text() const;
};

// Throws OptionError("service_address") when `text` names no supported socket.
ServiceAddress parse_service_address(std::string_view text);

// Binds (and for streams listens on) the address; returns the socket, or -1 with `error` set.
// A unix socket path left by an earlier run is removed first; `socket_mode` (octal, may be
// empty) is applied to it.
int open_listening_socket(const ServiceAddress& address, const std::string& socket_mode,
                          std::string& error);

// The bound port of an ip socket (0 for unix sockets), for messages and tests.
int bound_port(int fd);

// "addr:port" of a connected or sending peer.
std::string peer_text(const void* sockaddr_storage_ptr, unsigned length);

}  // namespace sluice::inputs::socket_listener
