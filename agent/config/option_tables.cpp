#include "config/option_tables.hpp"

#include "core/filter.hpp"

namespace sluice::config {

const std::vector<OptionSpec> kAgentOptions = {
    {"interval", OptionType::kDuration, "10s", "Default interval between gathers of each input"},
    {"round_interval", OptionType::kBool, "true",
     "Align gathers to multiples of the interval (:00, :10, ... for 10s)"},
    {"collection_jitter", OptionType::kDuration, "0s",
     "Sleep a random time up to this before each gather, to spread load"},
    {"collection_offset", OptionType::kDuration, "0s", "Shift every gather by this much"},
    {"flush_interval", OptionType::kDuration, "10s", "Default interval between output flushes"},
    {"flush_jitter", OptionType::kDuration, "0s", "Random extra delay of each flush, up to this"},
    {"metric_batch_size", OptionType::kInt, "1000", "Metrics per write to an output"},
    {"metric_buffer_limit", OptionType::kInt, "10000",
     "Metrics each output buffers while it cannot write; the oldest are dropped beyond it"},
    {"precision", OptionType::kDuration, "0s",
     "Round gathered timestamps to this (1s, 1ms, 1us; 0s keeps nanoseconds)"},
    {"hostname", OptionType::kString, "", "The host tag's value (default: the machine's name)"},
    {"omit_hostname", OptionType::kBool, "false", "Do not add the host tag"},
    {"log_level", OptionType::kString, "info", "debug, info, warn or error"},
    {"debug", OptionType::kBool, "false", "Same as log_level: debug"},
    {"quiet", OptionType::kBool, "false", "Same as log_level: error"},
    {"logfile", OptionType::kString, "", "Log to this file instead of stderr"},
    {"plugin_dirs", OptionType::kStringList, "[/usr/lib/sluice/plugins]",
     "Folders searched for plugin shared objects"},
    {"plugin_load_error", OptionType::kString, "error",
     "A plugin shared object that cannot be loaded: error (refuse to start) or skip (log it)"},
    {"shutdown_timeout", OptionType::kDuration, "30s",
     "On shutdown, how long outputs may take to write what they hold"},
    {"skip_processors_after_aggregators", OptionType::kBool, "false",
     "Send what the aggregators emit straight to the outputs instead of through the processors "
     "a second time"},
    {"state_dir", OptionType::kString, "/var/lib/sluice",
     "Folder where plugins keep state across restarts (tail's read offsets); created if missing"},
};

namespace {

std::vector<OptionSpec> with_filters(std::vector<OptionSpec> own) {
  own.insert(own.end(), core::filter_options().begin(), core::filter_options().end());
  return own;
}

const std::vector<OptionSpec> kInputCommon = with_filters({
    {"alias", OptionType::kString, "", "A name for this instance in logs and internal metrics"},
    {"interval", OptionType::kDuration, "", "Gather interval (default: the agent's)"},
    {"precision", OptionType::kDuration, "", "Timestamp rounding (default: the agent's)"},
    {"collection_jitter", OptionType::kDuration, "", "Gather jitter (default: the agent's)"},
    {"collection_offset", OptionType::kDuration, "", "Gather offset (default: the agent's)"},
    {"name_override", OptionType::kString, "", "Replace the measurement name"},
    {"name_prefix", OptionType::kString, "", "Prepend to the measurement name"},
    {"name_suffix", OptionType::kString, "", "Append to the measurement name"},
    {"tags", OptionType::kStringMap, "", "Tags added to every metric of this input"},
});

const std::vector<OptionSpec> kProcessorCommon = with_filters({
    {"alias", OptionType::kString, "", "A name for this instance in logs and internal metrics"},
    {"order", OptionType::kInt, "0",
     "Position in the chain; lower runs first, equal orders keep file order"},
});

const std::vector<OptionSpec> kAggregatorCommon = with_filters({
    {"alias", OptionType::kString, "", "A name for this instance in logs and internal metrics"},
    {"period", OptionType::kDuration, "30s", "Length of each aggregation window"},
    {"delay", OptionType::kDuration, "100ms", "Wait this long after a window ends before pushing"},
    {"grace", OptionType::kDuration, "0s", "Accept metrics this much older than the window"},
    {"drop_original", OptionType::kBool, "false",
     "Drop the metrics this aggregator selects, also those too late for its windows"},
    {"window", OptionType::kString, "tumbling",
     "tumbling: back-to-back windows of `period`; sliding: windows of `size` every `every`"},
    {"size", OptionType::kDuration, "", "Sliding windows: their length (default: period)"},
    {"every", OptionType::kDuration, "", "Sliding windows: time between starts (default: period)"},
    {"time_source", OptionType::kString, "event",
     "Which time puts a metric in a window: event (its timestamp) or arrival"},
    {"allowed_lateness", OptionType::kDuration, "0s",
     "Keep pushed windows this long; a late metric updates its window, pushed again"},
    {"late_metrics", OptionType::kString, "update",
     "A metric for a pushed window within allowed_lateness: update or drop"},
    {"max_time_ahead", OptionType::kDuration, "10m",
     "Event time: drop (and count) metrics stamped this far past the clock (0s: no limit)"},
    {"max_series", OptionType::kInt, "100000",
     "Series kept at most; beyond it the least recently updated is evicted (0: no limit)"},
    {"name_override", OptionType::kString, "", "Replace the aggregate's measurement name"},
    {"name_prefix", OptionType::kString, "", "Prepend to the aggregate's measurement name"},
    {"name_suffix", OptionType::kString, "", "Append to the aggregate's measurement name"},
    {"tags", OptionType::kStringMap, "", "Tags added to every aggregate"},
});

const std::vector<OptionSpec> kOutputCommon = with_filters({
    {"alias", OptionType::kString, "", "A name for this instance in logs and internal metrics"},
    {"flush_interval", OptionType::kDuration, "", "Flush interval (default: the agent's)"},
    {"flush_jitter", OptionType::kDuration, "", "Flush jitter (default: the agent's)"},
    {"metric_batch_size", OptionType::kInt, "", "Metrics per write (default: the agent's)"},
    {"metric_buffer_limit", OptionType::kInt, "", "Buffered metrics (default: the agent's)"},
    {"when_full", OptionType::kString, "drop_oldest",
     "When the buffer is full: drop_oldest (counted and logged) or block the pipeline"},
    {"startup_error_behavior", OptionType::kString, "retry",
     "If the first connect fails: retry (keep buffering and retrying), error (refuse to "
     "start) or ignore (run without this output)"},
    {"retry_initial_backoff", OptionType::kDuration, "1s", "First wait after a failed write"},
    {"retry_max_backoff", OptionType::kDuration, "1m", "Longest wait between retries"},
    {"name_override", OptionType::kString, "", "Replace the measurement name"},
    {"name_prefix", OptionType::kString, "", "Prepend to the measurement name"},
    {"name_suffix", OptionType::kString, "", "Append to the measurement name"},
});

const std::vector<OptionSpec> kNone;

}  // namespace

const std::vector<OptionSpec>& common_options(plugin::Kind kind) {
  switch (kind) {
    case plugin::Kind::kInput: return kInputCommon;
    case plugin::Kind::kProcessor: return kProcessorCommon;
    case plugin::Kind::kAggregator: return kAggregatorCommon;
    case plugin::Kind::kOutput: return kOutputCommon;
    case plugin::Kind::kSerializer:
    case plugin::Kind::kParser: return kNone;
  }
  return kNone;
}

std::vector<OptionSpec> all_options(const plugin::PluginInfo& info,
                                    const plugin::Registry& registry) {
  std::vector<OptionSpec> all = common_options(info.kind);
  all.insert(all.end(), info.options.begin(), info.options.end());
  if (info.uses_serializer) {
    all.push_back({"data_format", OptionType::kString, "influx",
                   "How metrics are written: influx (line protocol) or json"});
    for (const plugin::PluginInfo* serializer : registry.list(plugin::Kind::kSerializer)) {
      all.insert(all.end(), serializer->options.begin(), serializer->options.end());
    }
  }
  if (info.uses_parser) {
    all.push_back({"data_format", OptionType::kString, "influx",
                   "How the bytes read are parsed (`sluice plugins` lists the formats)"});
    for (const plugin::PluginInfo* parser : registry.list(plugin::Kind::kParser)) {
      all.insert(all.end(), parser->options.begin(), parser->options.end());
    }
  }
  return all;
}

}  // namespace sluice::config
