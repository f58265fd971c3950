// One running configuration: inputs -> processors -> aggregators -> processors -> outputs.
//
//   inputs (one thread each) --[bounded channel]--> processing thread: processor chain,
//   aggregators' add, originals unless dropped --> fan-out (one shared batch) --> outputs
//   aggregation thread: due windows -> second processor chain -> fan-out
//   outputs (one thread each): buffer, flush, retry
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "pipeline/channel.hpp"
#include "pipeline/clock.hpp"
#include "pipeline/running_aggregator.hpp"
#include "pipeline/running_input.hpp"
#include "pipeline/running_output.hpp"
#include "pipeline/running_processor.hpp"

namespace sluice::pipeline {

using OutputList = std::vector<std::shared_ptr<RunningOutput>>;
using AggregatorList = std::vector<std::shared_ptr<RunningAggregator>>;

// What one pipeline hands to the next on reload: outputs with their buffers, aggregators
// with their open windows.
struct Carryover {
  OutputList outputs;
  AggregatorList aggregators;
};

class Pipeline {
 public:
  // Creates every plugin of `config` (throws config::ConfigError). Outputs and aggregators in
  // `reusable` whose identity matches one of the config are taken over as they are.
  Pipeline(const config::Config& config, const Clock& clock, const Carryover& reusable = {},
           size_t channel_capacity = 10000);
  ~Pipeline();

  // Connects the outputs whose startup_error_behavior is error or ignore: throws
  // std::runtime_error for the first, leaves out the second when the connect fails. Called by
  // start(); call it earlier to find out before anything runs.
  void connect_outputs();
  void start();
  // Stops inputs, drains the processors, pushes open windows and lets every output write what
  // it holds before `deadline`. Outputs and aggregators whose identity is in `keep` are handed
  // back as they are (outputs running, windows open). Returns them.
  Carryover stop(int64_t deadline, const std::set<std::string>& keep = {});

  // Asks every output to write now (SIGUSR1).
  void flush();

  // One pass without threads, for `sluice test` and `sluice once`: gathers every input once at
  // `time` (rate inputs such as cpu twice, `rate_gap_ns` apart, reporting the second), runs the
  // processors, and pushes the aggregators.
  Batch gather_once(int64_t time, int64_t rate_gap_ns);
  // Hands a batch to the outputs' buffers, as the pipeline does.
  void fan_out(Batch batch);
  // Hands a batch to the running pipeline as an input would (blocks while the channel is
  // full). False once stopping.
  bool accept(Batch batch) { return channel_.push(std::move(batch)); }

  const OutputList& outputs() const { return outputs_; }
  const AggregatorList& aggregators() const { return aggregators_; }
  Carryover carryover() const { return {outputs_, aggregators_}; }
  const std::vector<std::unique_ptr<RunningInput>>& inputs() const { return inputs_; }

 private:
  void process_loop();
  void aggregate_loop();
  // Runs the processors and aggregators on a batch from the inputs; returns what goes on.
  Batch process(Batch batch);

  const Clock& clock_;
  BatchChannel channel_;
  std::vector<std::unique_ptr<RunningInput>> inputs_;
  std::vector<std::unique_ptr<RunningProcessor>> processors_;
  AggregatorList aggregators_;
  // Aggregates go through a second set of the processors, so stateful ones keep separate state
  // (none with agent.skip_processors_after_aggregators).
  std::vector<std::unique_ptr<RunningProcessor>> aggregate_processors_;
  OutputList outputs_;

  std::thread process_thread_, aggregate_thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool aggregate_now_ = false;  // a window became due sooner than the thread waits for
  int64_t aggregate_deadline_ = INT64_MAX;  // when the aggregation thread wakes next
  bool started_ = false;
  bool outputs_connected_ = false;
};

// The machine's host name, or agent.hostname when set.
std::string host_name(const config::AgentSettings& agent);

}  // namespace sluice::pipeline
