// Helpers for the listener inputs' tests: creating a listener with all its options (its own,
// data_format and the parsers'), an accumulator that records from the listener's threads, and
// small clients (a TCP or unix stream, datagrams) on loopback.
#pragma once

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "config/option_tables.hpp"
#include "plugins/plugin_test_support.hpp"
#include "support/test_plugins.hpp"

namespace sluice::testing {

// Every option the agent would give the input (its own, data_format, the parsers') at its
// default, then the overrides.
inline Options listener_options(std::string_view name, const OptionOverrides& overrides) {
  const plugin::PluginInfo& info = input_info(name);
  std::vector<OptionSpec> specs = config::all_options(info, builtin_registry());
  Options options;
  for (const OptionSpec& spec : specs) {
    if (spec.default_yaml.empty()) {
      Options::Value zero;
      switch (spec.type) {
        case OptionType::kBool:
          zero = false;
          break;
        case OptionType::kInt:
          zero = int64_t{0};
          break;
        case OptionType::kFloat:
          zero = 0.0;
          break;
        case OptionType::kString:
          zero = std::string();
          break;
        case OptionType::kDuration:
          zero = std::chrono::nanoseconds(0);
          break;
        case OptionType::kSize:
          zero = uint64_t{0};
          break;
        case OptionType::kStringList:
          zero = std::vector<std::string>();
          break;
        case OptionType::kStringMap:
          zero = StringMap();
          break;
        case OptionType::kStringMapList:
          zero = std::vector<StringMap>();
          break;
        case OptionType::kStringListMap:
          zero = StringListMap();
          break;
      }
      options.set(std::string(spec.name), zero, false);
    } else {
      options.set(std::string(spec.name), detail::parse_default(spec), false);
    }
  }
  for (const auto& [key, value] : overrides) {
    if (!options.has(key)) throw std::logic_error("test sets an undeclared option: " + key);
    options.set(key, value, true);
  }
  return options;
}

inline std::unique_ptr<ServiceInput> make_listener(std::string_view name,
                                                   const OptionOverrides& overrides) {
  static NullLogger log;
  Options options = listener_options(name, overrides);
  std::unique_ptr<Input> input = input_info(name).create_input(PluginContext{options, log});
  auto* service = dynamic_cast<ServiceInput*>(input.release());
  REQUIRE(service != nullptr);
  return std::unique_ptr<ServiceInput>(service);
}

// Records what listeners add, from any thread; add_batch may be held shut to stand for a full
// pipeline.
class ListenerRecorder final : public Accumulator {
 public:
  void add(Metric metric) override {
    Batch b;
    b.push_back(std::move(metric));
    add_batch(std::move(b));
  }
  void add_batch(Batch batch) override {
    std::unique_lock lock(mutex_);
    open_.wait(lock, [&] { return !held_; });
    batch_sizes.push_back(batch.size());
    for (Metric& m : batch) {
      if (m.time() == 0) m.set_time(kGatherTime);
      metrics.push_back(std::move(m));
    }
    changed_.notify_all();
  }
  void add_error(std::string_view message) override {
    std::lock_guard lock(mutex_);
    errors.emplace_back(message);
  }
  void add_rejected(std::string_view message) override {
    std::lock_guard lock(mutex_);
    rejected.emplace_back(message);
  }
  int64_t time() const override { return kGatherTime; }

  void hold(bool held) {
    {
      std::lock_guard lock(mutex_);
      held_ = held;
    }
    open_.notify_all();
  }
  size_t count() {
    std::lock_guard lock(mutex_);
    return metrics.size();
  }
  bool wait_for(size_t n, double seconds = 10.0) {
    return eventually([&] { return count() >= n; }, seconds);
  }
  std::string lines() {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const Metric& m : metrics) lineproto::serialize(m, out);
    return out;
  }
  std::vector<std::string> rejected_copy() {
    std::lock_guard lock(mutex_);
    return rejected;
  }
  std::vector<std::string> errors_copy() {
    std::lock_guard lock(mutex_);
    return errors;
  }
  std::vector<size_t> batch_sizes_copy() {
    std::lock_guard lock(mutex_);
    return batch_sizes;
  }

  std::vector<Metric> metrics;
  std::vector<size_t> batch_sizes;
  std::vector<std::string> errors;
  std::vector<std::string> rejected;

 private:
  std::mutex mutex_;
  std::condition_variable open_, changed_;
  bool held_ = false;
};

// A connected client socket: TCP to 127.0.0.1:port, or a unix stream socket.
inline int connect_tcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  for (int i = 0; i < 200; ++i) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  close(fd);
  return -1;
}

inline int connect_unix(const std::string& path, int type = SOCK_STREAM) {
  int fd = socket(AF_UNIX, type, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  for (int i = 0; i < 200; ++i) {
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  close(fd);
  return -1;
}

inline bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

inline bool send_udp(int port, std::string_view datagram) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ssize_t n = sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&addr),
                     sizeof addr);
  close(fd);
  return n == static_cast<ssize_t>(datagram.size());
}

// True when the peer closed `fd` (a read returns 0 or fails) within `seconds`.
inline bool closed_by_peer(int fd, double seconds) {
  timeval tv{static_cast<time_t>(seconds),
             static_cast<suseconds_t>((seconds - static_cast<int>(seconds)) * 1e6)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char c;
  ssize_t n = recv(fd, &c, 1, 0);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace sluice::testing
