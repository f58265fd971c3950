// A Mosquitto broker for tests, started on 127.0.0.1 with a port chosen at run time and its
// config, persistence and log in a TempDir; and mosquitto_sub as the independent reader.
#pragma once

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "support/net.hpp"
#include "support/process.hpp"
#include "support/test_plugins.hpp"

namespace sluice::testing {

inline bool mosquitto_available() {
  return std::filesystem::exists("/usr/sbin/mosquitto") &&
         run_command("command -v mosquitto_sub mosquitto_pub").exit_code == 0;
}

class Mosquitto {
 public:
  // `extra_config` is appended to the broker's config (e.g. "max_inflight_messages 1000\n").
  explicit Mosquitto(const std::string& name, const std::string& extra_config = "")
      : dir_(name), port_(free_port()) {
    // Persistence keeps queued messages of persistent subscribers across a restart; the
    // broker saves them when it stops (SIGTERM).
    std::ofstream(dir_ / "mosquitto.conf")
        << "listener " << port_ << " 127.0.0.1\n"
        << "allow_anonymous true\n"
        << "persistence true\n"
        << "persistence_location " << dir_.path().string() << "/\n"
        << "autosave_interval 1\n"
        // A subscriber that is away loses nothing. (Not 0, "no limit": mosquitto 2.0.11 then
        // drops clients that publish at QoS 2.)
        << "max_queued_messages 1000000\n"
        << "user root\n"  // the tests run as root; stay so, to write the TempDir
        << extra_config;
  }
  ~Mosquitto() { stop(); }

  // Starts the broker and waits until it accepts connections.
  bool start() {
    process_ =
        std::make_unique<BackgroundProcess>("/usr/sbin/mosquitto -c " + (dir_ / "mosquitto.conf") +
                                            " >> " + (dir_ / "mosquitto.log") + " 2>&1");
    return process_->started() && wait_for_port(port_, 20);
  }
  // Stops it as an operator would (SIGTERM: sessions are saved), and waits for the exit.
  void stop() {
    if (!process_) return;
    process_->signal(SIGTERM);
    if (process_->wait_exit(10) < 0) process_->signal(SIGKILL);
    process_.reset();
  }

  int port() const { return port_; }
  std::string server() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return read_text(dir_ / "mosquitto.log"); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  int port_;
  std::unique_ptr<BackgroundProcess> process_;
};

// Publishes each of `payloads` as one message with mosquitto_pub (-l: one message per line, so
// a payload must not contain a newline). True when mosquitto_pub succeeded.
inline bool mqtt_publish(const Mosquitto& broker, const std::string& topic, int qos,
                         const std::vector<std::string>& payloads) {
  static std::atomic<int> serial{0};
  std::string file = broker.dir() / ("pub-" + std::to_string(++serial) + ".txt");
  {
    std::ofstream out(file);
    for (const std::string& p : payloads) out << p << "\n";
  }
  CommandResult r = run_command("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port()) +
                                " -q " + std::to_string(qos) + " -t '" + topic + "' -l < " + file);
  std::filesystem::remove(file);
  return r.exit_code == 0;
}

// One message as mosquitto_sub printed it.
struct MqttMessage {
  std::string topic;
  int qos = -1;
  bool retained = false;
  std::string payload;
  bool operator<(const MqttMessage& o) const {
    return std::tie(topic, payload, qos, retained) <
           std::tie(o.topic, o.payload, o.qos, o.retained);
  }
  bool operator==(const MqttMessage&) const = default;
};

inline std::string hex_decode(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

// mosquitto_sub in the background, printing "topic qos retained hex-payload" per message to a
// file, until it has `count` messages or `seconds` passed. It subscribes to `topic` and to its
// own marker topic (see sync()); `topic` should not cover sluice-test/, where the markers of
// other subscribers stay retained.
class MqttSubscriber {
 public:
  struct Options {
    std::string topic;
    int qos = 2;
    int count = 1;
    int seconds = 60;
    std::string client_id;  // with it, a persistent session (-c): nothing missed while away
  };
  MqttSubscriber(const Mosquitto& broker, const Options& options)
      : broker_(broker),
        id_(++serial()),
        file_(broker.dir() / ("sub-" + std::to_string(id_) + ".out")) {
    // Line-buffered, so the file shows each message as it arrives.
    std::string command = "stdbuf -oL mosquitto_sub -h 127.0.0.1 -p " +
                          std::to_string(broker.port()) + " -t '" + options.topic + "' -t '" +
                          marker() + "' -q " + std::to_string(options.qos) + " -C " +
                          std::to_string(options.count) + " -W " + std::to_string(options.seconds) +
                          " -F '%t %q %r %x'";
    if (!options.client_id.empty()) command += " -c -i " + options.client_id;
    process_ = std::make_unique<BackgroundProcess>(command + " > " + file_ + " 2>&1");
  }

  // Publishes a marker with mosquitto_pub and waits until this subscriber printed it: from
  // then on it is subscribed. The marker is retained, so a subscription made after it was
  // published still gets it, once; it counts as one of the messages. Each subscriber has its
  // own marker topic (under sluice-test/, which messages() leaves out).
  bool sync() {
    std::string marker = this->marker();
    run_command("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker_.port()) + " -q 1 -r -t " +
                marker + " -m ready");
    return eventually([&] { return read_text(file_).find(marker + " ") != std::string::npos; }, 10);
  }

  // Waits for mosquitto_sub to exit (it got its count, or its time ran out).
  int wait(double seconds) { return process_->wait_exit(seconds); }

  // Every message printed so far, markers left out.
  std::vector<MqttMessage> messages() const {
    std::vector<MqttMessage> out;
    std::istringstream in(read_text(file_));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      MqttMessage m;
      std::string hex;
      int retained = 0;
      if (!(fields >> m.topic >> m.qos >> retained)) continue;
      fields >> hex;
      m.retained = retained != 0;
      m.payload = hex_decode(hex);
      if (m.topic.starts_with("sluice-test/")) continue;
      out.push_back(std::move(m));
    }
    return out;
  }
  std::string raw() const { return read_text(file_); }

 private:
  std::string marker() const { return "sluice-test/ready/" + std::to_string(id_); }
  static int& serial() {
    static int n = 0;
    return n;
  }
  const Mosquitto& broker_;
  int id_;
  std::string file_;
  std::unique_ptr<BackgroundProcess> process_;
};

}  // namespace sluice::testing
