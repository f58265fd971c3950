// A Kafka cluster for tests: tests/tools/kafka_mock_cluster (librdkafka's mock cluster in its
// own process, listening on 127.0.0.1), driven through its stdin; and kcat as the independent
// consumer that reads topics back.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "support/process.hpp"

extern char** environ;

namespace sluice::testing {

inline bool kcat_available() { return run_command("command -v kcat").exit_code == 0; }

class KafkaMockCluster {
 public:
  // Starts `program` (the kafka_mock_cluster tool) with `brokers` brokers and reads the
  // bootstrap servers it prints.
  explicit KafkaMockCluster(const std::string& program, int brokers = 1) {
    int to_child[2], from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) return;
    if (pipe2(from_child, O_CLOEXEC) != 0) {
      ::close(to_child[0]);
      ::close(to_child[1]);
      return;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
    std::string count = std::to_string(brokers);
    const char* argv[] = {program.c_str(), "--brokers", count.c_str(), nullptr};
    if (posix_spawn(&pid_, program.c_str(), &actions, nullptr, const_cast<char**>(argv), environ) !=
        0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
    if (pid_ > 0) bootstrap_ = read_line(10).value_or("");
  }
  ~KafkaMockCluster() {
    if (in_ >= 0) ::close(in_);  // the tool ends when its stdin closes
    if (pid_ > 0) {
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (waitpid(pid_, nullptr, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > until) {
          kill(pid_, SIGKILL);
          waitpid(pid_, nullptr, 0);
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    if (out_ >= 0) ::close(out_);
  }
  KafkaMockCluster(const KafkaMockCluster&) = delete;
  KafkaMockCluster& operator=(const KafkaMockCluster&) = delete;

  bool started() const { return !bootstrap_.empty(); }
  // "127.0.0.1:PORT[,127.0.0.1:PORT...]"
  const std::string& bootstrap() const { return bootstrap_; }

  // Sends one command (see the tool's header) and returns its answer: "ok" or "error: ...".
  std::string command(const std::string& line) {
    std::string text = line + "\n";
    if (::write(in_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return "error: the mock cluster is gone";
    }
    return read_line(10).value_or("error: no answer from the mock cluster");
  }

 private:
  std::optional<std::string> read_line(double seconds) {
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (true) {
      size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      until - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) return std::nullopt;
      pollfd fd{out_, POLLIN, 0};
      if (poll(&fd, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  std::string buffer_;
  std::string bootstrap_;
};

// One message as kcat printed it.
struct KafkaRecord {
  std::string topic;
  std::optional<std::string> key;  // nullopt: the message had no key
  std::string value;
  bool operator<(const KafkaRecord& o) const {
    return std::tie(topic, value, key) < std::tie(o.topic, o.value, o.key);
  }
  bool operator==(const KafkaRecord&) const = default;
  friend std::ostream& operator<<(std::ostream& out, const KafkaRecord& r) {
    return out << "{" << r.topic << ", " << (r.key ? "\"" + *r.key + "\"" : "no key") << ", \""
               << r.value << "\"}";
  }
};

// Reads `topic` from the beginning to its current end with kcat. kcat prints each message as
// "topic keylen key valuelen value" (lengths first, so values with spaces and newlines are
// taken exactly).
inline std::vector<KafkaRecord> kcat_read(const std::string& bootstrap, const std::string& topic,
                                          std::string* raw = nullptr) {
  CommandResult r = run_command("timeout 60 kcat -C -q -b " + bootstrap + " -t " + topic +
                                " -o beginning -e -f '%t %K %k %S %s'" +
                                (raw != nullptr ? " 2>&1" : " 2>/dev/null"));
  if (raw != nullptr) *raw = r.output;
  std::vector<KafkaRecord> out;
  const std::string& s = r.output;
  size_t pos = 0;
  auto next_word = [&](std::string& word) {
    size_t space = s.find(' ', pos);
    if (space == std::string::npos) return false;
    word = s.substr(pos, space - pos);
    pos = space + 1;
    return true;
  };
  while (pos < s.size()) {
    KafkaRecord rec;
    std::string key_len, value_len;
    if (!next_word(rec.topic) || !next_word(key_len)) break;
    long klen = std::stol(key_len);
    if (klen >= 0) {
      rec.key = s.substr(pos, static_cast<size_t>(klen));
      pos += static_cast<size_t>(klen);
    }
    ++pos;  // the space after the (possibly empty) key
    if (!next_word(value_len)) break;
    long vlen = std::stol(value_len);
    if (vlen > 0) {
      rec.value = s.substr(pos, static_cast<size_t>(vlen));
      pos += static_cast<size_t>(vlen);
    }
    out.push_back(std::move(rec));
  }
  return out;
}

// Produces `messages` to one partition of `topic` with kcat -P (an independent producer), each
// message exactly as given (newlines included) and with every one of `headers` ("name=value",
// no single quotes). Returns kcat's exit code (0: all delivered).
inline int kcat_produce(const std::string& bootstrap, const std::string& topic, int partition,
                        const std::vector<std::string>& messages,
                        const std::vector<std::string>& headers = {}) {
  // ASCII's record separator delimits messages, so that a message may hold several lines.
  char name[] = "/tmp/sluice-kcat-XXXXXX";
  int fd = mkstemp(name);
  if (fd < 0) return -1;
  std::string text;
  for (const std::string& m : messages) text += m + "\x1e";
  bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  std::string header_options;
  for (const std::string& h : headers) header_options += " -H '" + h + "'";
  int code = -1;
  if (written) {
    code = run_command("timeout 60 kcat -P -q -b " + bootstrap + " -t " + topic + " -p " +
                       std::to_string(partition) + header_options + " -D '\\x1e' < " + name)
               .exit_code;
  }
  std::filesystem::remove(name);
  return code;
}

}  // namespace sluice::testing
