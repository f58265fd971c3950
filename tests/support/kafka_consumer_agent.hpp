// A kafka_consumer input in a pipeline of its own, writing to a recorder output: what the
// kafka_consumer integration tests run against the mock cluster.
#pragma once

#include <string>

#include "config/config.hpp"
#include "pipeline/pipeline.hpp"
#include "support/kafka_mock.hpp"
#include "support/test_plugins.hpp"

namespace sluice::testing {

// The test plugins (the recorder output) and the built-in kafka_consumer.
inline const plugin::Registry& consumer_registry() {
  using plugin::Kind;
  static const plugin::Registry registry = [] {
    plugin::Registry r;
    for (Kind kind : {Kind::kInput, Kind::kProcessor, Kind::kAggregator, Kind::kOutput,
                      Kind::kSerializer, Kind::kParser}) {
      for (const auto* info : test_registry().list(kind)) r.add(*info);
    }
    r.add(*plugin::Registry::builtins().find(Kind::kInput, "kafka_consumer"));
    return r;
  }();
  return registry;
}

// A pipeline of one kafka_consumer (its options as YAML flow-map entries) and a recorder
// output, started at once, stopped when it goes.
class ConsumerAgent {
 public:
  ConsumerAgent(const std::string& input, const std::string& recorder,
                const std::string& agent = "flush_interval: 100ms")
      : config_(config::load_text("agent: {" + agent +
                                      ", metric_batch_size: 1000, omit_hostname: true}\n"
                                      "inputs:\n  - kafka_consumer: {" +
                                      input + "}\noutputs:\n  - recorder: {name: " + recorder +
                                      "}\n",
                                  "kafka-consumer-test.yaml", consumer_registry())),
        pipeline_(config_, pipeline::SystemClock::instance()) {
    pipeline_.start();
  }
  ~ConsumerAgent() { pipeline_.stop(pipeline::SystemClock::instance().now() + 5'000'000'000); }
  ConsumerAgent(const ConsumerAgent&) = delete;
  ConsumerAgent& operator=(const ConsumerAgent&) = delete;

  void flush() { pipeline_.flush(); }
  pipeline::PluginStats& input_stats() { return pipeline_.inputs().at(0)->stats(); }

 private:
  config::Config config_;
  pipeline::Pipeline pipeline_;
};

// The kafka_consumer options that read from `cluster`, then `extra`.
inline std::string consumer(const KafkaMockCluster& cluster, const std::string& extra) {
  return "brokers: [\"" + cluster.bootstrap() + "\"], " + extra;
}

}  // namespace sluice::testing
