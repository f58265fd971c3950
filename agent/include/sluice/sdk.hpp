// The C++ SDK for plugin shared objects. A plugin is the same class as a built-in one (an
// Input, ServiceInput, Processor, Aggregator, Output or Serializer of sluice/plugin.hpp) plus one
// line that exports it:
//
//   SLUICE_PLUGIN("1.0.0", sluice::sdk::plugin<Numbers>("numbers", "Reads numbers", kOptions));
//
// The first argument is the library's version; then one sluice::sdk::plugin<T>(name,
// description, options[, flags]) per plugin the library carries. The class is constructed from
// a `const PluginContext&`, a `(const Options&, Logger&)`, a `const Options&`, or nothing.
//
// Header-only over the C ABI (plugin_abi.h): metrics cross as C views and are copied into
// sluice::Metric objects on this side, so the library and the agent may use different
// compilers and standard libraries. Every exception stops at the boundary and becomes an error
// code and message, which the agent logs with the instance's alias. Build with
// -fvisibility=hidden (find_package(sluice)'s sluice_add_plugin() and `pkg-config --cflags
// sluice` do), so that the library exports nothing but sluice_plugin_init.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <initializer_list>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sluice/abi_metric.hpp"
#include "sluice/metric.hpp"
#include "sluice/options.hpp"
#include "sluice/plugin.hpp"
#include "sluice/plugin_abi.h"

namespace sluice::sdk {

namespace detail {
template <typename T>
struct ViewProcessorGlue;
}  // namespace detail

// Flags of plugin<T>(): an input that reports differences between gathers (`sluice test`
// gathers it twice and prints the second).
inline constexpr uint32_t kNeedsPreviousGather = SLUICE_PLUGIN_NEEDS_PREVIOUS_GATHER;

// One plugin of a library, as made by plugin<T>().
struct PluginSpec {
  uint32_t kind = 0;
  std::string name;
  std::string description;
  std::vector<OptionSpec> options;
  uint32_t flags = 0;
  void* (*create)(const sluice_create_args*, sluice_error*) = nullptr;
  void (*destroy)(void*) = nullptr;
  // Fills the kind's callbacks; `storage` has room for the largest callbacks struct.
  const void* (*callbacks)(void* storage) = nullptr;
};

// A read-only view of one of the agent's metrics, valid during the call that gives it. Nothing
// is copied until asked for (to_metric(), field()).
class MetricView {
 public:
  explicit MetricView(const sluice_metric& v) : v_(&v) {}

  std::string_view name() const { return abi::to_view(v_->name); }
  int64_t time() const { return v_->time_ns; }
  ValueType type() const { return abi::value_type(v_->value_type); }

  // Tags, sorted by key.
  size_t tag_count() const { return v_->tag_count; }
  std::string_view tag_key(size_t i) const { return abi::to_view(v_->tags[i].key); }
  std::string_view tag_value(size_t i) const { return abi::to_view(v_->tags[i].value); }
  std::optional<std::string_view> tag(std::string_view key) const {
    size_t lo = 0, hi = v_->tag_count;
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      std::string_view k = tag_key(mid);
      if (k == key) return tag_value(mid);
      if (k < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return std::nullopt;
  }

  // Fields, in the metric's order.
  size_t field_count() const { return v_->field_count; }
  std::string_view field_key(size_t i) const { return abi::to_view(v_->fields[i].key); }
  FieldValue field_value(size_t i) const {
    FieldValue value;
    abi::field_value(v_->fields[i], value);
    return value;
  }
  std::optional<FieldValue> field(std::string_view key) const {
    for (size_t i = 0; i < v_->field_count; ++i) {
      if (field_key(i) == key) return field_value(i);
    }
    return std::nullopt;
  }
  // A numeric field (float, int or uint) as a double.
  std::optional<double> number(std::string_view key) const {
    for (size_t i = 0; i < v_->field_count; ++i) {
      const sluice_field& f = v_->fields[i];
      if (field_key(i) != key) continue;
      if (f.type == SLUICE_FIELD_FLOAT) return f.value.f64;
      if (f.type == SLUICE_FIELD_INT) return static_cast<double>(f.value.i64);
      if (f.type == SLUICE_FIELD_UINT) return static_cast<double>(f.value.u64);
      return std::nullopt;
    }
    return std::nullopt;
  }

  Metric to_metric() const { return abi::metric_from_view(*v_); }
  const sluice_metric& c_view() const { return *v_; }

 private:
  const sluice_metric* v_;
};

// The agent's batch as a ViewProcessor sees it: views of the metrics as they came in, and
// changes that apply in place when process() returns (so no view goes stale meanwhile). What
// is not dropped goes on in its order, then what was added.
class MetricBatch {
 public:
  size_t size() const { return count_; }
  MetricView operator[](size_t i) const { return MetricView(*metrics_[i]); }

  void drop(size_t i) { dropped_.at(i) = 1; }
  void set_name(size_t i, std::string_view name) { edit(i, Edit::kName, name); }
  void set_time(size_t i, int64_t time) { edit(i, Edit::kTime).time = time; }
  void set_tag(size_t i, std::string_view key, std::string_view value) {
    edit(i, Edit::kSetTag, key).text.assign(value);
  }
  void remove_tag(size_t i, std::string_view key) { edit(i, Edit::kRemoveTag, key); }
  void set_field(size_t i, std::string_view key, FieldValue value) {
    edit(i, Edit::kSetField, key).field = std::move(value);
  }
  void remove_field(size_t i, std::string_view key) { edit(i, Edit::kRemoveField, key); }
  void add(Metric metric) { added_.push_back(std::move(metric)); }

 private:
  template <typename>
  friend struct detail::ViewProcessorGlue;

  struct Edit {
    enum Op { kName, kTime, kSetTag, kRemoveTag, kSetField, kRemoveField };
    size_t index = 0;
    Op op = kName;
    std::string key;
    std::string text;
    int64_t time = 0;
    FieldValue field;
  };

  Edit& edit(size_t i, Edit::Op op, std::string_view key = {}) {
    if (i >= count_) throw std::out_of_range("metric index out of range");
    if (used_ == edits_.size()) edits_.emplace_back();
    Edit& e = edits_[used_++];  // reused from batch to batch, with their strings
    e.index = i;
    e.op = op;
    e.key.assign(key);
    return e;
  }
  void reset(const sluice_metric* const* metrics, size_t count) {
    metrics_ = metrics;
    count_ = count;
    dropped_.assign(count, 0);
    used_ = 0;
    added_.clear();
  }

  const sluice_metric* const* metrics_ = nullptr;
  size_t count_ = 0;
  std::vector<uint8_t> dropped_;
  std::vector<Edit> edits_;
  size_t used_ = 0;
  Batch added_;
};

// A processor that works on the agent's metrics in place instead of on copies: for plugins on
// the hot path. A pass-through costs what the boundary costs, not a copy of every metric.
class ViewProcessor {
 public:
  virtual ~ViewProcessor() = default;
  virtual void process(MetricBatch& batch) = 0;
};

namespace detail {

using abi::to_str;
using abi::to_view;

inline void set_error(const sluice_host_api* host, sluice_error* error, std::string_view message) {
  if (host != nullptr && error != nullptr) host->error_set(error, to_str(message));
}

// Runs `body` and turns every exception into an error code and message: nothing thrown in a
// plugin may unwind into the agent, which may not even be built with the same compiler.
template <typename Body>
sluice_status guard(const sluice_host_api* host, sluice_error* error, Body&& body) noexcept {
  try {
    return body();
  } catch (const OptionError& e) {
    set_error(host, error, e.what());
    if (host != nullptr && error != nullptr) host->error_set_option(error, to_str(e.option()));
    return SLUICE_ERROR_OPTION;
  } catch (const std::exception& e) {
    set_error(host, error, e.what());
  } catch (...) {
    set_error(host, error, "unknown exception");
  }
  return SLUICE_ERROR;
}

// The agent's logger for this instance.
class HostLogger final : public Logger {
 public:
  HostLogger(const sluice_host_api* host, sluice_logger* logger) : host_(host), logger_(logger) {}
  void log(LogLevel level, std::string_view message) override {
    host_->log(logger_, static_cast<int32_t>(level), to_str(message));
  }
  bool enabled(LogLevel level) const override {
    return host_->log_enabled(logger_, static_cast<int32_t>(level)) != 0;
  }

 private:
  const sluice_host_api* host_;
  sluice_logger* logger_;
};

// The agent's accumulator: each metric is handed over as a view, which the agent copies.
class HostAccumulator final : public Accumulator {
 public:
  HostAccumulator(const sluice_host_api* host, sluice_accumulator* acc) : host_(host), acc_(acc) {}
  void add(Metric metric) override {
    abi::with_view(metric, [&](const sluice_metric& v) { host_->accumulator_add(acc_, &v); });
  }
  void add_error(std::string_view message) override {
    host_->accumulator_add_error(acc_, to_str(message));
  }
  int64_t time() const override { return host_->accumulator_time(acc_); }

 private:
  const sluice_host_api* host_;
  sluice_accumulator* acc_;
};

inline void check_read(sluice_status status, std::string_view name, const char* type) {
  if (status != SLUICE_OK) {
    throw std::logic_error("option \"" + std::string(name) + "\": the agent has no " + type +
                           " value for it");
  }
}

// The instance's options, read from the agent into an Options object like a built-in gets.
inline Options read_options(const sluice_host_api* host, const sluice_options* in,
                            std::span<const OptionSpec> table) {
  Options out;
  for (const OptionSpec& spec : table) {
    sluice_str name = to_str(spec.name);
    bool given = host->option_is_set(in, name) != 0;
    std::string key(spec.name);
    switch (spec.type) {
      case OptionType::kBool: {
        int32_t v = 0;
        check_read(host->option_bool(in, name, &v), spec.name, "bool");
        out.set(key, v != 0, given);
        break;
      }
      case OptionType::kInt: {
        int64_t v = 0;
        check_read(host->option_int(in, name, &v), spec.name, "int");
        out.set(key, v, given);
        break;
      }
      case OptionType::kFloat: {
        double v = 0;
        check_read(host->option_float(in, name, &v), spec.name, "float");
        out.set(key, v, given);
        break;
      }
      case OptionType::kString: {
        sluice_str v{};
        check_read(host->option_string(in, name, &v), spec.name, "string");
        out.set(key, std::string(to_view(v)), given);
        break;
      }
      case OptionType::kDuration: {
        int64_t v = 0;
        check_read(host->option_duration(in, name, &v), spec.name, "duration");
        out.set(key, std::chrono::nanoseconds(v), given);
        break;
      }
      case OptionType::kSize: {
        uint64_t v = 0;
        check_read(host->option_size(in, name, &v), spec.name, "size");
        out.set(key, v, given);
        break;
      }
      default: {
        size_t count = 0;
        check_read(host->option_count(in, name, &count), spec.name, "collection");
        auto item = [&](size_t i, sluice_str& k, sluice_str& v) {
          check_read(host->option_item(in, name, i, &k, &v), spec.name, "collection");
        };
        auto sub = [&](size_t i, std::vector<std::pair<std::string, std::string>>& rows) {
          size_t n = 0;
          check_read(host->option_sub_count(in, name, i, &n), spec.name, "collection");
          for (size_t j = 0; j < n; ++j) {
            sluice_str k{}, v{};
            check_read(host->option_sub_item(in, name, i, j, &k, &v), spec.name, "collection");
            rows.emplace_back(std::string(to_view(k)), std::string(to_view(v)));
          }
        };
        if (spec.type == OptionType::kStringList) {
          std::vector<std::string> list;
          for (size_t i = 0; i < count; ++i) {
            sluice_str k{}, v{};
            item(i, k, v);
            list.emplace_back(to_view(v));
          }
          out.set(key, std::move(list), given);
        } else if (spec.type == OptionType::kStringMap) {
          StringMap map;
          for (size_t i = 0; i < count; ++i) {
            sluice_str k{}, v{};
            item(i, k, v);
            map.emplace_back(std::string(to_view(k)), std::string(to_view(v)));
          }
          out.set(key, std::move(map), given);
        } else if (spec.type == OptionType::kStringMapList) {
          std::vector<StringMap> maps(count);
          for (size_t i = 0; i < count; ++i) sub(i, maps[i]);
          out.set(key, std::move(maps), given);
        } else {
          StringListMap map;
          for (size_t i = 0; i < count; ++i) {
            sluice_str k{}, v{};
            item(i, k, v);
            std::vector<std::pair<std::string, std::string>> rows;
            sub(i, rows);
            std::vector<std::string> values;
            for (auto& row : rows) values.push_back(std::move(row.second));
            map.emplace_back(std::string(to_view(k)), std::move(values));
          }
          out.set(key, std::move(map), given);
        }
        break;
      }
    }
  }
  return out;
}

template <typename T>
std::unique_ptr<T> construct(const PluginContext& context) {
  if constexpr (std::is_constructible_v<T, const PluginContext&>) {
    return std::make_unique<T>(context);
  } else if constexpr (std::is_constructible_v<T, const Options&, Logger&>) {
    return std::make_unique<T>(context.options, context.log);
  } else if constexpr (std::is_constructible_v<T, const Options&>) {
    return std::make_unique<T>(context.options);
  } else {
    static_assert(std::is_default_constructible_v<T>,
                  "a plugin class is constructed from a const PluginContext&, from "
                  "(const Options&, Logger&), from a const Options&, or from nothing");
    return std::make_unique<T>();
  }
}

// What a descriptor's `data` points to: what create() needs to know of its plugin.
struct PluginData {
  std::vector<OptionSpec> options;
};

// One instance: the plugin object and what its calls reuse.
template <typename T>
struct Instance {
  Instance(const sluice_create_args& args, Options opts)
      : host(args.host),
        options(std::move(opts)),
        logger(args.host, args.logger),
        plugin(construct<T>(PluginContext{options, logger})) {}

  const sluice_host_api* host;
  Options options;    // the plugin may keep a reference, as built-ins may
  HostLogger logger;  // likewise; both outlive the plugin
  std::unique_ptr<T> plugin;
  std::unique_ptr<HostAccumulator> service_acc;  // between start() and stop()
  Batch pool;                                    // metrics reused from call to call
  abi::ViewBuilder views;
  std::string text;
  MetricBatch view_batch;  // a ViewProcessor's, reused from call to call

  // What a Processor was handed: a metric that comes back with the same field storage at the
  // same revision is that metric untouched (moved along, never changed), which is cheaper to
  // know than comparing it with the agent's view.
  struct Handed {
    const void* storage = nullptr;
    uint32_t revision = 0;
    bool untouched(const Metric& m) const {
      return storage != nullptr && m.storage() == storage && m.revision() == revision;
    }
  };
  std::vector<Handed> handed;  // a Processor's, reused from call to call
  std::vector<ParseError> parse_errors;  // a Parser's, reused from call to call

  // Turns borrowed views into the batch the plugin gets.
  Batch take_batch(const sluice_metric* const* metrics, size_t count) {
    Batch batch = std::move(pool);
    batch.resize(count);
    for (size_t i = 0; i < count; ++i) abi::assign_from_view(batch[i], *metrics[i]);
    return batch;
  }
  void give_back(Batch batch) { pool = std::move(batch); }

  // Logs a failure of a call that cannot report one (stop, reset, close).
  void log_failure(const char* what, const char* why) noexcept {
    try {
      logger.error(std::string(what) + " failed: " + why);
    } catch (...) {
    }
  }
};

template <typename T>
void* create(const sluice_create_args* args, sluice_error* error) noexcept {
  if (args == nullptr) return nullptr;
  Instance<T>* instance = nullptr;
  const sluice_host_api* host = args->host;
  sluice_status status = guard(host, error, [&] {
    if (args->plugin == nullptr || args->plugin->data == nullptr) {
      throw std::logic_error("the agent did not say which plugin to create");
    }
    const auto* data = static_cast<const PluginData*>(args->plugin->data);
    instance = new Instance<T>(*args, read_options(host, args->options, data->options));
    return SLUICE_OK;
  });
  return status == SLUICE_OK ? instance : nullptr;
}

template <typename T>
void destroy(void* instance) noexcept {
  // A destructor that throws ends the process here, as it would in a built-in.
  delete static_cast<Instance<T>*>(instance);
}

template <typename T>
Instance<T>& self(void* instance) {
  return *static_cast<Instance<T>*>(instance);
}

template <typename T>
struct InputGlue {
  static sluice_status gather(void* p, sluice_accumulator* acc, sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      HostAccumulator host_acc(in.host, acc);
      in.plugin->gather(host_acc);
      return SLUICE_OK;
    });
  }
  static sluice_status start(void* p, sluice_accumulator* acc, sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      in.service_acc = std::make_unique<HostAccumulator>(in.host, acc);
      in.plugin->start(*in.service_acc);
      return SLUICE_OK;
    });
  }
  static void stop(void* p) noexcept {
    Instance<T>& in = self<T>(p);
    try {
      in.plugin->stop();
    } catch (const std::exception& e) {
      in.log_failure("stop", e.what());
    } catch (...) {
      in.log_failure("stop", "unknown exception");
    }
  }
  static const void* callbacks(void* storage) {
    auto* cb = new (storage) sluice_input_callbacks{};
    cb->struct_size = sizeof(sluice_input_callbacks);
    cb->gather = &gather;
    if constexpr (std::is_base_of_v<ServiceInput, T>) {
      cb->start = &start;
      cb->stop = &stop;
    }
    return cb;
  }
};

template <typename T>
struct ProcessorGlue {
  // Unchanged metrics go back by index, so the agent keeps its own copy and nothing is copied
  // back; what changed or is new is copied. The result usually keeps the inputs' order, so a
  // result metric is looked for among the next few inputs only.
  static constexpr size_t kLookahead = 16;

  static sluice_status process(void* p, const sluice_metric* const* metrics, size_t count,
                               sluice_emitter* out, sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      Batch batch = in.take_batch(metrics, count);
      in.handed.resize(count);
      for (size_t k = 0; k < count; ++k) {
        in.handed[k] = {batch[k].storage(), batch[k].revision()};
      }
      Batch result = in.plugin->process(std::move(batch));
      size_t cursor = 0;
      for (const Metric& m : result) {
        size_t found = count;
        for (size_t k = cursor; k < count && k < cursor + kLookahead; ++k) {
          if (in.handed[k].untouched(m) || abi::same(m, *metrics[k])) {
            found = k;
            break;
          }
        }
        if (found < count) {
          in.host->emit_input(out, found);
          cursor = found + 1;
        } else {
          abi::with_view(m, [&](const sluice_metric& v) { in.host->emit(out, &v); });
        }
      }
      in.give_back(std::move(result));
      return SLUICE_OK;
    });
  }
  static const void* callbacks(void* storage) {
    auto* cb = new (storage) sluice_processor_callbacks{};
    cb->struct_size = sizeof(sluice_processor_callbacks);
    cb->process = &process;
    return cb;
  }
};

template <typename T>
struct ViewProcessorGlue {
  static sluice_status process(void* p, const sluice_metric* const* metrics, size_t count,
                               sluice_emitter* out, sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      MetricBatch& batch = in.view_batch;
      batch.reset(metrics, count);
      in.plugin->process(batch);
      const sluice_host_api* h = in.host;
      for (size_t e = 0; e < batch.used_; ++e) {
        const auto& edit = batch.edits_[e];
        sluice_str key = to_str(edit.key);
        switch (edit.op) {
          case MetricBatch::Edit::kName:
            h->input_set_name(out, edit.index, key);
            break;
          case MetricBatch::Edit::kTime:
            h->input_set_time(out, edit.index, edit.time);
            break;
          case MetricBatch::Edit::kSetTag:
            h->input_set_tag(out, edit.index, key, to_str(edit.text));
            break;
          case MetricBatch::Edit::kRemoveTag:
            h->input_remove_tag(out, edit.index, key);
            break;
          case MetricBatch::Edit::kSetField: {
            sluice_field f{};
            f.key = key;
            abi::fill_value(f, edit.field);
            h->input_set_field(out, edit.index, &f);
            break;
          }
          case MetricBatch::Edit::kRemoveField:
            h->input_remove_field(out, edit.index, key);
            break;
        }
      }
      for (size_t i = 0; i < count; ++i) {
        if (!batch.dropped_[i]) h->emit_input(out, i);
      }
      for (const Metric& m : batch.added_) {
        abi::with_view(m, [&](const sluice_metric& v) { h->emit(out, &v); });
      }
      return SLUICE_OK;
    });
  }
  static const void* callbacks(void* storage) {
    auto* cb = new (storage) sluice_processor_callbacks{};
    cb->struct_size = sizeof(sluice_processor_callbacks);
    cb->process = &process;
    return cb;
  }
};

template <typename T>
struct AggregatorGlue {
  static sluice_status add(void* p, const sluice_metric* metric, sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      Batch one = in.take_batch(&metric, 1);
      in.plugin->add(one.front());
      in.give_back(std::move(one));
      return SLUICE_OK;
    });
  }
  static sluice_status push(void* p, sluice_accumulator* acc, sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      HostAccumulator host_acc(in.host, acc);
      in.plugin->push(host_acc);
      return SLUICE_OK;
    });
  }
  static void reset(void* p) noexcept {
    Instance<T>& in = self<T>(p);
    try {
      in.plugin->reset();
    } catch (const std::exception& e) {
      in.log_failure("reset", e.what());
    } catch (...) {
      in.log_failure("reset", "unknown exception");
    }
  }
  static const void* callbacks(void* storage) {
    auto* cb = new (storage) sluice_aggregator_callbacks{};
    cb->struct_size = sizeof(sluice_aggregator_callbacks);
    cb->add = &add;
    cb->push = &push;
    cb->reset = &reset;
    return cb;
  }
};

inline sluice_status write_status(const sluice_host_api* host, sluice_error* error,
                                  const WriteResult& result) {
  if (result.status == WriteResult::Status::kOk) return SLUICE_OK;
  set_error(host, error, result.error);
  if (result.retry_after.count() > 0 && error != nullptr) {
    host->error_set_retry_after(error, result.retry_after.count());
  }
  switch (result.status) {
    case WriteResult::Status::kReject:
      return SLUICE_REJECT;
    case WriteResult::Status::kSplit:
      return SLUICE_SPLIT;
    default:
      return SLUICE_RETRY;
  }
}

template <typename T>
struct OutputGlue {
  static sluice_status connect(void* p, sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error,
                 [&] { return write_status(in.host, error, in.plugin->connect()); });
  }
  static sluice_status write(void* p, const sluice_metric* const* metrics, size_t count,
                             sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      Batch batch = in.take_batch(metrics, count);
      WriteResult result = in.plugin->write(std::span<const Metric>(batch));
      in.give_back(std::move(batch));
      return write_status(in.host, error, result);
    });
  }
  static void close(void* p) noexcept {
    Instance<T>& in = self<T>(p);
    try {
      in.plugin->close();
    } catch (const std::exception& e) {
      in.log_failure("close", e.what());
    } catch (...) {
      in.log_failure("close", "unknown exception");
    }
  }
  static const void* callbacks(void* storage) {
    auto* cb = new (storage) sluice_output_callbacks{};
    cb->struct_size = sizeof(sluice_output_callbacks);
    cb->connect = &connect;
    cb->write = &write;
    cb->close = &close;
    return cb;
  }
};

template <typename T>
struct SerializerGlue {
  static sluice_status serialize(void* p, const sluice_metric* metric, sluice_buffer* out,
                                 sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      Batch one = in.take_batch(&metric, 1);
      in.text.clear();
      in.plugin->serialize(one.front(), in.text);
      in.give_back(std::move(one));
      in.host->buffer_append(out, in.text.data(), in.text.size());
      return SLUICE_OK;
    });
  }
  static sluice_status serialize_batch(void* p, const sluice_metric* const* metrics, size_t count,
                                       sluice_buffer* out, sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      Batch batch = in.take_batch(metrics, count);
      in.text.clear();
      in.plugin->serialize_batch(std::span<const Metric>(batch), in.text);
      in.give_back(std::move(batch));
      in.host->buffer_append(out, in.text.data(), in.text.size());
      return SLUICE_OK;
    });
  }
  static const void* callbacks(void* storage) {
    auto* cb = new (storage) sluice_serializer_callbacks{};
    cb->struct_size = sizeof(sluice_serializer_callbacks);
    cb->serialize = &serialize;
    cb->serialize_batch = &serialize_batch;
    return cb;
  }
};

template <typename T>
struct ParserGlue {
  static sluice_status parse(void* p, sluice_str data, sluice_accumulator* acc,
                             sluice_error* error) noexcept {
    Instance<T>& in = self<T>(p);
    return guard(in.host, error, [&] {
      Batch batch = std::move(in.pool);
      batch.clear();
      in.parse_errors.clear();
      in.plugin->parse(to_view(data), in.host->accumulator_time(acc), batch, in.parse_errors);
      for (const Metric& m : batch) {
        abi::with_view(m, [&](const sluice_metric& v) { in.host->accumulator_add(acc, &v); });
      }
      // The C ABI reports a bad record as a message: its position goes into the words.
      for (const ParseError& e : in.parse_errors) {
        std::string text;
        if (e.line > 0) text += "line " + std::to_string(e.line);
        if (e.column > 0) text += (text.empty() ? "column " : ", column ") + std::to_string(e.column);
        if (!text.empty()) text += ": ";
        text += e.reason;
        in.host->accumulator_add_error(acc, to_str(text));
      }
      in.give_back(std::move(batch));
      return SLUICE_OK;
    });
  }
  static const void* callbacks(void* storage) {
    auto* cb = new (storage) sluice_parser_callbacks{};
    cb->struct_size = sizeof(sluice_parser_callbacks);
    cb->parse = &parse;
    return cb;
  }
};

template <typename>
inline constexpr bool kAlwaysFalse = false;

// Room for any kind's callbacks struct.
union CallbackStorage {
  sluice_input_callbacks input;
  sluice_processor_callbacks processor;
  sluice_aggregator_callbacks aggregator;
  sluice_output_callbacks output;
  sluice_serializer_callbacks serializer;
  sluice_parser_callbacks parser;
};

// A plugin as the library keeps it: the descriptor and everything it points to. Its strings
// live in a deque, which never moves what it holds.
struct PluginEntry {
  std::deque<std::string> strings;
  std::vector<sluice_option_spec> c_options;
  CallbackStorage callbacks_storage{};
  PluginData data;
  sluice_plugin descriptor{};

  const char* keep(std::string_view s) { return strings.emplace_back(s).c_str(); }
};

}  // namespace detail

// Describes plugin class T. Its kind follows from its base class.
template <typename T>
PluginSpec plugin(std::string_view name, std::string_view description,
                  std::span<const OptionSpec> options = {}, uint32_t flags = 0) {
  PluginSpec spec;
  spec.name = name;
  spec.description = description;
  spec.options.assign(options.begin(), options.end());
  spec.flags = flags;
  spec.create = &detail::create<T>;
  spec.destroy = &detail::destroy<T>;
  if constexpr (std::is_base_of_v<ServiceInput, T>) {
    spec.kind = SLUICE_KIND_SERVICE_INPUT;
    spec.callbacks = &detail::InputGlue<T>::callbacks;
  } else if constexpr (std::is_base_of_v<Input, T>) {
    spec.kind = SLUICE_KIND_INPUT;
    spec.callbacks = &detail::InputGlue<T>::callbacks;
  } else if constexpr (std::is_base_of_v<Processor, T>) {
    spec.kind = SLUICE_KIND_PROCESSOR;
    spec.callbacks = &detail::ProcessorGlue<T>::callbacks;
  } else if constexpr (std::is_base_of_v<ViewProcessor, T>) {
    spec.kind = SLUICE_KIND_PROCESSOR;
    spec.callbacks = &detail::ViewProcessorGlue<T>::callbacks;
  } else if constexpr (std::is_base_of_v<Aggregator, T>) {
    spec.kind = SLUICE_KIND_AGGREGATOR;
    spec.callbacks = &detail::AggregatorGlue<T>::callbacks;
  } else if constexpr (std::is_base_of_v<Output, T>) {
    spec.kind = SLUICE_KIND_OUTPUT;
    spec.callbacks = &detail::OutputGlue<T>::callbacks;
  } else if constexpr (std::is_base_of_v<Serializer, T>) {
    spec.kind = SLUICE_KIND_SERIALIZER;
    spec.callbacks = &detail::SerializerGlue<T>::callbacks;
  } else if constexpr (std::is_base_of_v<Parser, T>) {
    spec.kind = SLUICE_KIND_PARSER;
    spec.callbacks = &detail::ParserGlue<T>::callbacks;
  } else {
    static_assert(detail::kAlwaysFalse<T>,
                  "a plugin class derives from sluice::Input, ServiceInput, Processor, "
                  "Aggregator, Output, Serializer or Parser, or from "
                  "sluice::sdk::ViewProcessor");
  }
  return spec;
}

// The library's descriptor, made once by SLUICE_PLUGIN.
class Library {
 public:
  Library(std::string_view version, std::initializer_list<PluginSpec> specs) : version_(version) {
    for (const PluginSpec& spec : specs) {
      auto entry = std::make_unique<detail::PluginEntry>();
      entry->data.options = spec.options;
      for (const OptionSpec& o : spec.options) {
        sluice_option_spec c{};
        c.name = entry->keep(o.name);
        c.type = static_cast<uint32_t>(o.type);
        c.required = o.required ? 1 : 0;
        c.default_yaml = entry->keep(o.default_yaml);
        c.doc = entry->keep(o.doc);
        entry->c_options.push_back(c);
      }
      sluice_plugin& d = entry->descriptor;
      d.struct_size = sizeof(sluice_plugin);
      d.abi_major = SLUICE_ABI_MAJOR;
      d.kind = spec.kind;
      d.flags = spec.flags;
      d.name = entry->keep(spec.name);
      d.description = entry->keep(spec.description);
      d.options = entry->c_options.data();
      d.option_count = entry->c_options.size();
      d.create = spec.create;
      d.destroy = spec.destroy;
      d.callbacks = spec.callbacks(&entry->callbacks_storage);
      d.data = &entry->data;
      pointers_.push_back(&entry->descriptor);
      entries_.push_back(std::move(entry));
    }
    library_.struct_size = sizeof(sluice_library);
    library_.abi_major = SLUICE_ABI_MAJOR;
    library_.abi_minor = SLUICE_ABI_MINOR;
    library_.plugin_count = static_cast<uint32_t>(pointers_.size());
    library_.plugins = pointers_.data();
    library_.version = version_.c_str();
  }

  const sluice_library* init(const sluice_host_api* host, uint32_t host_abi_major) {
    library_.error = nullptr;
    // The SDK calls every function of its own header's host API: an older host is refused.
    if (host_abi_major == SLUICE_ABI_MAJOR &&
        (host == nullptr || host->struct_size < sizeof(sluice_host_api))) {
      error_ = "built with the plugin SDK " + std::to_string(SLUICE_ABI_MAJOR) + "." +
               std::to_string(SLUICE_ABI_MINOR) + ", which needs a newer agent than this one";
      library_.error = error_.c_str();
    }
    return &library_;
  }

 private:
  std::string version_;
  std::string error_;
  std::vector<std::unique_ptr<detail::PluginEntry>> entries_;
  std::vector<const sluice_plugin*> pointers_;
  sluice_library library_{};
};

}  // namespace sluice::sdk

// Exports the library: SLUICE_PLUGIN("1.0.0", sluice::sdk::plugin<A>(...), ...). Use it once,
// in one source file of the library.
#define SLUICE_PLUGIN(version, ...)                                                              \
  extern "C" SLUICE_EXPORT const sluice_library* sluice_plugin_init(const sluice_host_api* host, \
                                                                    uint32_t host_abi_major) {   \
    try {                                                                                        \
      static ::sluice::sdk::Library sluice_library_instance((version), {__VA_ARGS__});           \
      return sluice_library_instance.init(host, host_abi_major);                                 \
    } catch (...) {                                                                              \
      return nullptr;                                                                            \
    }                                                                                            \
  }
