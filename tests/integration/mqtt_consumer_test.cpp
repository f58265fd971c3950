// The mqtt_consumer input against a real Mosquitto broker, started by the test on 127.0.0.1,
// with mosquitto_pub as the sender. Besides reading, these tests check the promise of
// at-least-once delivery: a message is acknowledged only once its metrics were written, so the
// broker keeps (and sends again) whatever the agent had not written when it stopped, died, or
// lost the broker. Duplicates are allowed; losses are not, so tests count distinct seq values.
#include <doctest/doctest.h>
#include <signal.h>

#include <set>
#include <sstream>

#include "config/config.hpp"
#include "core/delivery.hpp"
#include "pipeline/pipeline.hpp"
#include "plugins/input_test_support.hpp"
#include "plugins/plugin_test_support.hpp"
#include "support/mosquitto.hpp"

using namespace sluice;
using sluice::testing::BackgroundProcess;
using sluice::testing::eventually;
using sluice::testing::LockedAccumulator;
using sluice::testing::Mosquitto;
using sluice::testing::mqtt_publish;
using sluice::testing::read_text;
using sluice::testing::TempDir;

namespace {

bool skip_without_mosquitto() {
  if (sluice::testing::mosquitto_available()) return false;
  MESSAGE("mosquitto is not installed (Debian packages mosquitto, mosquitto-clients); skipped");
  return true;
}

// The broker logs each subscription ("<client id> <qos> <filter>"), which tells the tests when
// a consumer is ready; and it may hold many unacknowledged messages per client.
const std::string kBrokerConfig =
    "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
    "log_type subscribe\nmax_inflight_messages 1000\n";

// Waits until the broker logged the `count`-th subscription of `client_id` to `filter`.
bool wait_subscribed(const Mosquitto& broker, const std::string& client_id,
                     const std::string& filter, int count = 1) {
  std::string line = ": " + client_id + " ";
  return eventually(
      [&] {
        std::istringstream in(broker.log());
        int seen = 0;
        for (std::string l; std::getline(in, l);) {
          size_t at = l.find(line);
          if (at != std::string::npos && l.ends_with(" " + filter)) ++seen;
        }
        return seen >= count;
      },
      15);
}

std::vector<std::string> seq_lines(int first, int count, const std::string& name = "held") {
  std::vector<std::string> out;
  for (int i = first; i < first + count; ++i) out.push_back(name + " seq=" + std::to_string(i) + "i");
  return out;
}

std::set<int64_t> distinct_seqs(const Batch& metrics, const std::string& name = "held") {
  std::set<int64_t> out;
  for (const Metric& m : metrics) {
    if (m.name() != name) continue;
    if (const FieldValue* v = m.field("seq")) out.insert(std::get<int64_t>(*v));
  }
  return out;
}

std::set<int64_t> range(int64_t first, int64_t count) {
  std::set<int64_t> out;
  for (int64_t i = first; i < first + count; ++i) out.insert(i);
  return out;
}

size_t count_named(const Batch& metrics, const std::string& name) {
  size_t n = 0;
  for (const Metric& m : metrics) n += m.name() == name ? 1 : 0;
  return n;
}

// A consumer built from YAML options, adding to its own accumulator, which stands for an
// output that keeps the metrics until clear(): only then are their messages acknowledged.
struct Consumer {
  explicit Consumer(const std::string& options)
      : input(sluice::testing::input_from_yaml("mqtt_consumer", options, log)),
        service(dynamic_cast<ServiceInput*>(input.get())) {
    REQUIRE(service != nullptr);
    service->start(acc);
  }
  ~Consumer() { service->stop(); }

  sluice::testing::NullLogger log;
  std::unique_ptr<Input> input;
  ServiceInput* service;
  LockedAccumulator acc;
};

std::string consumer_options(const Mosquitto& broker, const std::string& client_id,
                             const std::string& topic, int qos, const std::string& extra = "") {
  return "servers: ['" + broker.server() + "'], client_id: " + client_id + ", topics: ['" + topic +
         "'], qos: " + std::to_string(qos) + (extra.empty() ? "" : ", " + extra);
}

// The test plugins (the recorder output) and the built-in mqtt_consumer.
const plugin::Registry& consumer_registry() {
  static const plugin::Registry registry = [] {
    plugin::Registry r = sluice::testing::test_registry();
    r.add(*plugin::Registry::builtins().find(plugin::Kind::kInput, "mqtt_consumer"));
    return r;
  }();
  return registry;
}

// A pipeline from YAML with mqtt_consumer and recorder outputs; stopped when it goes.
class ConsumerPipeline {
 public:
  explicit ConsumerPipeline(const std::string& yaml)
      : config_(config::load_text(yaml, "mqtt-consumer.yaml", consumer_registry())),
        pipeline_(config_, pipeline::SystemClock::instance()) {
    pipeline_.start();
  }
  ~ConsumerPipeline() { stop(); }
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    pipeline_.stop(pipeline::SystemClock::instance().now() + 500'000'000);
  }
  pipeline::PluginStats& input_stats() { return pipeline_.inputs().at(0)->stats(); }

 private:
  config::Config config_;
  pipeline::Pipeline pipeline_;
  bool stopped_ = false;
};

std::string pipeline_yaml(const Mosquitto& broker, const std::string& consumer_extra,
                          const std::string& recorder) {
  return "agent: {flush_interval: 100ms, metric_batch_size: 100, omit_hostname: true}\n"
         "inputs:\n  - mqtt_consumer: {servers: ['" +
         broker.server() + "'], " + consumer_extra +
         "}\noutputs:\n  - recorder: {name: " + recorder +
         ", retry_initial_backoff: 50ms, retry_max_backoff: 100ms}\n";
}

void set_connect_error(const std::string& recorder, const std::string& error) {
  auto rec = sluice::testing::recording(recorder);
  std::lock_guard lock(rec->mutex);
  rec->connect_error = error;
}

std::set<int64_t> recorded_seqs(const std::string& recorder) {
  auto rec = sluice::testing::recording(recorder);
  std::set<int64_t> out;
  for (int64_t v : rec->values("seq")) out.insert(v);
  return out;
}

// After a consumer with a persistent session acknowledged everything, a new one with the same
// client id gets nothing again: only a marker published now.
void check_nothing_redelivered(const Mosquitto& broker, const std::string& client_id,
                               const std::string& topic_filter, const std::string& topic,
                               int subscriptions_before) {
  Consumer again(consumer_options(broker, client_id, topic_filter, 1, "persistent_session: true"));
  REQUIRE(wait_subscribed(broker, client_id, topic_filter, subscriptions_before + 1));
  REQUIRE(mqtt_publish(broker, topic, 1, {"marker v=1i"}));
  REQUIRE(eventually([&] { return count_named(again.acc.metrics(), "marker") == 1; }, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // room for a stray redelivery
  CHECK(again.acc.metrics().size() == 1);
}

}  // namespace

TEST_CASE("mqtt_consumer: QoS 0, 1 and 2 messages arrive as metrics, influx and json, tagged") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-consumer-qos", kBrokerConfig);
  REQUIRE(broker.start());
  for (int qos : {0, 1, 2}) {
    INFO("qos " << qos);
    std::string q = std::to_string(qos);
    int64_t before = DeliveryGroup::groups_in_flight();
    {
      Consumer influx(consumer_options(
          broker, "influx-" + q, "lab" + q + "/+/influx", qos,
          "topic_parsing: [{topic: 'lab" + q + "/+/influx', tags: '_/room/_'}]"));
      Consumer json(consumer_options(broker, "json-" + q, "json" + q + "/#", qos,
                                     "topic_tag: '', data_format: json, json_measurement_name: "
                                     "weather, json_fields: [{path: temp, type: float}], "
                                     "topic_parsing: [{topic: 'json" +
                                         q + "/+/+', tags: '_/station/_'}]"));
      REQUIRE(wait_subscribed(broker, "influx-" + q, "lab" + q + "/+/influx"));
      REQUIRE(wait_subscribed(broker, "json-" + q, "json" + q + "/#"));

      REQUIRE(mqtt_publish(broker, "lab" + q + "/kitchen/influx", qos,
                           {"temp,sensor=a value=21.5 1700000000000000000",
                            "temp,sensor=b value=22 1700000000000000001"}));
      // Outside the subscription: one level too many, and another last level.
      REQUIRE(mqtt_publish(broker, "lab" + q + "/kitchen/extra/influx", qos, {"stray v=1i"}));
      REQUIRE(mqtt_publish(broker, "lab" + q + "/kitchen/other", qos, {"stray v=2i"}));
      REQUIRE(mqtt_publish(broker, "lab" + q + "/hall/influx", qos, {"temp value=19 1700000000000000002"}));
      REQUIRE(mqtt_publish(broker, "json" + q + "/north/reading", qos, {"{\"temp\": 3.5}"}));

      REQUIRE(eventually([&] { return influx.acc.metrics().size() >= 3; }, 10));
      REQUIRE(eventually([&] { return json.acc.metrics().size() >= 1; }, 10));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // nothing more comes
      std::string topic = "lab" + q;
      CHECK(influx.acc.sorted_lines() ==
            std::vector<std::string>{
                "temp,room=hall,topic=" + topic + "/hall/influx value=19 1700000000000000002",
                "temp,room=kitchen,sensor=a,topic=" + topic +
                    "/kitchen/influx value=21.5 1700000000000000000",
                "temp,room=kitchen,sensor=b,topic=" + topic +
                    "/kitchen/influx value=22 1700000000000000001",
            });
      CHECK(json.acc.sorted_lines() ==
            std::vector<std::string>{"weather,station=north temp=3.5 1700000000000000000"});
      CHECK(influx.acc.rejected().empty());
      CHECK(json.acc.errors().empty());
      CHECK(DeliveryGroup::groups_in_flight() == before + 4);  // four messages, held
      influx.acc.clear();
      json.acc.clear();
      CHECK(DeliveryGroup::groups_in_flight() == before);
    }
  }
}

TEST_CASE("mqtt_consumer: messages wait unacknowledged until the output writes them") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-consumer-held", kBrokerConfig);
  REQUIRE(broker.start());
  int64_t before = DeliveryGroup::groups_in_flight();
  set_connect_error("mqtt-held", "the server is not there yet");
  {
    ConsumerPipeline agent(pipeline_yaml(
        broker,
        "topics: ['held/#'], qos: 1, persistent_session: true, client_id: sluice-held, "
        "max_undelivered_messages: 5",
        "mqtt-held"));
    REQUIRE(wait_subscribed(broker, "sluice-held", "held/#"));
    REQUIRE(mqtt_publish(broker, "held/a", 1, seq_lines(0, 12)));

    // Five messages are read; then the consumer stops reading until some are written.
    REQUIRE(eventually([&] { return agent.input_stats().metrics_gathered.load() == 5; }, 10));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    CHECK(agent.input_stats().metrics_gathered.load() == 5);
    CHECK(DeliveryGroup::groups_in_flight() == before + 5);
    CHECK(sluice::testing::recording("mqtt-held")->metric_count() == 0);

    set_connect_error("mqtt-held", "");
    REQUIRE(eventually([&] { return recorded_seqs("mqtt-held") == range(0, 12); }, 15));
    REQUIRE(eventually([&] { return DeliveryGroup::groups_in_flight() == before; }, 10));
    CHECK(agent.input_stats().metrics_gathered.load() == 12);
  }
  // Every message was acknowledged: the session holds nothing for the next consumer.
  check_nothing_redelivered(broker, "sluice-held", "held/#", "held/marker", 1);
}

TEST_CASE("mqtt_consumer: a consumer stopped before its output wrote gets the messages again") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-consumer-restart", kBrokerConfig);
  REQUIRE(broker.start());
  int64_t before = DeliveryGroup::groups_in_flight();
  set_connect_error("mqtt-restart", "never");
  {
    ConsumerPipeline agent(pipeline_yaml(broker,
                                         "topics: ['again/#'], qos: 2, persistent_session: true, "
                                         "client_id: sluice-again",
                                         "mqtt-restart"));
    REQUIRE(wait_subscribed(broker, "sluice-again", "again/#"));
    REQUIRE(mqtt_publish(broker, "again/x", 2, seq_lines(0, 10)));
    REQUIRE(eventually([&] { return agent.input_stats().metrics_gathered.load() == 10; }, 10));
    agent.stop();  // the output never wrote: the metrics are lost, and nothing was acknowledged
  }
  CHECK(sluice::testing::recording("mqtt-restart")->metric_count() == 0);
  CHECK(DeliveryGroup::groups_in_flight() == before);
  {
    Consumer resumed(consumer_options(broker, "sluice-again", "again/#", 2,
                                      "persistent_session: true"));
    REQUIRE(eventually([&] { return distinct_seqs(resumed.acc.metrics()) == range(0, 10); }, 15));
    resumed.acc.clear();  // written: acknowledged (PUBREC, then PUBCOMP for the PUBREL)
    CHECK(DeliveryGroup::groups_in_flight() == before);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the QoS 2 exchange ends
  }
  check_nothing_redelivered(broker, "sluice-again", "again/#", "again/marker", 2);
}

TEST_CASE("mqtt_consumer: messages a full output buffer dropped come again from the broker") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-consumer-dropped", kBrokerConfig);
  REQUIRE(broker.start());
  int64_t before = DeliveryGroup::groups_in_flight();
  set_connect_error("mqtt-dropped", "down for now");
  {
    // While the output is down, the gen input keeps adding to its small buffer, which drops
    // the oldest metrics: the consumer's.
    ConsumerPipeline agent(
        "agent: {interval: 100ms, flush_interval: 100ms, metric_batch_size: 100, "
        "omit_hostname: true}\n"
        "inputs:\n  - mqtt_consumer: {servers: ['" +
        broker.server() +
        "'], topics: ['dropped/#'], qos: 1, persistent_session: true, client_id: sluice-drop, "
        "max_undelivered_messages: 4}\n"
        "  - gen: {count: 1}\n"
        "outputs:\n  - recorder: {name: mqtt-dropped, metric_buffer_limit: 6, "
        "retry_initial_backoff: 50ms, retry_max_backoff: 100ms}\n");
    REQUIRE(wait_subscribed(broker, "sluice-drop", "dropped/#"));
    REQUIRE(mqtt_publish(broker, "dropped/a", 1, seq_lines(0, 8)));
    // Lost metrics are not acknowledged; the consumer reconnects so that the broker sends
    // their messages again.
    REQUIRE(wait_subscribed(broker, "sluice-drop", "dropped/#", 2));
    set_connect_error("mqtt-dropped", "");
    REQUIRE(eventually([&] { return recorded_seqs("mqtt-dropped") == range(0, 8); }, 30));
    agent.stop();
  }
  CHECK(DeliveryGroup::groups_in_flight() == before);
}

TEST_CASE("mqtt_consumer: kill -9 between consume and write loses nothing") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-consumer-kill", kBrokerConfig);
  REQUIRE(broker.start());
  TempDir dir("mqtt-consumer-kill");
  const std::string out = dir / "metrics.out";
  const std::string stats = dir / "stats.out";
  auto config = [&](const std::string& flush) {
    std::ofstream(dir / "sluice.yaml")
        << "agent: {interval: 200ms, flush_interval: 100ms, omit_hostname: true}\n"
           "inputs:\n"
           "  - mqtt_consumer: {servers: ['"
        << broker.server()
        << "'], topics: ['kill/#'], qos: 1, persistent_session: true, client_id: sluice-kill}\n"
           "  - internal: {collect_memstats: false}\n"
           "outputs:\n"
           "  - file: {files: ['"
        << out << "'], flush_interval: " << flush
        << ", namepass: [held]}\n"
           "  - file: {files: ['"
        << stats << "'], namepass: [internal_gather]}\n";
  };
  auto run = [&](const std::string& log) {
    return std::make_unique<BackgroundProcess>(std::string(SLUICE_BINARY) + " run --config " +
                                               (dir / "sluice.yaml") + " 2> " + (dir / log));
  };
  // How many metrics the consumer has read, as the agent's own statistics say.
  auto gathered = [&] {
    std::istringstream in(read_text(stats));
    int64_t most = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.find("input=mqtt_consumer") == std::string::npos) continue;
      size_t at = line.find("metrics_gathered=");
      if (at != std::string::npos) most = std::max<int64_t>(most, std::stoll(line.substr(at + 17)));
    }
    return most;
  };
  constexpr int kMessages = 200;

  config("1h");  // nothing is written while the first agent runs
  auto first = run("first.log");
  REQUIRE(first->started());
  REQUIRE(wait_subscribed(broker, "sluice-kill", "kill/#"));
  REQUIRE(mqtt_publish(broker, "kill/a", 1, seq_lines(0, kMessages)));
  REQUIRE_MESSAGE(eventually([&] { return gathered() >= kMessages; }, 20),
                  read_text(dir / "first.log"));
  first->signal(SIGKILL);
  CHECK(first->wait_exit(10) >= 0);
  CHECK(read_text(out).empty());  // consumed, never written

  config("100ms");
  auto second = run("second.log");
  REQUIRE(second->started());
  auto seqs_in_file = [&] {
    std::istringstream in(read_text(out));
    std::set<int64_t> seqs;
    size_t lines = 0;
    for (std::string line; std::getline(in, line);) {
      size_t at = line.find(" seq=");
      if (!line.starts_with("held,") || at == std::string::npos) continue;
      seqs.insert(std::stoll(line.substr(at + 5)));
      ++lines;
    }
    return std::make_pair(seqs, lines);
  };
  REQUIRE_MESSAGE(eventually([&] { return seqs_in_file().first.size() == kMessages; }, 30),
                  read_text(dir / "second.log"));
  second->signal(SIGTERM);
  CHECK(second->wait_exit(20) == 0);
  auto [seqs, lines] = seqs_in_file();
  CHECK(seqs == range(0, kMessages));
  CHECK(lines >= kMessages);  // duplicates are allowed, losses not
}

TEST_CASE("mqtt_consumer: a broker restart while consuming loses nothing") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-consumer-broker-restart", kBrokerConfig);
  REQUIRE(broker.start());
  int64_t before = DeliveryGroup::groups_in_flight();
  {
    // Slow writes (300 ms) keep messages unacknowledged in the agent when the broker goes.
    ConsumerPipeline agent(
        "agent: {flush_interval: 300ms, metric_batch_size: 1000, omit_hostname: true}\n"
        "inputs:\n  - mqtt_consumer: {servers: ['" +
        broker.server() +
        "'], topics: ['restart/#'], qos: 1, persistent_session: true, client_id: sluice-br}\n"
        "outputs:\n  - recorder: {name: mqtt-broker-restart}\n");
    REQUIRE(wait_subscribed(broker, "sluice-br", "restart/#"));
    REQUIRE(mqtt_publish(broker, "restart/a", 1, seq_lines(0, 300)));
    REQUIRE(eventually([&] { return agent.input_stats().metrics_gathered.load() >= 100; }, 10));
    broker.stop();
    REQUIRE(broker.start());  // same port, its sessions restored from persistence
    REQUIRE(wait_subscribed(broker, "sluice-br", "restart/#", 2));
    REQUIRE(mqtt_publish(broker, "restart/b", 1, seq_lines(300, 100)));
    REQUIRE(eventually([&] { return recorded_seqs("mqtt-broker-restart") == range(0, 400); }, 20));
    REQUIRE(eventually([&] { return DeliveryGroup::groups_in_flight() == before; }, 10));
  }
}

TEST_CASE("mqtt_consumer: reads over TLS, and refuses a broker whose certificate it does not trust") {
  if (skip_without_mosquitto()) return;
  TempDir certs("mqtt-consumer-tls");
  std::string cert = certs / "cert.pem", key = certs / "key.pem";
  auto made = sluice::testing::run_command(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  int tls_port = sluice::testing::free_port();
  Mosquitto broker("mqtt-consumer-tls", kBrokerConfig + "listener " + std::to_string(tls_port) +
                                            " 127.0.0.1\ncertfile " + cert + "\nkeyfile " + key +
                                            "\n");
  REQUIRE(broker.start());
  REQUIRE(sluice::testing::wait_for_port(tls_port, 10));
  const std::string tls_server = "ssl://127.0.0.1:" + std::to_string(tls_port);
  int64_t before = DeliveryGroup::groups_in_flight();
  {
    Consumer consumer("servers: ['" + tls_server + "'], tls_ca: '" + cert +
                      "', client_id: sluice-tls, topics: ['secure/#'], qos: 1");
    REQUIRE(wait_subscribed(broker, "sluice-tls", "secure/#"));
    REQUIRE(mqtt_publish(broker, "secure/a", 1, {"secret v=42i 1700000000000000000"}));
    REQUIRE(eventually([&] { return consumer.acc.metrics().size() == 1; }, 10));
    CHECK(consumer.acc.sorted_lines() ==
          std::vector<std::string>{"secret,topic=secure/a v=42i 1700000000000000000"});
    consumer.acc.clear();
  }
  CHECK(DeliveryGroup::groups_in_flight() == before);
  {
    // Without the CA the handshake fails: nothing connects, however long it tries.
    Consumer untrusting("servers: ['" + tls_server +
                        "'], client_id: sluice-untrusting, topics: ['secure/#'], qos: 1");
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    CHECK(broker.log().find("as sluice-untrusting") == std::string::npos);
  }
}

TEST_CASE("mqtt_consumer: a malformed payload is rejected, logged with its topic, and skipped") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-consumer-malformed", kBrokerConfig);
  REQUIRE(broker.start());
  int64_t before = DeliveryGroup::groups_in_flight();
  {
    Consumer consumer(consumer_options(broker, "sluice-bad", "bad/#", 1, "persistent_session: true"));
    REQUIRE(wait_subscribed(broker, "sluice-bad", "bad/#"));
    REQUIRE(mqtt_publish(broker, "bad/x", 1, {"this is not line protocol", "ok v=1i"}));
    REQUIRE(eventually([&] { return count_named(consumer.acc.metrics(), "ok") == 1; }, 10));
    REQUIRE(consumer.acc.rejected().size() == 1);
    CHECK(consumer.acc.rejected()[0].starts_with("topic bad/x: data_format influx, line 1"));
    // The message without metrics was acknowledged at once; only the good one is held.
    CHECK(DeliveryGroup::groups_in_flight() == before + 1);
    // The consumer goes on.
    REQUIRE(mqtt_publish(broker, "bad/y", 1, {"ok v=2i"}));
    REQUIRE(eventually([&] { return count_named(consumer.acc.metrics(), "ok") == 2; }, 10));
    consumer.acc.clear();
    CHECK(DeliveryGroup::groups_in_flight() == before);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the PUBACKs go out
  }
  // The malformed message is not sent again either.
  check_nothing_redelivered(broker, "sluice-bad", "bad/#", "bad/marker", 1);
}
