#include "pipeline/pipeline.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "core/log.hpp"
#include "pipeline/plugin_factory.hpp"

namespace sluice::pipeline {

std::string host_name(const config::AgentSettings& agent) {
  if (!agent.hostname.empty()) return agent.hostname;
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

Pipeline::Pipeline(const config::Config& config, const Clock& clock, const Carryover& reusable,
                   size_t channel_capacity)
    : clock_(clock), channel_(channel_capacity) {
  const config::AgentSettings& agent = config.agent;
  InputDefaults input_defaults;
  input_defaults.interval = agent.interval.count();
  input_defaults.round_interval = agent.round_interval;
  input_defaults.jitter = agent.collection_jitter.count();
  input_defaults.offset = agent.collection_offset.count();
  input_defaults.precision = agent.precision.count();
  input_defaults.global_tags = config.global_tags;
  if (!agent.omit_hostname) input_defaults.global_tags.emplace_back("host", host_name(agent));

  for (const config::PluginConfig& pc : config.inputs) {
    inputs_.push_back(within_plugin_config(
        pc, [&] { return std::make_unique<RunningInput>(pc, input_defaults, clock_); }));
  }
  for (const config::PluginConfig& pc : config.processors) {
    processors_.push_back(
        within_plugin_config(pc, [&] { return std::make_unique<RunningProcessor>(pc); }));
  }
  AggregatorList aggregator_candidates = reusable.aggregators;
  for (const config::PluginConfig& pc : config.aggregators) {
    auto same = std::find_if(aggregator_candidates.begin(), aggregator_candidates.end(),
                             [&](const auto& a) { return a->identity() == pc.identity; });
    if (same != aggregator_candidates.end()) {
      aggregators_.push_back(*same);  // open windows and all
      aggregator_candidates.erase(same);
      continue;
    }
    aggregators_.push_back(within_plugin_config(
        pc, [&] { return std::make_shared<RunningAggregator>(pc, clock_); }));
  }
  if (!aggregators_.empty() && !agent.skip_processors_after_aggregators) {
    for (const config::PluginConfig& pc : config.processors) {
      aggregate_processors_.push_back(
          within_plugin_config(pc, [&] { return std::make_unique<RunningProcessor>(pc); }));
    }
  }

  OutputDefaults output_defaults;
  output_defaults.flush_interval = agent.flush_interval.count();
  output_defaults.flush_jitter = agent.flush_jitter.count();
  output_defaults.batch_size = agent.metric_batch_size;
  output_defaults.buffer_limit = agent.metric_buffer_limit;
  OutputList candidates = reusable.outputs;
  for (const config::PluginConfig& pc : config.outputs) {
    // Agent settings are output defaults, so they are part of an output's identity.
    std::string identity = pc.identity + "\n" + config.agent_identity;
    auto same = std::find_if(candidates.begin(), candidates.end(),
                             [&](const auto& o) { return o->identity() == identity; });
    if (same != candidates.end()) {
      (*same)->keep_blocking();
      outputs_.push_back(*same);
      candidates.erase(same);
      continue;
    }
    config::PluginConfig with_identity = pc;
    with_identity.identity = identity;
    outputs_.push_back(within_plugin_config(pc, [&] {
      return std::make_shared<RunningOutput>(with_identity, output_defaults, clock_);
    }));
  }
}

Pipeline::~Pipeline() {
  if (started_) stop(clock_.now());
}

void Pipeline::connect_outputs() {
  if (outputs_connected_) return;
  outputs_connected_ = true;
  using Behavior = RunningOutput::StartupErrorBehavior;
  std::erase_if(outputs_, [](const std::shared_ptr<RunningOutput>& output) {
    if (output->startup_error_behavior() == Behavior::kRetry) return false;
    std::string error = output->connect_now();
    if (error.empty()) return false;
    if (output->startup_error_behavior() == Behavior::kError) {
      throw std::runtime_error(output->id() + ": cannot connect at startup: " + error +
                               " (startup_error_behavior: error)");
    }
    core::log_warn(fmt::format("[{}] cannot connect at startup, running without it: {} "
                               "(startup_error_behavior: ignore)", output->id(), error));
    return true;
  });
}

void Pipeline::start() {
  connect_outputs();
  started_ = true;
  for (auto& output : outputs_) output->start();
  process_thread_ = std::thread([this] { process_loop(); });
  if (!aggregators_.empty()) aggregate_thread_ = std::thread([this] { aggregate_loop(); });
  for (auto& input : inputs_) input->start(channel_);
}

Batch Pipeline::process(Batch batch) {
  batch = run_chain(processors_, std::move(batch));
  if (aggregators_.empty()) return batch;
  std::erase_if(batch, [&](const Metric& m) {
    bool drop = false;
    for (auto& aggregator : aggregators_) drop |= aggregator->add(m);
    return drop;
  });
  // A new window, or event time, may make a window due before the aggregation thread wakes.
  int64_t due = INT64_MAX;
  for (auto& aggregator : aggregators_) due = std::min(due, aggregator->due());
  bool earlier;
  {
    std::lock_guard lock(mutex_);
    earlier = due < aggregate_deadline_;
    if (earlier) aggregate_now_ = true;
  }
  if (earlier) wake_.notify_all();
  return batch;
}

void Pipeline::fan_out(Batch batch) {
  if (batch.empty()) return;
  // One batch shared by every output.
  auto shared = std::make_shared<Batch>(std::move(batch));
  for (auto& output : outputs_) output->add(shared);
}

void Pipeline::process_loop() {
  while (auto batch = channel_.pop()) fan_out(process(std::move(*batch)));
}

void Pipeline::aggregate_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    aggregate_deadline_ = INT64_MAX;
    for (auto& aggregator : aggregators_) {
      aggregate_deadline_ = std::min(aggregate_deadline_, aggregator->due());
    }
    clock_.wait_until(lock, wake_, aggregate_deadline_,
                      [&] { return stopping_ || aggregate_now_; });
    if (stopping_) break;
    aggregate_now_ = false;
    lock.unlock();
    Batch pushed;
    for (auto& aggregator : aggregators_) aggregator->push_due(pushed);
    fan_out(run_chain(aggregate_processors_, std::move(pushed)));
    lock.lock();
  }
}

Carryover Pipeline::stop(int64_t deadline, const std::set<std::string>& keep) {
  if (!started_) return {};
  started_ = false;
  // Order matters: nothing new enters, then each stage drains into the next. An input may be
  // blocked upstream of an output that blocks when full: such outputs wait for room only until
  // the deadline, so the stages can drain and the inputs stop.
  auto real_deadline = std::chrono::steady_clock::now() +
                       std::chrono::nanoseconds(std::max<int64_t>(0, deadline - clock_.now()));
  for (auto& output : outputs_) output->limit_blocking(real_deadline);
  for (auto& input : inputs_) input->stop();
  channel_.close();
  if (process_thread_.joinable()) process_thread_.join();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (aggregate_thread_.joinable()) aggregate_thread_.join();
  Carryover kept;
  Batch last;
  for (auto& aggregator : aggregators_) {
    if (keep.count(aggregator->identity()) != 0) {
      kept.aggregators.push_back(aggregator);
    } else {
      aggregator->push_all(last);
    }
  }
  fan_out(run_chain(aggregate_processors_, std::move(last)));

  std::vector<std::thread> stoppers;
  // Outputs finish in parallel, so one slow server does not eat the others' deadline.
  for (auto& output : outputs_) {
    if (keep.count(output->identity()) != 0) {
      kept.outputs.push_back(output);
    } else {
      stoppers.emplace_back([output, deadline] { output->stop(deadline); });
    }
  }
  for (auto& t : stoppers) t.join();
  return kept;
}

void Pipeline::flush() {
  for (auto& output : outputs_) output->flush_now();
}

Batch Pipeline::gather_once(int64_t time, int64_t rate_gap_ns) {
  bool any_rate = false;
  std::vector<bool> rate(inputs_.size(), false);
  for (size_t i = 0; i < inputs_.size(); ++i) {
    rate[i] = inputs_[i]->needs_previous_gather();
    if (rate[i]) {
      inputs_[i]->gather_once(time - rate_gap_ns);  // the sample the second gather needs
      any_rate = true;
    }
  }
  if (any_rate && rate_gap_ns > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(rate_gap_ns));
  Batch all;
  for (auto& input : inputs_) {
    Batch batch = input->gather_once(time);
    all.insert(all.end(), std::make_move_iterator(batch.begin()),
               std::make_move_iterator(batch.end()));
  }
  all = process(std::move(all));
  Batch pushed;
  for (auto& aggregator : aggregators_) aggregator->push_all(pushed);
  pushed = run_chain(aggregate_processors_, std::move(pushed));
  all.insert(all.end(), std::make_move_iterator(pushed.begin()),
             std::make_move_iterator(pushed.end()));
  return all;
}

}  // namespace sluice::pipeline
