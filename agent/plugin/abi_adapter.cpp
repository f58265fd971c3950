#include "plugin/abi_adapter.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/option_tables.hpp"
#include "sluice/abi_metric.hpp"

namespace sluice::plugin {
namespace {

using abi::to_str;
using abi::to_view;

// ---- What the opaque pointers of the ABI stand for -------------------------------------------

// sluice_error: filled by the plugin through error_*, read by the wrapper after the call.
struct HostError {
  std::string message;
  std::string option;
  int64_t retry_after_ns = 0;
};

// sluice_emitter: a processor's results. While the plugin passes inputs on in their order and
// adds nothing, nothing moves, and the input batch itself is the result (a pass-through costs
// no copy); the first deviation moves what was passed on so far into `out`.
struct Emitter {
  Batch* in = nullptr;
  std::vector<uint8_t>* emitted = nullptr;
  Batch out;
  size_t in_order = 0;
  bool direct = true;
  size_t misuses = 0;  // indexes out of range or passed on twice

  void materialize() {
    if (!direct) return;
    direct = false;
    out.reserve(in->size());
    for (size_t i = 0; i < in_order; ++i) out.push_back(std::move((*in)[i]));
  }
  Metric* editable(size_t index) {
    if (index >= in->size() || (*emitted)[index]) {
      ++misuses;
      return nullptr;
    }
    return &(*in)[index];
  }
  void emit_input(size_t index) {
    if (editable(index) == nullptr) return;
    (*emitted)[index] = 1;
    if (direct && index == in_order) {
      ++in_order;
      return;
    }
    materialize();
    out.push_back(std::move((*in)[index]));
  }
  void emit(Metric metric) {
    materialize();
    out.push_back(std::move(metric));
  }
  Batch finish() {
    if (direct) {
      in->resize(in_order);
      return std::move(*in);
    }
    return std::move(out);
  }
};

template <typename To, typename From>
To* cast(From* p) {
  return reinterpret_cast<To*>(p);
}

sluice_error* c_error(HostError& e) { return cast<sluice_error>(&e); }

LogLevel log_level(int32_t level) {
  return static_cast<LogLevel>(std::clamp<int32_t>(level, SLUICE_LOG_DEBUG, SLUICE_LOG_ERROR));
}

const Options::Value* option_value(const sluice_options* options, sluice_str name) {
  const auto* o = cast<const Options>(options);
  if (o == nullptr || !o->has(to_view(name))) return nullptr;
  return &o->value(to_view(name));
}

template <typename T>
const T* option_as(const sluice_options* options, sluice_str name) {
  const Options::Value* v = option_value(options, name);
  return v == nullptr ? nullptr : std::get_if<T>(v);
}

// ---- The host API -------------------------------------------------------------------------
// Every function catches everything: it is called from C, possibly from another compiler's code.

void error_set(sluice_error* error, sluice_str message) noexcept {
  try {
    if (error != nullptr) cast<HostError>(error)->message.assign(to_view(message));
  } catch (...) {
  }
}

void error_set_option(sluice_error* error, sluice_str option) noexcept {
  try {
    if (error != nullptr) cast<HostError>(error)->option.assign(to_view(option));
  } catch (...) {
  }
}

void error_set_retry_after(sluice_error* error, int64_t ns) noexcept {
  if (error != nullptr) cast<HostError>(error)->retry_after_ns = ns;
}

void host_log(sluice_logger* logger, int32_t level, sluice_str message) noexcept {
  try {
    if (logger != nullptr) cast<Logger>(logger)->log(log_level(level), to_view(message));
  } catch (...) {
  }
}

int32_t log_enabled(const sluice_logger* logger, int32_t level) noexcept {
  try {
    return logger != nullptr && cast<const Logger>(logger)->enabled(log_level(level)) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

int32_t option_is_set(const sluice_options* options, sluice_str name) noexcept {
  try {
    return options != nullptr && cast<const Options>(options)->is_set(to_view(name)) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

template <typename T, typename Out>
sluice_status read_scalar(const sluice_options* options, sluice_str name, Out* out) noexcept {
  try {
    const T* v = option_as<T>(options, name);
    if (v == nullptr || out == nullptr) return SLUICE_ERROR;
    if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
      *out = v->count();
    } else if constexpr (std::is_same_v<T, std::string>) {
      *out = to_str(*v);
    } else {
      *out = static_cast<Out>(*v);
    }
    return SLUICE_OK;
  } catch (...) {
    return SLUICE_ERROR;
  }
}

sluice_status option_bool(const sluice_options* o, sluice_str n, int32_t* out) noexcept {
  return read_scalar<bool>(o, n, out);
}
sluice_status option_int(const sluice_options* o, sluice_str n, int64_t* out) noexcept {
  return read_scalar<int64_t>(o, n, out);
}
sluice_status option_float(const sluice_options* o, sluice_str n, double* out) noexcept {
  return read_scalar<double>(o, n, out);
}
sluice_status option_string(const sluice_options* o, sluice_str n, sluice_str* out) noexcept {
  return read_scalar<std::string>(o, n, out);
}
sluice_status option_duration(const sluice_options* o, sluice_str n, int64_t* out) noexcept {
  return read_scalar<std::chrono::nanoseconds>(o, n, out);
}
sluice_status option_size(const sluice_options* o, sluice_str n, uint64_t* out) noexcept {
  return read_scalar<uint64_t>(o, n, out);
}

sluice_status option_count(const sluice_options* options, sluice_str name, size_t* out) noexcept {
  try {
    const Options::Value* v = option_value(options, name);
    if (v == nullptr || out == nullptr) return SLUICE_ERROR;
    if (const auto* list = std::get_if<std::vector<std::string>>(v)) {
      *out = list->size();
    } else if (const auto* map = std::get_if<StringMap>(v)) {
      *out = map->size();
    } else if (const auto* maps = std::get_if<std::vector<StringMap>>(v)) {
      *out = maps->size();
    } else if (const auto* lists = std::get_if<StringListMap>(v)) {
      *out = lists->size();
    } else {
      return SLUICE_ERROR;
    }
    return SLUICE_OK;
  } catch (...) {
    return SLUICE_ERROR;
  }
}

sluice_status option_item(const sluice_options* options, sluice_str name, size_t index,
                          sluice_str* key, sluice_str* value) noexcept {
  try {
    const Options::Value* v = option_value(options, name);
    if (v == nullptr || key == nullptr || value == nullptr) return SLUICE_ERROR;
    *key = sluice_str{"", 0};
    *value = sluice_str{"", 0};
    if (const auto* list = std::get_if<std::vector<std::string>>(v)) {
      if (index >= list->size()) return SLUICE_ERROR;
      *value = to_str((*list)[index]);
    } else if (const auto* map = std::get_if<StringMap>(v)) {
      if (index >= map->size()) return SLUICE_ERROR;
      *key = to_str((*map)[index].first);
      *value = to_str((*map)[index].second);
    } else if (const auto* lists = std::get_if<StringListMap>(v)) {
      if (index >= lists->size()) return SLUICE_ERROR;
      *key = to_str((*lists)[index].first);
    } else {
      return SLUICE_ERROR;
    }
    return SLUICE_OK;
  } catch (...) {
    return SLUICE_ERROR;
  }
}

sluice_status option_sub_count(const sluice_options* options, sluice_str name, size_t index,
                               size_t* out) noexcept {
  try {
    const Options::Value* v = option_value(options, name);
    if (v == nullptr || out == nullptr) return SLUICE_ERROR;
    if (const auto* maps = std::get_if<std::vector<StringMap>>(v)) {
      if (index >= maps->size()) return SLUICE_ERROR;
      *out = (*maps)[index].size();
    } else if (const auto* lists = std::get_if<StringListMap>(v)) {
      if (index >= lists->size()) return SLUICE_ERROR;
      *out = (*lists)[index].second.size();
    } else {
      return SLUICE_ERROR;
    }
    return SLUICE_OK;
  } catch (...) {
    return SLUICE_ERROR;
  }
}

sluice_status option_sub_item(const sluice_options* options, sluice_str name, size_t index,
                              size_t sub_index, sluice_str* key, sluice_str* value) noexcept {
  try {
    const Options::Value* v = option_value(options, name);
    if (v == nullptr || key == nullptr || value == nullptr) return SLUICE_ERROR;
    if (const auto* maps = std::get_if<std::vector<StringMap>>(v)) {
      if (index >= maps->size() || sub_index >= (*maps)[index].size()) return SLUICE_ERROR;
      *key = to_str((*maps)[index][sub_index].first);
      *value = to_str((*maps)[index][sub_index].second);
    } else if (const auto* lists = std::get_if<StringListMap>(v)) {
      if (index >= lists->size() || sub_index >= (*lists)[index].second.size()) {
        return SLUICE_ERROR;
      }
      *key = to_str((*lists)[index].first);
      *value = to_str((*lists)[index].second[sub_index]);
    } else {
      return SLUICE_ERROR;
    }
    return SLUICE_OK;
  } catch (...) {
    return SLUICE_ERROR;
  }
}

void accumulator_add(sluice_accumulator* acc, const sluice_metric* metric) noexcept {
  try {
    if (acc != nullptr && metric != nullptr) {
      cast<Accumulator>(acc)->add(abi::metric_from_view(*metric));
    }
  } catch (const std::exception& e) {
    cast<Accumulator>(acc)->add_error(std::string("a metric was lost: ") + e.what());
  } catch (...) {
  }
}

void accumulator_add_error(sluice_accumulator* acc, sluice_str message) noexcept {
  try {
    if (acc != nullptr) cast<Accumulator>(acc)->add_error(to_view(message));
  } catch (...) {
  }
}

int64_t accumulator_time(const sluice_accumulator* acc) noexcept {
  try {
    return acc != nullptr ? cast<const Accumulator>(acc)->time() : 0;
  } catch (...) {
    return 0;
  }
}

void emit_input(sluice_emitter* out, size_t index) noexcept {
  try {
    if (out != nullptr) cast<Emitter>(out)->emit_input(index);
  } catch (...) {
  }
}

void emit(sluice_emitter* out, const sluice_metric* metric) noexcept {
  try {
    if (out != nullptr && metric != nullptr)
      cast<Emitter>(out)->emit(abi::metric_from_view(*metric));
  } catch (...) {
  }
}

template <typename Edit>
void edit_input(sluice_emitter* out, size_t index, Edit&& edit) noexcept {
  try {
    if (out == nullptr) return;
    if (Metric* m = cast<Emitter>(out)->editable(index)) edit(*m);
  } catch (...) {
  }
}

void input_set_name(sluice_emitter* out, size_t index, sluice_str name) noexcept {
  edit_input(out, index, [&](Metric& m) { m.set_name(std::string(to_view(name))); });
}
void input_set_time(sluice_emitter* out, size_t index, int64_t time_ns) noexcept {
  edit_input(out, index, [&](Metric& m) { m.set_time(time_ns); });
}
void input_set_tag(sluice_emitter* out, size_t index, sluice_str key, sluice_str value) noexcept {
  edit_input(out, index, [&](Metric& m) { m.set_tag(to_view(key), to_view(value)); });
}
void input_remove_tag(sluice_emitter* out, size_t index, sluice_str key) noexcept {
  edit_input(out, index, [&](Metric& m) { m.remove_tag(to_view(key)); });
}
void input_set_field(sluice_emitter* out, size_t index, const sluice_field* field) noexcept {
  edit_input(out, index, [&](Metric& m) {
    FieldValue value;
    if (field != nullptr && abi::field_value(*field, value)) {
      m.set_field(to_view(field->key), std::move(value));
    }
  });
}
void input_remove_field(sluice_emitter* out, size_t index, sluice_str key) noexcept {
  edit_input(out, index, [&](Metric& m) { m.remove_field(to_view(key)); });
}

void buffer_append(sluice_buffer* out, const char* data, size_t size) noexcept {
  try {
    if (out != nullptr && data != nullptr) cast<std::string>(out)->append(data, size);
  } catch (...) {
  }
}

const sluice_host_api kHostApi = {
    .struct_size = sizeof(sluice_host_api),
    .abi_major = SLUICE_ABI_MAJOR,
    .abi_minor = SLUICE_ABI_MINOR,
    .agent_version = SLUICE_VERSION,
    .error_set = &error_set,
    .error_set_option = &error_set_option,
    .error_set_retry_after = &error_set_retry_after,
    .log = &host_log,
    .log_enabled = &log_enabled,
    .option_is_set = &option_is_set,
    .option_bool = &option_bool,
    .option_int = &option_int,
    .option_float = &option_float,
    .option_string = &option_string,
    .option_duration = &option_duration,
    .option_size = &option_size,
    .option_count = &option_count,
    .option_item = &option_item,
    .option_sub_count = &option_sub_count,
    .option_sub_item = &option_sub_item,
    .accumulator_add = &accumulator_add,
    .accumulator_add_error = &accumulator_add_error,
    .accumulator_time = &accumulator_time,
    .emit_input = &emit_input,
    .emit = &emit,
    .input_set_name = &input_set_name,
    .input_set_time = &input_set_time,
    .input_set_tag = &input_set_tag,
    .input_remove_tag = &input_remove_tag,
    .input_set_field = &input_set_field,
    .input_remove_field = &input_remove_field,
    .buffer_append = &buffer_append,
};

// ---- Wrappers around a library's instances ---------------------------------------------------

[[noreturn]] void raise(sluice_status status, const HostError& error, const char* what) {
  std::string message = error.message.empty()
                            ? std::string(what) + " failed (status " + std::to_string(status) + ")"
                            : error.message;
  if (status == SLUICE_ERROR_OPTION && !error.option.empty()) {
    throw OptionError(error.option, message);
  }
  throw std::runtime_error(message);
}

// One instance, created and destroyed through the descriptor.
class AbiInstance {
 public:
  AbiInstance(const sluice_plugin& descriptor, const PluginContext& context)
      : descriptor_(descriptor) {
    sluice_create_args args{};
    args.struct_size = sizeof(args);
    args.host = &kHostApi;
    args.plugin = &descriptor;
    args.options = cast<const sluice_options>(&context.options);
    // The logger belongs to the host's wrapper, which outlives the plugin instance.
    args.logger = cast<sluice_logger>(&context.log);
    HostError error;
    instance_ = descriptor.create(&args, c_error(error));
    if (instance_ == nullptr) {
      raise(error.option.empty() ? SLUICE_ERROR : SLUICE_ERROR_OPTION, error, "create");
    }
  }
  ~AbiInstance() { descriptor_.destroy(instance_); }
  AbiInstance(const AbiInstance&) = delete;
  AbiInstance& operator=(const AbiInstance&) = delete;

  void* get() const { return instance_; }

 private:
  const sluice_plugin& descriptor_;
  void* instance_ = nullptr;
};

template <typename Callbacks>
const Callbacks& callbacks_of(const sluice_plugin& d) {
  return *static_cast<const Callbacks*>(d.callbacks);
}

class AbiInput final : public Input {
 public:
  AbiInput(const sluice_plugin& d, const PluginContext& context)
      : instance_(d, context), callbacks_(callbacks_of<sluice_input_callbacks>(d)) {}
  void gather(Accumulator& acc) override {
    HostError error;
    sluice_status s =
        callbacks_.gather(instance_.get(), cast<sluice_accumulator>(&acc), c_error(error));
    if (s != SLUICE_OK) raise(s, error, "gather");
  }

 private:
  AbiInstance instance_;
  const sluice_input_callbacks& callbacks_;
};

class AbiServiceInput final : public ServiceInput {
 public:
  AbiServiceInput(const sluice_plugin& d, const PluginContext& context)
      : instance_(d, context), callbacks_(callbacks_of<sluice_input_callbacks>(d)) {}
  void gather(Accumulator& acc) override {
    if (callbacks_.gather == nullptr) return;
    HostError error;
    sluice_status s =
        callbacks_.gather(instance_.get(), cast<sluice_accumulator>(&acc), c_error(error));
    if (s != SLUICE_OK) raise(s, error, "gather");
  }
  void start(Accumulator& acc) override {
    HostError error;
    sluice_status s =
        callbacks_.start(instance_.get(), cast<sluice_accumulator>(&acc), c_error(error));
    if (s != SLUICE_OK) raise(s, error, "start");
  }
  void stop() override { callbacks_.stop(instance_.get()); }

 private:
  AbiInstance instance_;
  const sluice_input_callbacks& callbacks_;
};

class AbiProcessor final : public Processor {
 public:
  AbiProcessor(const sluice_plugin& d, const PluginContext& context)
      : instance_(d, context), callbacks_(callbacks_of<sluice_processor_callbacks>(d)) {}
  Batch process(Batch batch) override {
    const sluice_metric* const* views = views_.views(batch);
    emitted_.assign(batch.size(), 0);
    Emitter emitter;
    emitter.in = &batch;
    emitter.emitted = &emitted_;
    HostError error;
    sluice_status s = callbacks_.process(instance_.get(), views, batch.size(),
                                         cast<sluice_emitter>(&emitter), c_error(error));
    if (s != SLUICE_OK) raise(s, error, "process");
    if (emitter.misuses > 0) {
      throw std::runtime_error("the plugin passed on an input index out of range or twice (" +
                               std::to_string(emitter.misuses) + " times)");
    }
    return emitter.finish();
  }

 private:
  AbiInstance instance_;
  const sluice_processor_callbacks& callbacks_;
  abi::ViewBuilder views_;
  std::vector<uint8_t> emitted_;
};

class AbiAggregator final : public Aggregator {
 public:
  AbiAggregator(const sluice_plugin& d, const PluginContext& context)
      : instance_(d, context), callbacks_(callbacks_of<sluice_aggregator_callbacks>(d)) {}
  void add(const Metric& metric) override {
    HostError error;
    sluice_status s = callbacks_.add(instance_.get(), views_.view(metric), c_error(error));
    if (s != SLUICE_OK) raise(s, error, "add");
  }
  void push(Accumulator& acc) override {
    HostError error;
    sluice_status s =
        callbacks_.push(instance_.get(), cast<sluice_accumulator>(&acc), c_error(error));
    if (s != SLUICE_OK) raise(s, error, "push");
  }
  void reset() override { callbacks_.reset(instance_.get()); }

 private:
  AbiInstance instance_;
  const sluice_aggregator_callbacks& callbacks_;
  abi::ViewBuilder views_;
};

WriteResult write_result(sluice_status status, const HostError& error, const char* what) {
  std::string message = error.message.empty()
                            ? std::string(what) + " failed (status " + std::to_string(status) + ")"
                            : error.message;
  switch (status) {
    case SLUICE_OK:
      return WriteResult::ok();
    case SLUICE_REJECT:
      return WriteResult::reject(message);
    case SLUICE_SPLIT:
      return WriteResult::split(message);
    default:
      return WriteResult::retry(message, std::chrono::nanoseconds(error.retry_after_ns));
  }
}

class AbiOutput final : public Output {
 public:
  AbiOutput(const sluice_plugin& d, const PluginContext& context)
      : instance_(d, context), callbacks_(callbacks_of<sluice_output_callbacks>(d)) {}
  WriteResult connect() override {
    if (callbacks_.connect == nullptr) return WriteResult::ok();
    HostError error;
    return write_result(callbacks_.connect(instance_.get(), c_error(error)), error, "connect");
  }
  WriteResult write(std::span<const Metric> batch) override {
    HostError error;
    sluice_status s =
        callbacks_.write(instance_.get(), views_.views(batch), batch.size(), c_error(error));
    return write_result(s, error, "write");
  }
  void close() override {
    if (callbacks_.close != nullptr) callbacks_.close(instance_.get());
  }

 private:
  AbiInstance instance_;
  const sluice_output_callbacks& callbacks_;
  abi::ViewBuilder views_;
};

class AbiSerializer final : public Serializer {
 public:
  AbiSerializer(const sluice_plugin& d, const PluginContext& context)
      : instance_(d, context), callbacks_(callbacks_of<sluice_serializer_callbacks>(d)) {}
  void serialize(const Metric& metric, std::string& out) override {
    HostError error;
    sluice_status s = callbacks_.serialize(instance_.get(), views_.view(metric),
                                           cast<sluice_buffer>(&out), c_error(error));
    if (s != SLUICE_OK) raise(s, error, "serialize");
  }
  void serialize_batch(std::span<const Metric> batch, std::string& out) override {
    if (callbacks_.serialize_batch == nullptr) {
      Serializer::serialize_batch(batch, out);
      return;
    }
    HostError error;
    sluice_status s = callbacks_.serialize_batch(instance_.get(), views_.views(batch), batch.size(),
                                                 cast<sluice_buffer>(&out), c_error(error));
    if (s != SLUICE_OK) raise(s, error, "serialize");
  }

 private:
  AbiInstance instance_;
  const sluice_serializer_callbacks& callbacks_;
  abi::ViewBuilder views_;
};

// What a parser plugin adds to: its metrics go into the caller's batch (a metric without a time
// gets the time the caller gave), and each bad record it reports is a parse error of its own,
// so the input counts it rejected and goes on with the rest of the message.
class ParseAccumulator final : public Accumulator {
 public:
  ParseAccumulator(int64_t now, Batch& out, std::vector<ParseError>& errors)
      : now_(now), out_(out), errors_(errors) {}
  void add(Metric metric) override {
    if (metric.time() == 0) metric.set_time(now_);
    out_.push_back(std::move(metric));
  }
  void add_error(std::string_view message) override {
    errors_.push_back(ParseError{0, 0, std::string(message)});
  }
  int64_t time() const override { return now_; }

 private:
  int64_t now_;
  Batch& out_;
  std::vector<ParseError>& errors_;
};

class AbiParser final : public Parser {
 public:
  AbiParser(const sluice_plugin& d, const PluginContext& context)
      : instance_(d, context),
        callbacks_(callbacks_of<sluice_parser_callbacks>(d)),
        splits_on_lines_((d.flags & SLUICE_PLUGIN_SPLITS_ON_LINES) != 0) {}
  void parse(std::string_view data, int64_t now, Batch& out,
             std::vector<ParseError>& errors) override {
    ParseAccumulator acc(now, out, errors);
    HostError error;
    sluice_status s = callbacks_.parse(instance_.get(), to_str(data), cast<sluice_accumulator>(&acc),
                                       c_error(error));
    // A failed call loses the rest of this message only: it is one more error, not an
    // exception that would stop the input.
    if (s != SLUICE_OK) {
      errors.push_back(ParseError{0, 0,
                                  error.message.empty()
                                      ? "parse failed (status " + std::to_string(s) + ")"
                                      : error.message});
    }
  }
  bool splits_on_lines() const override { return splits_on_lines_; }

 private:
  AbiInstance instance_;
  const sluice_parser_callbacks& callbacks_;
  bool splits_on_lines_;
};

// ---- Checks of descriptors ----------------------------------------------------------------

// The size of a struct up to and including `member`: what a 1.0 library provides at least.
#define SLUICE_SIZE_THROUGH(type, member) (offsetof(type, member) + sizeof(type::member))

bool valid_name(const char* name) {
  if (name == nullptr || *name == '\0') return false;
  if (!(*name >= 'a' && *name <= 'z')) return false;
  for (const char* c = name; *c != '\0'; ++c) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return false;
  }
  return true;
}

std::string too_small(const char* what, uint32_t size, size_t needed) {
  return std::string(what) + " too small: struct_size " + std::to_string(size) +
         ", this agent needs at least " + std::to_string(needed);
}

std::string check_callbacks(const sluice_plugin& d) {
  if (d.callbacks == nullptr) return "no callbacks";
  uint32_t size = *static_cast<const uint32_t*>(d.callbacks);
  switch (d.kind) {
    case SLUICE_KIND_INPUT:
    case SLUICE_KIND_SERVICE_INPUT: {
      if (size < SLUICE_SIZE_THROUGH(sluice_input_callbacks, stop)) {
        return too_small("input callbacks", size,
                         SLUICE_SIZE_THROUGH(sluice_input_callbacks, stop));
      }
      const auto& cb = callbacks_of<sluice_input_callbacks>(d);
      if (d.kind == SLUICE_KIND_INPUT && cb.gather == nullptr) return "an input without gather()";
      if (d.kind == SLUICE_KIND_SERVICE_INPUT && (cb.start == nullptr || cb.stop == nullptr)) {
        return "a service input without start() and stop()";
      }
      return "";
    }
    case SLUICE_KIND_PROCESSOR: {
      if (size < SLUICE_SIZE_THROUGH(sluice_processor_callbacks, process)) {
        return too_small("processor callbacks", size,
                         SLUICE_SIZE_THROUGH(sluice_processor_callbacks, process));
      }
      if (callbacks_of<sluice_processor_callbacks>(d).process == nullptr) {
        return "a processor without process()";
      }
      return "";
    }
    case SLUICE_KIND_AGGREGATOR: {
      if (size < SLUICE_SIZE_THROUGH(sluice_aggregator_callbacks, reset)) {
        return too_small("aggregator callbacks", size,
                         SLUICE_SIZE_THROUGH(sluice_aggregator_callbacks, reset));
      }
      const auto& cb = callbacks_of<sluice_aggregator_callbacks>(d);
      if (cb.add == nullptr || cb.push == nullptr || cb.reset == nullptr) {
        return "an aggregator without add(), push() and reset()";
      }
      return "";
    }
    case SLUICE_KIND_OUTPUT: {
      if (size < SLUICE_SIZE_THROUGH(sluice_output_callbacks, close)) {
        return too_small("output callbacks", size,
                         SLUICE_SIZE_THROUGH(sluice_output_callbacks, close));
      }
      if (callbacks_of<sluice_output_callbacks>(d).write == nullptr) {
        return "an output without write()";
      }
      return "";
    }
    case SLUICE_KIND_SERIALIZER: {
      if (size < SLUICE_SIZE_THROUGH(sluice_serializer_callbacks, serialize_batch)) {
        return too_small("serializer callbacks", size,
                         SLUICE_SIZE_THROUGH(sluice_serializer_callbacks, serialize_batch));
      }
      if (callbacks_of<sluice_serializer_callbacks>(d).serialize == nullptr) {
        return "a serializer without serialize()";
      }
      return "";
    }
    case SLUICE_KIND_PARSER: {
      if (size < SLUICE_SIZE_THROUGH(sluice_parser_callbacks, parse)) {
        return too_small("parser callbacks", size,
                         SLUICE_SIZE_THROUGH(sluice_parser_callbacks, parse));
      }
      if (callbacks_of<sluice_parser_callbacks>(d).parse == nullptr) {
        return "a parser without parse()";
      }
      return "";
    }
    default:
      return "unknown kind " + std::to_string(d.kind);
  }
}

Kind registry_kind(uint32_t kind) {
  switch (kind) {
    case SLUICE_KIND_PROCESSOR:
      return Kind::kProcessor;
    case SLUICE_KIND_AGGREGATOR:
      return Kind::kAggregator;
    case SLUICE_KIND_OUTPUT:
      return Kind::kOutput;
    case SLUICE_KIND_SERIALIZER:
      return Kind::kSerializer;
    case SLUICE_KIND_PARSER:
      return Kind::kParser;
    default:
      return Kind::kInput;
  }
}

std::string check_options(const sluice_plugin& d) {
  if (d.option_count > 0 && d.options == nullptr) return "option_count without options";
  const std::vector<OptionSpec>& host_options = config::common_options(registry_kind(d.kind));
  for (size_t i = 0; i < d.option_count; ++i) {
    const sluice_option_spec& o = d.options[i];
    if (!valid_name(o.name)) {
      return "option " + std::to_string(i) + ": a name of a-z, 0-9 and _ is needed";
    }
    std::string name = o.name;
    if (o.type > SLUICE_OPTION_STRING_LIST_MAP) {
      return "option \"" + name + "\": unknown type " + std::to_string(o.type);
    }
    for (size_t j = 0; j < i; ++j) {
      if (name == d.options[j].name) return "option \"" + name + "\" is declared twice";
    }
    for (const OptionSpec& h : host_options) {
      if (h.name == name) {
        return "option \"" + name + "\" is one of the agent's own options for every " +
               std::string(kind_name(registry_kind(d.kind)));
      }
    }
  }
  return "";
}

}  // namespace

const sluice_host_api* host_api() { return &kHostApi; }

std::string_view abi_kind_name(uint32_t kind) {
  switch (kind) {
    case SLUICE_KIND_INPUT:
      return "input";
    case SLUICE_KIND_SERVICE_INPUT:
      return "service input";
    case SLUICE_KIND_PROCESSOR:
      return "processor";
    case SLUICE_KIND_AGGREGATOR:
      return "aggregator";
    case SLUICE_KIND_OUTPUT:
      return "output";
    case SLUICE_KIND_PARSER:
      return "parser";
    case SLUICE_KIND_SERIALIZER:
      return "serializer";
    default:
      return "unknown";
  }
}

std::string check_descriptor(const sluice_plugin* d) {
  if (d == nullptr) return "a NULL descriptor";
  if (d->struct_size < SLUICE_SIZE_THROUGH(sluice_plugin, data)) {
    return too_small("descriptor", d->struct_size, SLUICE_SIZE_THROUGH(sluice_plugin, data));
  }
  if (d->abi_major != SLUICE_ABI_MAJOR) {
    return "built for plugin ABI " + std::to_string(d->abi_major) + ", this agent has ABI " +
           std::to_string(SLUICE_ABI_MAJOR);
  }
  if (!valid_name(d->name)) return "a plugin name of a-z, 0-9 and _ is needed";
  std::string name = d->name;
  if (d->create == nullptr || d->destroy == nullptr) {
    return "plugin \"" + name + "\": no create() or destroy()";
  }
  if (std::string why = check_callbacks(*d); !why.empty()) return "plugin \"" + name + "\": " + why;
  if (std::string why = check_options(*d); !why.empty()) return "plugin \"" + name + "\": " + why;
  return "";
}

PluginInfo plugin_info(const sluice_plugin& d, const std::string& origin,
                       const std::string& version) {
  PluginInfo info;
  info.kind = registry_kind(d.kind);
  info.name = d.name;
  info.description = d.description != nullptr ? d.description : "";
  for (size_t i = 0; i < d.option_count; ++i) {
    const sluice_option_spec& o = d.options[i];
    // The strings are the library's, which stays loaded for the life of the process.
    info.options.push_back(OptionSpec{o.name, static_cast<OptionType>(o.type),
                                      o.default_yaml != nullptr ? o.default_yaml : "",
                                      o.doc != nullptr ? o.doc : "", o.required != 0});
  }
  info.needs_previous_gather = (d.flags & SLUICE_PLUGIN_NEEDS_PREVIOUS_GATHER) != 0;
  info.origin = origin;
  info.version = version;
  info.library_kind = abi_kind_name(d.kind);
  const sluice_plugin* descriptor = &d;
  switch (d.kind) {
    case SLUICE_KIND_INPUT:
      info.create_input = [descriptor](const PluginContext& c) -> std::unique_ptr<Input> {
        return std::make_unique<AbiInput>(*descriptor, c);
      };
      break;
    case SLUICE_KIND_SERVICE_INPUT:
      info.create_input = [descriptor](const PluginContext& c) -> std::unique_ptr<Input> {
        return std::make_unique<AbiServiceInput>(*descriptor, c);
      };
      break;
    case SLUICE_KIND_PROCESSOR:
      info.create_processor = [descriptor](const PluginContext& c) -> std::unique_ptr<Processor> {
        return std::make_unique<AbiProcessor>(*descriptor, c);
      };
      break;
    case SLUICE_KIND_AGGREGATOR:
      info.create_aggregator = [descriptor](const PluginContext& c) -> std::unique_ptr<Aggregator> {
        return std::make_unique<AbiAggregator>(*descriptor, c);
      };
      break;
    case SLUICE_KIND_OUTPUT:
      info.create_output = [descriptor](const PluginContext& c) -> std::unique_ptr<Output> {
        return std::make_unique<AbiOutput>(*descriptor, c);
      };
      break;
    case SLUICE_KIND_SERIALIZER:
      info.create_serializer = [descriptor](const PluginContext& c) -> std::unique_ptr<Serializer> {
        return std::make_unique<AbiSerializer>(*descriptor, c);
      };
      break;
    case SLUICE_KIND_PARSER:
      info.create_parser = [descriptor](const PluginContext& c) -> std::unique_ptr<Parser> {
        return std::make_unique<AbiParser>(*descriptor, c);
      };
      break;
    default:
      break;
  }
  return info;
}

}  // namespace sluice::plugin
