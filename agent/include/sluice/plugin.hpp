// The C++ interfaces of plugins. A plugin only does its own job; the host-owned wrapper around
// it (pipeline/running_*.hpp) owns filters, renaming, extra tags, scheduling, buffering, retries
// and statistics.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "sluice/metric.hpp"
#include "sluice/options.hpp"

namespace sluice {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

// A plugin's logger: every line carries the plugin's kind, name and alias.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) = 0;
  virtual bool enabled(LogLevel level) const = 0;
  void debug(std::string_view m) { log(LogLevel::kDebug, m); }
  void info(std::string_view m) { log(LogLevel::kInfo, m); }
  void warn(std::string_view m) { log(LogLevel::kWarn, m); }
  void error(std::string_view m) { log(LogLevel::kError, m); }
};

// Where inputs and aggregators put their metrics. Safe to call from any thread.
class Accumulator {
 public:
  virtual ~Accumulator() = default;
  // A metric whose time is 0 gets the time of the current gather.
  virtual void add(Metric metric) = 0;
  // Adds many metrics at once: for service inputs one hand-over to the pipeline instead of one
  // per metric.
  virtual void add_batch(Batch batch) {
    for (Metric& metric : batch) add(std::move(metric));
  }
  // Reports a failure of this gather; it is logged and counted, and the gather goes on.
  virtual void add_error(std::string_view message) = 0;
  // Reports a record that could not be read (a bad line, a truncated packet): counted as
  // rejected and logged, at most about once a second per input with a count of the others.
  virtual void add_rejected(std::string_view message) { add_error(message); }
  // The time of the current gather in ns since the epoch (the scheduled tick, not the moment of
  // the call, so all metrics of one gather line up).
  virtual int64_t time() const = 0;
};

// Everything a plugin's factory gets.
struct PluginContext {
  const Options& options;
  Logger& log;
  // agent.state_dir: a folder the agent owns, for state that must survive a restart (empty:
  // keep nothing, as for plugins created outside the agent).
  std::string state_dir = {};
};

class Input {
 public:
  virtual ~Input() = default;
  // Called on every tick of the input's interval.
  virtual void gather(Accumulator& acc) = 0;
};

// An input that produces metrics on its own (a listener, a consumer): started once, then adds
// to the accumulator from its own threads until stopped. gather() is still called each
// interval for inputs that want it.
class ServiceInput : public Input {
 public:
  virtual void start(Accumulator& acc) = 0;
  virtual void stop() = 0;
  void gather(Accumulator&) override {}
};

class Processor {
 public:
  virtual ~Processor() = default;
  // Takes a batch and returns the processed batch; may drop, change or add metrics.
  virtual Batch process(Batch batch) = 0;
};

// The host serialises calls to add, push and reset.
class Aggregator {
 public:
  virtual ~Aggregator() = default;
  virtual void add(const Metric& metric) = 0;
  // Emits the aggregates of the window that ends now.
  virtual void push(Accumulator& acc) = 0;
  // Forgets the window's state.
  virtual void reset() = 0;
};

// The outcome of one write, which decides what the buffer does with the batch.
struct WriteResult {
  enum class Status {
    kOk,      // delivered: drop from the buffer
    kRetry,   // transient failure: keep at the front, back off, try again
    kReject,  // permanent rejection of the whole batch: drop and count as rejected
    kSplit,   // too large for the receiver: write it again in halves
  };
  Status status = Status::kOk;
  std::string error;
  std::chrono::nanoseconds retry_after{0};  // the server's own Retry-After, if it sent one

  static WriteResult ok() { return {}; }
  static WriteResult retry(std::string error, std::chrono::nanoseconds after = {}) {
    return {Status::kRetry, std::move(error), after};
  }
  static WriteResult reject(std::string error) { return {Status::kReject, std::move(error), {}}; }
  static WriteResult split(std::string error) { return {Status::kSplit, std::move(error), {}}; }
};

class Output {
 public:
  virtual ~Output() = default;
  // Opens connections. Called before the first write and again after a failed connect; a
  // failure is reported as retry (the server may come back) and never stops the agent.
  virtual WriteResult connect() { return WriteResult::ok(); }
  virtual WriteResult write(std::span<const Metric> batch) = 0;
  virtual void close() {}

  // Writing ahead, for outputs whose server acknowledges asynchronously (a Kafka producer):
  // the next batches go out while the oldest one waits for its acknowledgements, instead of
  // the connection idling between batches. An output that can returns from
  // max_writes_in_flight() how many batches it may have started and not finished at once (1:
  // only write() is used). The agent then calls start_write() for each batch, oldest first,
  // and finish_write() to wait for the oldest started batch and learn its outcome, as write()
  // would give it (a start_write that throws fails its batch the same way). The spans stay
  // valid until their batch is finished. After a failed batch the agent finishes the later
  // ones too and ignores their outcome: it writes them again, so their metrics may arrive
  // twice, as after any retry.
  virtual size_t max_writes_in_flight() const { return 1; }
  virtual void start_write(std::span<const Metric> /*batch*/) {}
  virtual WriteResult finish_write() { return WriteResult::retry("writing ahead not supported"); }
};

// Where and why a record was rejected by a parser. Line and column are 1-based and count bytes;
// 0 where the format has no lines (a binary packet, a JSON document's path instead).
struct ParseError {
  size_t line = 0;
  size_t column = 0;
  std::string reason;
};

// Turns bytes into metrics (data_format of inputs).
class Parser {
 public:
  virtual ~Parser() = default;
  // Parses one whole message (a datagram, a request body, a file, or a run of complete lines of
  // a stream) and appends its metrics to `out`; records without a time get `now` (ns since the
  // epoch). A bad record is skipped with an error appended to `errors`; the rest goes on.
  virtual void parse(std::string_view data, int64_t now, Batch& out,
                     std::vector<ParseError>& errors) = 0;
  // Whether any run of complete lines is a message on its own (influx, graphite, csv with its
  // header remembered): a stream input then hands over many lines at once instead of one by one.
  virtual bool splits_on_lines() const { return false; }
};

// Turns metrics into bytes (data_format of outputs).
class Serializer {
 public:
  virtual ~Serializer() = default;
  // Appends the metric's text to out. A metric with nothing to write appends nothing.
  virtual void serialize(const Metric& metric, std::string& out) = 0;
  // Appends a whole batch; formats with a batch envelope (json) override this.
  virtual void serialize_batch(std::span<const Metric> batch, std::string& out) {
    for (const Metric& m : batch) serialize(m, out);
  }
};

}  // namespace sluice
