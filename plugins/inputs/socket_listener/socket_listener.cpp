// socket_listener: reads metrics in any data format from TCP, UDP, unix stream and unixgram
// sockets, as Telegraf's plugin of the same name. Streams are cut into lines; a datagram is one
// message. TLS (optionally mutual) on streams, gzip content encoding, and back-pressure: a
// connection whose metrics the pipeline cannot take yet is not read, so TCP slows its sender.
#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/bind_retry.hpp"
#include "datagram_listener.hpp"
#include "plugin/format_factory.hpp"
#include "plugin/registry.hpp"
#include "settings.hpp"
#include "stream_listener.hpp"

namespace sluice::inputs::socket_listener {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"service_address", OptionType::kString, "",
     "Where to listen: tcp://host:port, tcp4://, tcp6://, udp://, udp4://, udp6://, "
     "unix:///path or unixgram:///path",
     true},
    {"socket_mode", OptionType::kString, "",
     "File mode of a unix socket, in octal (e.g. \"660\"); empty keeps the umask's"},
    {"max_connections", OptionType::kInt, "0",
     "Most stream connections open at once; more are refused and counted. 0: unlimited"},
    {"read_timeout", OptionType::kDuration, "0s",
     "Close a stream connection that sends nothing for this long. 0s: never"},
    {"read_buffer_size", OptionType::kSize, "0",
     "Socket receive buffer (SO_RCVBUF); 0 keeps the system's. Also the longest line accepted "
     "on streams, at least 64KiB"},
    {"keep_alive_period", OptionType::kDuration, "0s",
     "Send TCP keep-alive probes on idle connections this often; 0s: none"},
    {"content_encoding", OptionType::kString, "identity",
     "identity, or gzip: streams are gzip members, each datagram one member"},
    {"max_decompression_size", OptionType::kSize, "500MB",
     "Largest decoded gzip datagram; larger ones are rejected"},
    {"tls_cert", OptionType::kString, "", "Server certificate (PEM) for TLS on streams"},
    {"tls_key", OptionType::kString, "", "Server private key (PEM)"},
    {"tls_allowed_cacerts", OptionType::kStringList, "",
     "CA files; when set, clients must present a certificate signed by one (mutual TLS)"},
};

Settings read_settings(const Options& o) {
  Settings s;
  s.address = parse_service_address(o.get_string("service_address"));
  s.socket_mode = o.get_string("socket_mode");
  if (!s.socket_mode.empty()) {
    if (!s.address.is_unix()) throw OptionError("socket_mode", "only unix sockets have a mode");
    if (s.socket_mode.size() > 4 ||
        s.socket_mode.find_first_not_of("01234567") != std::string::npos) {
      throw OptionError("socket_mode", "\"" + s.socket_mode + "\" is not an octal mode");
    }
  }
  s.max_connections = o.get_int("max_connections");
  if (s.max_connections < 0) throw OptionError("max_connections", "must not be negative");
  s.read_timeout = o.get_duration("read_timeout");
  if (s.read_timeout.count() < 0) throw OptionError("read_timeout", "must not be negative");
  s.read_buffer_size = o.get_size("read_buffer_size");
  s.max_line = std::max<size_t>(64 * 1024, s.read_buffer_size);
  if (s.read_buffer_size > (1u << 30)) throw OptionError("read_buffer_size", "at most 1GiB");
  s.keep_alive_period = o.get_duration("keep_alive_period");
  if (s.keep_alive_period.count() < 0) {
    throw OptionError("keep_alive_period", "must not be negative");
  }
  const std::string& encoding = o.get_string("content_encoding");
  if (encoding == "gzip") {
    s.gzip = true;
  } else if (encoding != "identity" && !encoding.empty()) {
    throw OptionError("content_encoding", "expected identity or gzip, got \"" + encoding + "\"");
  }
  s.max_decompression_size = o.get_size("max_decompression_size");
  s.tls.cert = o.get_string("tls_cert");
  s.tls.key = o.get_string("tls_key");
  s.tls.client_cas = o.get_strings("tls_allowed_cacerts");
  if (s.tls.cert.empty() != s.tls.key.empty()) {
    throw OptionError(s.tls.cert.empty() ? "tls_cert" : "tls_key",
                      "TLS needs both tls_cert and tls_key");
  }
  if (!s.tls.client_cas.empty() && !s.tls.enabled()) {
    throw OptionError("tls_allowed_cacerts", "mutual TLS needs tls_cert and tls_key as well");
  }
  if (s.tls.enabled() && !s.address.is_stream()) {
    throw OptionError("tls_cert", "TLS is for stream sockets (tcp, unix), not datagrams");
  }
  s.format = o.get_string("data_format");
  return s;
}

class SocketListener final : public ServiceInput {
 public:
  SocketListener(const PluginContext& ctx)
      : options_(ctx.options), log_(ctx.log), settings_(read_settings(options_)) {
    // The format is checked now, so that a wrong data_format is a configuration error.
    plugin::make_parser(PluginContext{options_, log_});
    ParserFactory parsers = [this] { return plugin::make_parser(PluginContext{options_, log_}); };
    if (settings_.address.is_stream()) {
      stream_ = std::make_unique<StreamListener>(settings_, parsers, log_);
    } else {
      datagram_ = std::make_unique<DatagramListener>(settings_, parsers);
    }
  }

  ~SocketListener() override { stop(); }

  void start(Accumulator& acc) override {
    acc_ = &acc;
    binder_.start([this] { return open(); },
                  [this](const std::string& why) { acc_->add_error(why); });
  }

  void stop() override {
    binder_.stop();
    if (stream_) stream_->stop();
    if (datagram_) datagram_->stop();
    if (bound_ && settings_.address.is_unix()) unlink(settings_.address.path.c_str());
    bound_ = false;
  }

 private:
  std::string open() {
    std::string error;
    int fd = open_listening_socket(settings_.address, settings_.socket_mode, error);
    if (fd < 0) return fmt::format("cannot listen on {}: {}", settings_.address.text(), error);
    if (settings_.read_buffer_size > 0) {
      int size = static_cast<int>(settings_.read_buffer_size);
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    }
    bound_ = true;
    if (stream_) stream_->start(fd, *acc_);
    if (datagram_) datagram_->start(fd, *acc_);
    log_.info(
        fmt::format("listening on {}{}", settings_.address.text(),
                    settings_.address.is_unix() ? "" : fmt::format(" (port {})", bound_port(fd))));
    return "";
  }

  Options options_;
  Logger& log_;
  Settings settings_;
  Accumulator* acc_ = nullptr;
  std::unique_ptr<StreamListener> stream_;
  std::unique_ptr<DatagramListener> datagram_;
  std::atomic<bool> bound_{false};
  core::BindRetry binder_;  // last: stopped first
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "socket_listener";
  info.description = "Read metrics in any data format from TCP, UDP and unix sockets";
  info.options = kOptions;
  info.uses_parser = true;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<SocketListener>(ctx);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::socket_listener
