#include "address.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sluice/options.hpp"

namespace sluice::inputs::socket_listener {

std::string ServiceAddress::text() const {
  if (is_unix()) return network + "://" + path;
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return network + "://" + h + ":" + port;
}

ServiceAddress parse_service_address(std::string_view text) {
  ServiceAddress out;
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    throw OptionError("service_address", "\"" + std::string(text) +
                                             "\" has no scheme; e.g. tcp://:8094, "
                                             "udp://127.0.0.1:8094 or unix:///run/sluice.sock");
  }
  out.network = std::string(text.substr(0, scheme_end));
  std::string_view rest = text.substr(scheme_end + 3);
  static const char* kKnown[] = {"tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "unix", "unixgram"};
  bool known = false;
  for (const char* k : kKnown) known = known || out.network == k;
  if (!known) {
    throw OptionError("service_address", "unknown network \"" + out.network +
                                             "\": use tcp, tcp4, tcp6, udp, udp4, udp6, unix "
                                             "or unixgram");
  }
  if (out.is_unix()) {
    if (rest.empty()) throw OptionError("service_address", "give the socket's path");
    out.path = std::string(rest);
    if (out.path.size() >= sizeof(sockaddr_un::sun_path)) {
      throw OptionError("service_address", "the socket path is too long");
    }
    return out;
  }
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) {
    throw OptionError("service_address", "\"" + std::string(text) + "\" has no port");
  }
  std::string_view host = rest.substr(0, colon);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 2 || host.back() != ']') {
      throw OptionError("service_address", "an IPv6 address is written [addr]:port");
    }
    host = host.substr(1, host.size() - 2);
  }
  out.host = std::string(host);
  out.port = std::string(rest.substr(colon + 1));
  if (out.port.empty()) throw OptionError("service_address", "the port is empty");
  return out;
}

namespace {

int open_unix(const ServiceAddress& address, const std::string& socket_mode, std::string& error) {
  int type = address.network == "unix" ? SOCK_STREAM : SOCK_DGRAM;
  int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, address.path.c_str(), address.path.size() + 1);
  // A socket file left by an earlier run would make bind fail.
  struct stat st {};
  if (lstat(address.path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) unlink(address.path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      (type == SOCK_STREAM && listen(fd, SOMAXCONN) != 0)) {
    error = std::strerror(errno);
    close(fd);
    return -1;
  }
  if (!socket_mode.empty()) {
    mode_t mode = static_cast<mode_t>(std::stoul(socket_mode, nullptr, 8));
    if (chmod(address.path.c_str(), mode) != 0) {
      error = "cannot set the mode of " + address.path + ": " + std::strerror(errno);
      close(fd);
      unlink(address.path.c_str());
      return -1;
    }
  }
  return fd;
}

int open_ip(const ServiceAddress& address, std::string& error) {
  bool stream = address.is_stream();
  addrinfo hints{};
  hints.ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE;
  char last = address.network.back();
  hints.ai_family = last == '4' ? AF_INET : last == '6' ? AF_INET6 : AF_UNSPEC;
  // Every interface of an unspecified family: one dual-stack IPv6 socket, as Go does.
  std::string host = address.host;
  if (host.empty() && hints.ai_family == AF_UNSPEC) hints.ai_family = AF_INET6;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), address.port.c_str(), &hints, &found);
  if (rc != 0 && address.host.empty() && hints.ai_family == AF_INET6) {
    hints.ai_family = AF_INET;  // a host without IPv6
    rc = getaddrinfo(nullptr, address.port.c_str(), &hints, &found);
  }
  if (rc != 0) {
    error = gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  error = "no address to bind";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = std::strerror(errno);
      continue;
    }
    int yes = 1;
    int no = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (a->ai_family == AF_INET6 && last != '6') {
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
    }
    if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && (!stream || listen(fd, SOMAXCONN) == 0)) {
      break;
    }
    error = std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(found);
  return fd;
}

}  // namespace

int open_listening_socket(const ServiceAddress& address, const std::string& socket_mode,
                          std::string& error) {
  return address.is_unix() ? open_unix(address, socket_mode, error) : open_ip(address, error);
}

int bound_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return 0;
}

std::string peer_text(const void* storage, unsigned length) {
  const auto* addr = static_cast<const sockaddr*>(storage);
  char host[INET6_ADDRSTRLEN] = "";
  if (length == 0) return "";
  if (addr->sa_family == AF_INET) {
    const auto* in = static_cast<const sockaddr_in*>(storage);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = static_cast<const sockaddr_in6*>(storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  if (addr->sa_family == AF_UNIX) {
    const auto* un = static_cast<const sockaddr_un*>(storage);
    if (length > sizeof(sa_family_t) && un->sun_path[0] != '\0') return un->sun_path;
    return "unix peer";
  }
  return "";
}

}  // namespace sluice::inputs::socket_listener
