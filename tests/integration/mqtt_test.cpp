// The mqtt output against a real Mosquitto broker, started by the test on 127.0.0.1. Metrics
// go through sluice's pipeline; mosquitto_sub reads them back, and topics, QoS, retain flags
// and payloads are compared byte for byte.
//
// On duplicates: a batch that failed part-way is published again whole (at-least-once), so the
// outage tests count distinct metrics (by their seq field), not messages.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "config/config.hpp"
#include "support/output_pipeline.hpp"
#include "support/mosquitto.hpp"

using namespace std::chrono_literals;
using sluice::Batch;
using sluice::Metric;
using sluice::pipeline::Pipeline;
using sluice::pipeline::SystemClock;
using sluice::testing::eventually;
using sluice::testing::Mosquitto;
using sluice::testing::MqttMessage;
using sluice::testing::MqttSubscriber;

namespace {

constexpr int64_t kBaseTime = 1'700'000'000'000'000'000;

// A pipeline built from YAML, started; stopped (with a short last flush) when it goes.
using Agent = sluice::testing::OutputPipeline;

std::string output(const Mosquitto& broker, const std::string& extra) {
  return "  - mqtt: {servers: [\"127.0.0.1:" + std::to_string(broker.port()) +
         "\"], timeout: 2s, retry_initial_backoff: 100ms, retry_max_backoff: 500ms" + extra + "}\n";
}

// `count` metrics "load" with seq = first.., each at its own microsecond.
Batch sequence(int64_t first, int64_t count) {
  Batch batch;
  for (int64_t i = first; i < first + count; ++i) {
    Metric m("load", kBaseTime + i * 1000);
    m.set_tag("host", "h" + std::to_string(i % 3));
    m.set_field("seq", i);
    batch.push_back(std::move(m));
  }
  return batch;
}

// The distinct seq values in line-protocol payloads ("... seq=12i ...").
std::set<int64_t> distinct_seqs(const std::vector<MqttMessage>& messages) {
  std::set<int64_t> seqs;
  for (const MqttMessage& m : messages) {
    size_t at = 0;
    while ((at = m.payload.find("seq=", at)) != std::string::npos) {
      seqs.insert(std::stoll(m.payload.substr(at + 4)));
      at += 4;
    }
  }
  return seqs;
}

// One "temp" metric per room, its tag `room` naming it (the topics below are rooms/<room>).
Batch rooms(std::initializer_list<const char*> names) {
  Batch batch;
  for (const char* room : names) {
    Metric m("temp", kBaseTime);
    m.set_tag("room", room);
    m.set_field("celsius", 21.0);
    batch.push_back(m);
  }
  return batch;
}

// Sends `batch` and waits until all but one of its metrics are written and that one rejected.
void expect_one_rejected(Agent& agent, const Batch& batch) {
  agent.send(batch);
  REQUIRE(eventually(
      [&] {
        return agent.stats().metrics_written == batch.size() - 1 &&
               agent.stats().metrics_rejected == 1;
      },
      20));
}

std::set<std::string> topics_of(const std::vector<MqttMessage>& messages) {
  std::set<std::string> topics;
  for (const MqttMessage& m : messages) topics.insert(m.topic);
  return topics;
}

bool skip_without_mosquitto() {
  if (sluice::testing::mosquitto_available()) return false;
  MESSAGE("mosquitto is not installed (Debian packages mosquitto, mosquitto-clients); skipped");
  return true;
}

}  // namespace

TEST_CASE("mqtt: one message per metric, exact topics and payloads, QoS 1 (3.1.1) and 2 (5)") {
  if (skip_without_mosquitto()) return;
  struct Variant {
    int qos;
    std::string protocol;
  };
  for (const Variant& v : {Variant{1, "3.1.1"}, Variant{2, "5"}}) {
    INFO("qos " << v.qos << ", protocol " << v.protocol);
    Mosquitto broker("mqtt-exact");
    REQUIRE(broker.start());
    MqttSubscriber sub(
        broker, {.topic = "sluice/#", .qos = 2, .count = 1 + 3, .seconds = 30, .client_id = ""});
    REQUIRE(sub.sync());
    {
      Agent agent(output(broker, ", qos: " + std::to_string(v.qos) + ", protocol: \"" + v.protocol +
                                     "\", topic: 'sluice/{{ .Hostname }}/{{ .PluginName }}/"
                                     "{{ .Tag \"region\" }}'"));
      Batch batch;
      Metric a("cpu", kBaseTime);
      a.set_tag("host", "h1");
      a.set_tag("region", "eu");
      a.set_field("usage_idle", 97.5);
      a.set_field("count", int64_t{3});
      batch.push_back(a);
      Metric b("cpu", kBaseTime + 1);
      b.set_tag("host", "h2");  // no region: that segment is left out of the topic
      b.set_field("up", true);
      batch.push_back(b);
      Metric c("disk", kBaseTime + 2);
      c.set_tag("host", "h1");
      c.set_tag("region", "us-east");
      c.set_field("path", std::string("/var \"log\""));
      c.set_field("free", -1.25e-3);
      batch.push_back(c);
      agent.send(batch);
      REQUIRE(eventually([&] { return agent.stats().metrics_written == 3; }, 20));
    }
    REQUIRE(sub.wait(20) == 0);
    auto got = sub.messages();
    std::sort(got.begin(), got.end());
    std::vector<MqttMessage> want = {
        {"sluice/h1/cpu/eu", v.qos, false,
         "cpu,host=h1,region=eu usage_idle=97.5,count=3i 1700000000000000000\n"},
        {"sluice/h1/disk/us-east", v.qos, false,
         "disk,host=h1,region=us-east path=\"/var \\\"log\\\"\",free=-0.00125 "
         "1700000000000000002\n"},
        {"sluice/h2/cpu", v.qos, false, "cpu,host=h2 up=true 1700000000000000001\n"},
    };
    CHECK(got == want);
  }
}

TEST_CASE("mqtt: batch mode sends one message per topic, json payloads keep their types") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-batch");
  REQUIRE(broker.start());
  {
    MqttSubscriber sub(
        broker, {.topic = "metrics/#", .qos = 1, .count = 1 + 2, .seconds = 30, .client_id = ""});
    REQUIRE(sub.sync());
    {
      Agent agent(output(broker, ", qos: 1, batch: true, topic: 'metrics/{{ .Tag \"room\" }}'"));
      Batch batch;
      for (int i = 0; i < 4; ++i) {
        Metric m("temp", kBaseTime + i);
        m.set_tag("room", i % 2 == 0 ? "kitchen" : "hall");
        m.set_field("celsius", 20.5 + i);
        batch.push_back(m);
      }
      agent.send(batch);
      REQUIRE(eventually([&] { return agent.stats().metrics_written == 4; }, 20));
    }
    REQUIRE(sub.wait(20) == 0);
    auto got = sub.messages();
    std::sort(got.begin(), got.end());
    std::vector<MqttMessage> want = {
        {"metrics/hall", 1, false,
         "temp,room=hall celsius=21.5 1700000000000000001\n"
         "temp,room=hall celsius=23.5 1700000000000000003\n"},
        {"metrics/kitchen", 1, false,
         "temp,room=kitchen celsius=20.5 1700000000000000000\n"
         "temp,room=kitchen celsius=22.5 1700000000000000002\n"},
    };
    CHECK(got == want);
  }
  {
    MqttSubscriber sub(
        broker, {.topic = "json/#", .qos = 1, .count = 1 + 1, .seconds = 30, .client_id = ""});
    REQUIRE(sub.sync());
    {
      Agent agent(output(broker, ", qos: 1, topic: json/out, data_format: json"));
      Metric m("types", kBaseTime);
      m.set_tag("host", "a");
      m.set_field("f", 1.5);
      m.set_field("i", int64_t{-42});
      m.set_field("b", true);
      m.set_field("s", std::string("text"));
      agent.send({m});
      REQUIRE(eventually([&] { return agent.stats().metrics_written == 1; }, 20));
    }
    REQUIRE(sub.wait(20) == 0);
    auto got = sub.messages();
    REQUIRE(got.size() == 1);
    CHECK(got[0].topic == "json/out");
    auto doc = nlohmann::json::parse(got[0].payload);
    CHECK(doc["name"] == "types");
    CHECK(doc["tags"]["host"] == "a");
    CHECK(doc["fields"]["f"].is_number_float());
    CHECK(doc["fields"]["f"] == 1.5);
    CHECK(doc["fields"]["i"].is_number_integer());
    CHECK(doc["fields"]["i"] == -42);
    CHECK(doc["fields"]["b"].is_boolean());
    CHECK(doc["fields"]["b"] == true);
    CHECK(doc["fields"]["s"] == "text");
    CHECK(doc["timestamp"] == 1'700'000'000);
  }
}

TEST_CASE("mqtt: retained messages reach a subscriber that connects later") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-retain");
  REQUIRE(broker.start());
  {
    Agent agent(output(broker, ", qos: 1, retain: true, topic: 'state/{{ .Tag \"id\" }}'"));
    Batch batch;
    for (int i = 0; i < 2; ++i) {
      Metric m("state", kBaseTime + i);
      m.set_tag("id", "dev" + std::to_string(i));
      m.set_field("on", i == 1);
      batch.push_back(m);
    }
    agent.send(batch);
    REQUIRE(eventually([&] { return agent.stats().metrics_written == 2; }, 20));
  }
  // The agent is gone; a new subscriber still gets the last message of each topic.
  MqttSubscriber late(broker,
                      {.topic = "state/#", .qos = 1, .count = 2, .seconds = 20, .client_id = ""});
  REQUIRE(late.wait(20) == 0);
  auto got = late.messages();
  std::sort(got.begin(), got.end());
  std::vector<MqttMessage> want = {
      {"state/dev0", 1, true, "state,id=dev0 on=false 1700000000000000000\n"},
      {"state/dev1", 1, true, "state,id=dev1 on=true 1700000000000000001\n"},
  };
  CHECK(got == want);
}

TEST_CASE("mqtt: a broker down at start delays delivery but loses nothing") {
  if (skip_without_mosquitto()) return;
  constexpr int kCount = 300;
  Mosquitto broker("mqtt-down");
  // A persistent subscriber session, made while the broker is up: the broker queues what
  // arrives for it, whenever mosquitto_sub gets back.
  REQUIRE(broker.start());
  MqttSubscriber sub(broker, {.topic = "load",
                              .qos = 1,
                              .count = 1 + 100000,
                              .seconds = 120,
                              .client_id = "sluice-test-down"});
  REQUIRE(sub.sync());
  broker.stop();

  Agent agent(output(broker, ", qos: 1, topic: load"));
  agent.send(sequence(0, kCount));
  // The agent runs, fails to connect, and keeps everything buffered.
  REQUIRE(eventually([&] { return agent.stats().retries >= 2; }, 20));
  CHECK(agent.stats().metrics_written == 0);
  CHECK(agent.stats().metrics_dropped == 0);

  REQUIRE(broker.start());
  REQUIRE(eventually([&] { return agent.stats().metrics_written == kCount; }, 30));
  REQUIRE(eventually([&] { return distinct_seqs(sub.messages()).size() == kCount; }, 30));
  auto seqs = distinct_seqs(sub.messages());
  CHECK(*seqs.begin() == 0);
  CHECK(*seqs.rbegin() == kCount - 1);
}

TEST_CASE("mqtt: a broker stopped mid-run and restarted gets every metric (at-least-once)") {
  if (skip_without_mosquitto()) return;
  constexpr int kBatches = 20, kPerBatch = 50;
  Mosquitto broker("mqtt-restart");
  REQUIRE(broker.start());
  MqttSubscriber sub(broker, {.topic = "load/#",
                              .qos = 2,
                              .count = 1 + 100000,
                              .seconds = 120,
                              .client_id = "sluice-test-restart"});
  REQUIRE(sub.sync());
  Agent agent(output(broker, ", qos: 2, topic: 'load/{{ .Hostname }}'"));
  for (int b = 0; b < kBatches; ++b) {
    if (b == 6) {
      REQUIRE(eventually([&] { return agent.stats().metrics_written >= 6 * kPerBatch; }, 20));
      broker.stop();
    }
    if (b == 14) {
      REQUIRE(eventually([&] { return agent.stats().retries >= 1; }, 20));
      CHECK(agent.stats().metrics_written < 14 * kPerBatch);  // nothing went while it was down
      REQUIRE(broker.start());
    }
    agent.send(sequence(b * kPerBatch, kPerBatch));
    std::this_thread::sleep_for(50ms);
  }
  constexpr size_t kTotal = kBatches * kPerBatch;
  REQUIRE(eventually([&] { return agent.stats().metrics_written == kTotal; }, 30));
  bool all = eventually([&] { return distinct_seqs(sub.messages()).size() == kTotal; }, 30);
  if (!all) {
    auto seqs = distinct_seqs(sub.messages());
    std::string missing;
    for (int64_t i = 0; i < static_cast<int64_t>(kTotal); ++i) {
      if (!seqs.count(i)) missing += " " + std::to_string(i);
    }
    MESSAGE(seqs.size() << " distinct of " << kTotal << "; missing:" << missing.substr(0, 400));
  }
  REQUIRE(all);
  auto messages = sub.messages();
  CHECK(messages.size() >= kTotal);  // duplicates allowed, losses not
  CHECK(agent.stats().metrics_dropped == 0);
  MESSAGE((messages.size() - kTotal) << " duplicate messages after the restart");
}

TEST_CASE("mqtt: on MQTT 5 the broker's Receive Maximum bounds the window, each message arrives once") {
  if (skip_without_mosquitto()) return;
  constexpr int64_t kTotal = 1000;
  // Mosquitto tells an MQTT 5 client its max_inflight_messages as Receive Maximum; more QoS 2
  // messages in flight than that it refuses.
  Mosquitto broker("mqtt-v5-window", "max_inflight_messages 5\n");
  REQUIRE(broker.start());
  MqttSubscriber sub(broker, {.topic = "load/#", .qos = 2, .count = 1 + kTotal, .seconds = 60,
                              .client_id = ""});
  REQUIRE(sub.sync());
  Agent agent(output(broker, ", qos: 2, protocol: \"5\", max_inflight: 20, "
                             "topic: 'load/{{ .Hostname }}'"));
  for (int64_t first = 0; first < kTotal; first += 250) agent.send(sequence(first, 250));
  REQUIRE(eventually([&] { return agent.stats().metrics_written == kTotal; }, 30));
  REQUIRE(sub.wait(30) == 0);
  auto messages = sub.messages();
  CHECK(messages.size() == kTotal);
  CHECK(distinct_seqs(messages).size() == kTotal);
  CHECK(agent.stats().retries == 0);
}

TEST_CASE("mqtt: a metric whose topic cannot be published is rejected, the rest delivered") {
  if (skip_without_mosquitto()) return;
  Mosquitto broker("mqtt-reject");
  REQUIRE(broker.start());
  MqttSubscriber sub(
      broker, {.topic = "rooms/#", .qos = 1, .count = 1 + 3, .seconds = 30, .client_id = ""});
  REQUIRE(sub.sync());
  {
    Agent agent(output(broker, ", qos: 1, topic: 'rooms/{{ .Tag \"room\" }}'"));
    expect_one_rejected(agent, rooms({"a", "b", "c+d", "e"}));  // + is a wildcard: never a topic
  }
  REQUIRE(sub.wait(20) == 0);
  CHECK(topics_of(sub.messages()) == std::set<std::string>{"rooms/a", "rooms/b", "rooms/e"});
  CHECK(sub.messages().size() == 3);  // the split sent nothing twice
}

TEST_CASE("mqtt: a message an MQTT 5 broker refuses for good is rejected, the rest delivered") {
  if (skip_without_mosquitto()) return;
  // Anonymous clients may write rooms/open/# (and the subscriber's markers), not rooms/locked.
  sluice::testing::TempDir acl_dir("mqtt-acl");
  std::string acl = acl_dir / "acl";
  std::ofstream(acl) << "topic readwrite rooms/open/#\ntopic readwrite sluice-test/#\n";
  Mosquitto broker("mqtt-v5-acl", "acl_file " + acl + "\n");
  REQUIRE(broker.start());
  MqttSubscriber sub(broker, {.topic = "rooms/#", .qos = 1, .count = 1 + 3, .seconds = 30,
                              .client_id = ""});
  REQUIRE(sub.sync());
  {
    Agent agent(output(broker, ", qos: 1, protocol: \"5\", topic: 'rooms/{{ .Tag \"room\" }}'"));
    // Mosquitto answers PUBACK "not authorized": the batch is split down to that message.
    expect_one_rejected(agent, rooms({"open/a", "open/b", "locked", "open/c"}));
  }
  REQUIRE(sub.wait(20) == 0);
  CHECK(topics_of(sub.messages()) ==
        std::set<std::string>{"rooms/open/a", "rooms/open/b", "rooms/open/c"});
}

TEST_CASE("mqtt: over TLS with a user name, a persistent session, QoS 2 on MQTT 3.1.1") {
  if (skip_without_mosquitto()) return;
  sluice::testing::TempDir certs("mqtt-output-tls");
  std::string cert = certs / "cert.pem", key = certs / "key.pem";
  auto made = sluice::testing::run_command(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert);
  REQUIRE_MESSAGE(made.exit_code == 0, made.output);
  int tls_port = sluice::testing::free_port();
  Mosquitto broker("mqtt-output-tls", "listener " + std::to_string(tls_port) +
                                          " 127.0.0.1\ncertfile " + cert + "\nkeyfile " + key +
                                          "\n");
  REQUIRE(broker.start());
  REQUIRE(sluice::testing::wait_for_port(tls_port, 10));
  const std::string tls_output = "  - mqtt: {servers: [\"tls://127.0.0.1:" +
                                 std::to_string(tls_port) +
                                 "\"], timeout: 2s, retry_initial_backoff: 100ms, "
                                 "retry_max_backoff: 500ms, qos: 2, topic: secure, ";
  MqttSubscriber sub(broker,
                     {.topic = "secure", .qos = 2, .count = 1 + 5, .seconds = 30, .client_id = ""});
  REQUIRE(sub.sync());
  {
    Agent agent(tls_output + "tls_ca: '" + cert +
                "', client_id: sluice-tls-out, persistent_session: true, username: sluice-user, "
                "password: secret}\n");
    agent.send(sequence(0, 5));
    REQUIRE(eventually([&] { return agent.stats().metrics_written == 5; }, 20));
  }
  REQUIRE(sub.wait(20) == 0);
  CHECK(distinct_seqs(sub.messages()) == std::set<int64_t>{0, 1, 2, 3, 4});
  for (const MqttMessage& m : sub.messages()) CHECK(m.qos == 2);
  // Mosquitto logs the session's flags: MQTT 3.1.1 (p2), clean session off (c0), the user.
  CHECK(broker.log().find("as sluice-tls-out (p2, c0, k30, u'sluice-user')") != std::string::npos);
  {
    // Without the CA the handshake fails: the write is retried, nothing is sent.
    Agent untrusting(tls_output + "client_id: sluice-untrusting}\n");
    untrusting.send(sequence(5, 1));
    REQUIRE(eventually([&] { return untrusting.stats().retries >= 1; }, 20));
    CHECK(untrusting.stats().metrics_written == 0);
    CHECK(broker.log().find("as sluice-untrusting") == std::string::npos);
  }
}
