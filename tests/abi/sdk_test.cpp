// The SDK and the agent's adapter together, in one process: plugin classes written as built-ins
// go through sdk.hpp, the C ABI and abi_adapter, and come out as the Input, Processor, ... the
// pipeline runs. What a library adds on top (dlopen, the loader's checks) is loader_test's.
#include "sluice/sdk.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "abi/abi_test_support.hpp"
#include "plugin/abi_adapter.hpp"
#include "plugin/loader.hpp"

using sluice::Batch;
using sluice::FieldValue;
using sluice::Metric;
using sluice::OptionError;
using sluice::Options;
using sluice::OptionSpec;
using sluice::OptionType;
using sluice::PluginContext;
using sluice::WriteResult;
namespace plugin = sluice::plugin;
namespace sdk = sluice::sdk;

namespace {

class RecordingLogger final : public sluice::Logger {
 public:
  void log(sluice::LogLevel level, std::string_view message) override {
    std::lock_guard lock(mutex);
    lines.emplace_back(level, std::string(message));
  }
  bool enabled(sluice::LogLevel level) const override { return level >= sluice::LogLevel::kInfo; }
  std::mutex mutex;
  std::vector<std::pair<sluice::LogLevel, std::string>> lines;
};

class RecordingAccumulator final : public sluice::Accumulator {
 public:
  void add(Metric m) override {
    std::lock_guard lock(mutex);
    metrics.push_back(std::move(m));
  }
  void add_error(std::string_view e) override {
    std::lock_guard lock(mutex);
    errors.emplace_back(e);
  }
  int64_t time() const override { return 42; }
  size_t size() {
    std::lock_guard lock(mutex);
    return metrics.size();
  }
  std::mutex mutex;
  Batch metrics;
  std::vector<std::string> errors;
};

// ---- Plugin classes, written as built-ins --------------------------------------------------

const OptionSpec kAllOptions[] = {
    {"flag", OptionType::kBool, "", ""},           {"count", OptionType::kInt, "", ""},
    {"ratio", OptionType::kFloat, "", ""},         {"text", OptionType::kString, "", ""},
    {"wait", OptionType::kDuration, "", ""},       {"limit", OptionType::kSize, "", ""},
    {"names", OptionType::kStringList, "", ""},    {"labels", OptionType::kStringMap, "", ""},
    {"rules", OptionType::kStringMapList, "", ""}, {"groups", OptionType::kStringListMap, "", ""},
};

Options all_options() {
  Options o;
  o.set("flag", true, true);
  o.set("count", int64_t{-7}, true);
  o.set("ratio", 0.5, false);
  o.set("text", std::string("hello"), true);
  o.set("wait", std::chrono::nanoseconds(1500), true);
  o.set("limit", uint64_t{1} << 40, true);
  o.set("names", std::vector<std::string>{"a", "b"}, true);
  o.set("labels", sluice::StringMap{{"k1", "v1"}, {"k2", "v2"}}, true);
  o.set("rules", std::vector<sluice::StringMap>{{{"from", "x"}}, {}, {{"a", "1"}, {"b", "2"}}},
        true);
  o.set("groups", sluice::StringListMap{{"g1", {"x", "y"}}, {"g2", {}}}, true);
  // The host's own options are there too; the plugin does not see them.
  o.set("alias", std::string("mine"), true);
  return o;
}

// Logs at creation.
class OptionsProbe final : public sluice::Processor {
 public:
  explicit OptionsProbe(const PluginContext& context) {
    context.log.info("created with text=" + context.options.get_string("text"));
  }
  Batch process(Batch batch) override { return batch; }
};

const OptionSpec kModeOptions[] = {{"mode", OptionType::kString, "pass", ""}};

// What it does to a batch is its `mode`.
class ModeProcessor final : public sluice::Processor {
 public:
  explicit ModeProcessor(const Options& o) : mode_(o.get_string("mode")) {
    if (mode_ == "refuse") throw OptionError("mode", "refused on purpose");
  }
  Batch process(Batch batch) override {
    if (mode_ == "throw") throw std::runtime_error("processing went wrong");
    if (mode_ == "throw_int") throw 42;
    if (mode_ == "square") {
      for (Metric& m : batch) {
        if (const auto* v = m.field("value")) {
          if (const int64_t* i = std::get_if<int64_t>(v)) m.set_field("squared", *i * *i);
        }
      }
    } else if (mode_ == "negate_in_place") {
      // Writes through the field itself: no field or tag is added, nothing moves.
      for (Metric& m : batch) {
        if (sluice::FieldValue* v = m.mutable_field("value")) *v = -std::get<int64_t>(*v);
      }
      if (!batch.empty()) {
        sluice::Metric& last = batch.back();
        last.rename_field(last.fields().front().key, "renamed");
      }
    } else if (mode_ == "drop_odd") {
      Batch kept;
      for (size_t i = 0; i < batch.size(); i += 2) kept.push_back(std::move(batch[i]));
      return kept;
    } else if (mode_ == "reverse_and_add") {
      Batch out(batch.rbegin(), batch.rend());
      out.emplace_back("added", 99);
      return out;
    }
    return batch;
  }

 private:
  std::string mode_;
};

const OptionSpec kResultOptions[] = {{"result", OptionType::kString, "ok", ""}};

class ResultOutput final : public sluice::Output {
 public:
  explicit ResultOutput(const Options& o) : result_(o.get_string("result")) {}
  WriteResult connect() override {
    if (result_ == "connect_fails") return WriteResult::retry("no route to host");
    return WriteResult::ok();
  }
  WriteResult write(std::span<const Metric> batch) override {
    written += batch.size();
    if (result_ == "retry") return WriteResult::retry("busy", std::chrono::seconds(5));
    if (result_ == "reject") return WriteResult::reject("bad request");
    if (result_ == "split") return WriteResult::split("too large");
    if (result_ == "throw") throw std::runtime_error("write threw");
    return WriteResult::ok();
  }
  void close() override { throw std::runtime_error("close threw"); }
  size_t written = 0;

 private:
  std::string result_;
};

class SumAggregator final : public sluice::Aggregator {
 public:
  void add(const Metric& m) override {
    if (const auto* v = m.field("value")) sum_ += std::get<int64_t>(*v);
  }
  void push(sluice::Accumulator& acc) override {
    Metric m("sum", acc.time());
    m.set_field("sum", sum_);
    acc.add(std::move(m));
  }
  void reset() override { sum_ = 0; }

 private:
  int64_t sum_ = 0;
};

class CsvSerializer final : public sluice::Serializer {
 public:
  void serialize(const Metric& m, std::string& out) override {
    out += m.name() + "," + std::to_string(m.time()) + "\n";
  }
  void serialize_batch(std::span<const Metric> batch, std::string& out) override {
    out += "name,time\n";
    for (const Metric& m : batch) serialize(m, out);
  }
};

// Adds metrics from its own thread between start and stop.
class TickerService final : public sluice::ServiceInput {
 public:
  void start(sluice::Accumulator& acc) override {
    thread_ = std::thread([this, &acc] {
      for (int i = 0; i < 3; ++i) {
        Metric m("tick", 0);
        m.set_field("n", int64_t{i});
        acc.add(std::move(m));
      }
    });
  }
  void stop() override {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

class GatherInput final : public sluice::Input {
 public:
  explicit GatherInput(const Options& o) : mode_(o.get_string("mode")) {}
  void gather(sluice::Accumulator& acc) override {
    Metric m("gathered", 0);
    m.set_tag("b", "2");
    m.set_tag("a", "1");
    m.set_field("text", std::string("x"));
    m.set_field("flag", true);
    m.set_field("u", uint64_t{5});
    acc.add(std::move(m));
    acc.add_error("a partial failure");
    if (mode_ == "throw") throw std::runtime_error("gather threw");
  }

 private:
  std::string mode_;
};

// Works on the agent's metrics in place: drops those tagged drop, tags and doubles the rest
// (unless `mode` is pass), and adds a count.
class InPlace final : public sdk::ViewProcessor {
 public:
  explicit InPlace(const Options& o) : pass_(o.get_string("mode") == "pass") {}
  void process(sdk::MetricBatch& batch) override {
    if (pass_) return;
    for (size_t i = 0; i < batch.size(); ++i) {
      sdk::MetricView m = batch[i];
      if (m.tag("drop")) {
        batch.drop(i);
        continue;
      }
      batch.set_tag(i, "seen", std::string(m.name()) + "/" + std::string(*m.tag("host")));
      if (auto v = m.number("value")) batch.set_field(i, "doubled", *v * 2);
      batch.remove_field(i, "gone");
      batch.set_field(i, "note", std::string("in place"));
    }
    Metric count("count", 7);
    count.set_field("n", static_cast<int64_t>(batch.size()));
    batch.add(std::move(count));
  }

 private:
  bool pass_;
};

// A library made of plugin classes, without dlopen: what the SDK's SLUICE_PLUGIN would export.
struct Library {
  std::unique_ptr<sdk::Library> sdk_library;
  std::vector<plugin::PluginInfo> plugins;
  const plugin::PluginInfo& operator[](size_t i) const { return plugins.at(i); }
};

Library make_library(std::initializer_list<sdk::PluginSpec> specs) {
  Library lib;
  lib.sdk_library = std::make_unique<sdk::Library>("9.9.9", specs);
  const sluice_library* d = lib.sdk_library->init(plugin::host_api(), SLUICE_ABI_MAJOR);
  REQUIRE(d != nullptr);
  REQUIRE(d->error == nullptr);
  for (uint32_t i = 0; i < d->plugin_count; ++i) {
    REQUIRE(plugin::check_descriptor(d->plugins[i]) == "");
    lib.plugins.push_back(plugin::plugin_info(*d->plugins[i], "test.so", d->version));
  }
  return lib;
}

Options mode(const std::string& m, const char* name = "mode") {
  Options o;
  o.set(name, m, true);
  return o;
}

Metric numbered(int64_t value) {
  Metric m("n", 1000 + value);
  m.set_tag("host", "h");
  m.set_field("value", value);
  return m;
}

}  // namespace

TEST_CASE("a plugin gets every option type as a built-in does, and the agent's logger") {
  Library lib = make_library({sdk::plugin<OptionsProbe>("probe", "Options probe", kAllOptions)});
  CHECK(lib[0].kind == plugin::Kind::kProcessor);
  CHECK(lib[0].options.size() == 10);
  CHECK(lib[0].version == "9.9.9");
  Options given = all_options();
  RecordingLogger log;
  auto processor = lib[0].create_processor(PluginContext{given, log});
  REQUIRE(processor != nullptr);
  REQUIRE(log.lines.size() == 1);
  CHECK(log.lines[0] == std::pair(sluice::LogLevel::kInfo, std::string("created with text=hello")));
}

TEST_CASE("options survive the boundary value for value") {
  // A plugin class that compares what it got with the expected options, in its constructor.
  struct Check final : public sluice::Processor {
    explicit Check(const Options& o) {
      Options expected = all_options();
      for (const OptionSpec& spec : kAllOptions) {
        if (!(o.value(spec.name) == expected.value(spec.name))) {
          throw OptionError(std::string(spec.name), "differs");
        }
        if (o.is_set(spec.name) != expected.is_set(spec.name)) {
          throw OptionError(std::string(spec.name), "is_set differs");
        }
      }
      if (o.has("alias")) throw OptionError("alias", "the agent's own option leaked");
    }
    Batch process(Batch b) override { return b; }
  };
  Library lib = make_library({sdk::plugin<Check>("check", "", kAllOptions)});
  Options given = all_options();
  RecordingLogger log;
  CHECK_NOTHROW(lib[0].create_processor(PluginContext{given, log}));
}

TEST_CASE("a pass-through processor hands back the agent's own batch: nothing is copied back") {
  Library lib = make_library({sdk::plugin<ModeProcessor>("mode", "", kModeOptions)});
  Options o = mode("pass");
  RecordingLogger log;
  auto p = lib[0].create_processor(PluginContext{o, log});
  Batch in{numbered(1), numbered(2), numbered(3)};
  Batch expected = in;
  const Metric* storage = in.data();
  Batch out = p->process(std::move(in));
  CHECK(out.data() == storage);
  CHECK(out == expected);
  // Again, with the plugin's pooled metrics reused.
  Batch second{numbered(4)};
  CHECK(p->process(second) == second);
}

TEST_CASE("changed, dropped, reordered and new metrics come back as the plugin left them") {
  Library lib = make_library({sdk::plugin<ModeProcessor>("mode", "", kModeOptions)});
  RecordingLogger log;
  Batch in{numbered(1), numbered(2), numbered(3), numbered(4)};

  Options square = mode("square");
  Batch squared = lib[0].create_processor(PluginContext{square, log})->process(in);
  REQUIRE(squared.size() == 4);
  CHECK(std::get<int64_t>(*squared[2].field("squared")) == 9);
  CHECK(squared[2].tag("host") == "h");

  // Changes made in place, through the field's own storage, are no less changes.
  Options negate = mode("negate_in_place");
  Batch negated = lib[0].create_processor(PluginContext{negate, log})->process(in);
  REQUIRE(negated.size() == 4);
  CHECK(std::get<int64_t>(*negated[0].field("value")) == -1);
  CHECK(std::get<int64_t>(*negated[2].field("value")) == -3);
  CHECK(negated[3].field("value") == nullptr);
  CHECK(std::get<int64_t>(*negated[3].field("renamed")) == -4);

  Options drop = mode("drop_odd");
  Batch dropped = lib[0].create_processor(PluginContext{drop, log})->process(in);
  CHECK(dropped == Batch{numbered(1), numbered(3)});

  Options reverse = mode("reverse_and_add");
  Batch reversed = lib[0].create_processor(PluginContext{reverse, log})->process(in);
  CHECK(reversed == Batch{numbered(4), numbered(3), numbered(2), numbered(1), Metric("added", 99)});
}

TEST_CASE("exceptions stop at the boundary and come back as errors with their message") {
  Library lib = make_library({sdk::plugin<ModeProcessor>("mode", "", kModeOptions),
                              sdk::plugin<GatherInput>("gather", "", kModeOptions)});
  RecordingLogger log;
  Options thrower = mode("throw");
  auto p = lib[0].create_processor(PluginContext{thrower, log});
  CHECK_THROWS_WITH_AS(p->process(Batch{numbered(1)}), "processing went wrong", std::runtime_error);
  Options int_thrower = mode("throw_int");
  auto q = lib[0].create_processor(PluginContext{int_thrower, log});
  CHECK_THROWS_WITH_AS(q->process(Batch{numbered(1)}), "unknown exception", std::runtime_error);

  // A failed creation names the option, as a built-in's OptionError does.
  Options refuse = mode("refuse");
  try {
    lib[0].create_processor(PluginContext{refuse, log});
    FAIL("created");
  } catch (const OptionError& e) {
    CHECK(e.option() == "mode");
    CHECK(std::string(e.what()) == "refused on purpose");
  }

  // What an input added before it threw is kept.
  Options gather_throw = mode("throw");
  auto input = lib[1].create_input(PluginContext{gather_throw, log});
  RecordingAccumulator acc;
  CHECK_THROWS_WITH_AS(input->gather(acc), "gather threw", std::runtime_error);
  CHECK(acc.metrics.size() == 1);
  CHECK(acc.errors == std::vector<std::string>{"a partial failure"});
}

TEST_CASE("an input's metrics arrive whole: sorted tags, every field type") {
  Library lib = make_library({sdk::plugin<GatherInput>("gather", "", kModeOptions)});
  RecordingLogger log;
  Options o = mode("ok");
  auto input = lib[0].create_input(PluginContext{o, log});
  CHECK(dynamic_cast<sluice::ServiceInput*>(input.get()) == nullptr);
  RecordingAccumulator acc;
  input->gather(acc);
  Metric expected("gathered", 0);
  expected.set_tag("a", "1");
  expected.set_tag("b", "2");
  expected.set_field("text", std::string("x"));
  expected.set_field("flag", true);
  expected.set_field("u", uint64_t{5});
  REQUIRE(acc.metrics.size() == 1);
  CHECK(acc.metrics[0] == expected);
}

TEST_CASE("a service input adds from its own thread between start and stop") {
  Library lib = make_library({sdk::plugin<TickerService>("ticker", "")});
  CHECK(lib[0].library_kind == "service input");
  RecordingLogger log;
  Options none;
  auto input = lib[0].create_input(PluginContext{none, log});
  auto* service = dynamic_cast<sluice::ServiceInput*>(input.get());
  REQUIRE(service != nullptr);
  RecordingAccumulator acc;
  service->start(acc);
  service->stop();
  CHECK(acc.size() == 3);
}

TEST_CASE("an output's results keep their meaning, Retry-After included") {
  Library lib = make_library({sdk::plugin<ResultOutput>("result", "", kResultOptions)});
  RecordingLogger log;
  Batch batch{numbered(1), numbered(2)};
  auto result_of = [&](const std::string& r) {
    Options o = mode(r, "result");
    auto out = lib[0].create_output(PluginContext{o, log});
    return out->write(batch);
  };
  CHECK(result_of("ok").status == WriteResult::Status::kOk);
  WriteResult retry = result_of("retry");
  CHECK(retry.status == WriteResult::Status::kRetry);
  CHECK(retry.error == "busy");
  CHECK(retry.retry_after == std::chrono::seconds(5));
  CHECK(result_of("reject").status == WriteResult::Status::kReject);
  WriteResult split = result_of("split");
  CHECK(split.status == WriteResult::Status::kSplit);
  CHECK(split.error == "too large");
  WriteResult threw = result_of("throw");
  CHECK(threw.status == WriteResult::Status::kRetry);
  CHECK(threw.error == "write threw");

  Options failing = mode("connect_fails", "result");
  auto out = lib[0].create_output(PluginContext{failing, log});
  WriteResult connect = out->connect();
  CHECK(connect.status == WriteResult::Status::kRetry);
  CHECK(connect.error == "no route to host");
  // close() cannot report a failure: it is logged through the instance's logger.
  out->close();
  REQUIRE(!log.lines.empty());
  CHECK(log.lines.back() ==
        std::pair(sluice::LogLevel::kError, std::string("close failed: close threw")));
}

TEST_CASE("an aggregator adds, pushes and resets through the boundary") {
  Library lib = make_library({sdk::plugin<SumAggregator>("sum", "")});
  RecordingLogger log;
  Options none;
  auto agg = lib[0].create_aggregator(PluginContext{none, log});
  agg->add(numbered(2));
  agg->add(numbered(5));
  RecordingAccumulator acc;
  agg->push(acc);
  agg->reset();
  agg->push(acc);
  REQUIRE(acc.metrics.size() == 2);
  CHECK(std::get<int64_t>(*acc.metrics[0].field("sum")) == 7);
  CHECK(acc.metrics[0].time() == 42);
  CHECK(std::get<int64_t>(*acc.metrics[1].field("sum")) == 0);
}

// "key=value" lines: a metric kv with that integer field; a line without '=' or with a value
// that is not an integer is reported with its line and column.
class KvParser final : public sluice::Parser {
 public:
  void parse(std::string_view data, int64_t now, Batch& out,
             std::vector<sluice::ParseError>& errors) override {
    size_t line = 0;
    while (!data.empty()) {
      ++line;
      size_t end = data.find('\n');
      std::string_view text = data.substr(0, end);
      data = end == std::string_view::npos ? std::string_view() : data.substr(end + 1);
      size_t eq = text.find('=');
      if (eq == std::string_view::npos) {
        errors.push_back({line, 1, "no '='"});
        continue;
      }
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(text.data() + eq + 1, text.data() + text.size(), value);
      if (ec != std::errc() || ptr != text.data() + text.size()) {
        errors.push_back({line, eq + 2, "not an integer"});
        continue;
      }
      Metric m("kv", line == 1 ? 0 : now + 1);  // the first without a time, the agent's then
      m.set_field(std::string(text.substr(0, eq)), value);
      out.push_back(std::move(m));
    }
  }
  bool splits_on_lines() const override { return true; }
};

TEST_CASE("a parser's metrics and bad records cross the boundary, positions in the words") {
  Library lib = make_library({sdk::plugin<KvParser>("kv", "key=value lines", {},
                                                    SLUICE_PLUGIN_SPLITS_ON_LINES)});
  CHECK(lib[0].kind == plugin::Kind::kParser);
  RecordingLogger log;
  Options none;
  auto parser = lib[0].create_parser(PluginContext{none, log});
  CHECK(parser->splits_on_lines());
  Batch out;
  std::vector<sluice::ParseError> errors;
  parser->parse("a=1\nnonsense\nb=x\nc=3", 500, out, errors);
  REQUIRE(out.size() == 2);
  CHECK(out[0].time() == 500);  // time 0 became the message's time
  CHECK(std::get<int64_t>(*out[0].field("a")) == 1);
  CHECK(out[1].time() == 501);
  CHECK(std::get<int64_t>(*out[1].field("c")) == 3);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].reason == "line 2, column 1: no '='");
  CHECK(errors[1].reason == "line 3, column 3: not an integer");
}

TEST_CASE("a serializer appends to the agent's buffer") {
  Library lib = make_library({sdk::plugin<CsvSerializer>("csv", "")});
  CHECK(lib[0].kind == plugin::Kind::kSerializer);
  RecordingLogger log;
  Options none;
  auto s = lib[0].create_serializer(PluginContext{none, log});
  std::string out = "before\n";
  s->serialize(numbered(1), out);
  CHECK(out == "before\nn,1001\n");
  Batch batch{numbered(2), numbered(3)};
  out.clear();
  s->serialize_batch(batch, out);
  CHECK(out == "name,time\nn,1002\nn,1003\n");
}

TEST_CASE("a library built with a newer SDK than the agent says so") {
  sdk::Library lib("1.0", {sdk::plugin<SumAggregator>("sum", "")});
  sluice_host_api older = *plugin::host_api();
  older.struct_size = offsetof(sluice_host_api, buffer_append);  // as if it had no buffer_append
  const sluice_library* d = lib.init(&older, SLUICE_ABI_MAJOR);
  REQUIRE(d != nullptr);
  REQUIRE(d->error != nullptr);
  CHECK(std::string(d->error).find("needs a newer agent") != std::string::npos);
  CHECK(lib.init(plugin::host_api(), SLUICE_ABI_MAJOR)->error == nullptr);
}

TEST_CASE("a C plugin edits the agent's metrics in place, drops, reorders and adds") {
  namespace fs = std::filesystem;
  fs::path dir =
      sluice::testing::plugin_folder("c-tagger", {sluice::testing::abi_module("abi_c_plugins")});
  plugin::PluginSet set = plugin::load_plugins({dir.string()}, plugin::LoadErrorPolicy::kSkip);
  const plugin::PluginInfo* tagger = set.registry->find(plugin::Kind::kProcessor, "c_tagger");
  REQUIRE(tagger != nullptr);
  RecordingLogger log;
  Options o;
  o.set("level", int64_t{3}, true);
  auto p = tagger->create_processor(PluginContext{o, log});

  Metric dropped = numbered(2);
  dropped.set_tag("drop", "yes");
  Batch out = p->process(Batch{numbered(1), dropped, numbered(3)});
  REQUIRE(out.size() == 3);
  CHECK(out[0].tag("tagged") == "yes");
  CHECK(std::get<int64_t>(*out[0].field("index")) == 0);
  CHECK(std::get<int64_t>(*out[1].field("value")) == 3);
  CHECK(std::get<int64_t>(*out[1].field("index")) == 2);
  CHECK(out[2].name() == "c_summary");
  CHECK(std::get<uint64_t>(*out[2].field("count")) == 3);
  CHECK(std::get<int64_t>(*out[2].field("level")) == 3);

  Metric first = numbered(1);
  first.set_tag("reverse", "1");
  Batch reversed = p->process(Batch{first, numbered(2)});
  REQUIRE(reversed.size() == 3);
  CHECK(std::get<int64_t>(*reversed[0].field("value")) == 2);
  CHECK(std::get<int64_t>(*reversed[1].field("value")) == 1);

  // The C plugin's own refusal of an option value.
  Options negative;
  negative.set("level", int64_t{-1}, true);
  CHECK_THROWS_AS(tagger->create_processor(PluginContext{negative, log}), OptionError);
}

TEST_CASE("a ViewProcessor changes the agent's metrics in place, drops and adds") {
  Library lib = make_library({sdk::plugin<InPlace>("in_place", "", kModeOptions)});
  RecordingLogger log;
  Options change = mode("change");
  auto p = lib[0].create_processor(PluginContext{change, log});
  Metric dropped = numbered(2);
  dropped.set_tag("drop", "yes");
  Metric with_gone = numbered(3);
  with_gone.set_field("gone", true);
  Batch out = p->process(Batch{numbered(1), dropped, with_gone});
  REQUIRE(out.size() == 3);
  Metric expected = numbered(1);
  expected.set_tag("seen", "n/h");
  expected.set_field("doubled", 2.0);
  expected.set_field("note", std::string("in place"));
  CHECK(out[0] == expected);
  CHECK(std::get<double>(*out[1].field("doubled")) == 6.0);
  CHECK(out[1].field("gone") == nullptr);
  CHECK(out[2].name() == "count");
  CHECK(std::get<int64_t>(*out[2].field("n")) == 3);

  // Passing everything on hands back the agent's own batch.
  Options pass = mode("pass");
  auto q = lib[0].create_processor(PluginContext{pass, log});
  Batch in{numbered(1), numbered(2)};
  const Metric* storage = in.data();
  Batch same = q->process(std::move(in));
  CHECK(same.data() == storage);
  CHECK(same == Batch{numbered(1), numbered(2)});
}
