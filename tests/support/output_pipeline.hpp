// The integration tests of outputs send batches straight into a pipeline built from YAML with
// the output under test, started at once and stopped when it goes with a short last flush.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "config/config.hpp"
#include "pipeline/pipeline.hpp"

namespace sluice::testing {

struct OutputPipelineSettings {
  // The agent's settings; omit_hostname is always added, so metrics come out as sent.
  std::string agent = "flush_interval: 100ms, metric_batch_size: 500, metric_buffer_limit: 100000";
  const pipeline::Clock* clock = &pipeline::SystemClock::instance();
  int64_t stop_grace_ns = 2'000'000'000;  // the outputs' last flush at the end
};

class OutputPipeline {
 public:
  explicit OutputPipeline(const std::string& outputs_yaml, OutputPipelineSettings settings = {})
      : settings_(std::move(settings)),
        config_(config::load_text(
            "agent: {" + settings_.agent + ", omit_hostname: true}\noutputs:\n" + outputs_yaml,
            "output-test.yaml")),
        pipeline_(config_, *settings_.clock) {
    pipeline_.start();
  }
  ~OutputPipeline() { pipeline_.stop(settings_.clock->now() + settings_.stop_grace_ns); }
  OutputPipeline(const OutputPipeline&) = delete;
  OutputPipeline& operator=(const OutputPipeline&) = delete;

  void send(Batch batch) { REQUIRE(pipeline_.accept(std::move(batch))); }
  // The first output's statistics.
  pipeline::PluginStats& stats() { return pipeline_.outputs().at(0)->stats(); }

 private:
  OutputPipelineSettings settings_;
  config::Config config_;
  pipeline::Pipeline pipeline_;
};

}  // namespace sluice::testing
