// tail input across restarts: the offset up to which every line was delivered is kept in a state
// file under agent.state_dir, so lines written while the input is stopped, or read but not
// delivered when it stopped, are read after the next start; truncated and replaced files start
// at 0; a corrupt state file is reported and ignored; two inputs keep separate state.
#include <filesystem>
#include <fstream>

#include "core/delivery.hpp"
#include "plugin_test_support.hpp"
#include "processor_test_support.hpp"
#include "service_recorder.hpp"
#include "tail_files.hpp"
#include "support/net.hpp"
#include "support/test_plugins.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

// The "n" tags of what was read, in order.
std::string numbers(const std::vector<Metric>& metrics) {
  std::string s;
  for (const Metric& m : metrics) {
    if (!s.empty()) s += ",";
    s += std::string(m.tag("n").value_or("?"));
  }
  return s;
}

// Each case: a state folder and a log file in a temporary folder; delivery groups counted
// before, to check that every one ends.
struct StateCase {
  int64_t groups_before = DeliveryGroup::groups_in_flight();
  TempDir dir{"tail-state"};
  std::string state = dir / "state";
  std::string path = dir / "app.log";
};

// One run of a tail input with a state folder: started, then stopped and destroyed.
struct Run {
  CapturingLogger log;
  Options options;
  std::unique_ptr<Input> input;
  ServiceInput* service = nullptr;
  ServiceRecorder rec;

  Run(const std::string& state_dir, const OptionOverrides& overrides) {
    plugin::PluginInfo info = input_info("tail");
    info.options.push_back({"data_format", OptionType::kString, "influx", "format"});
    info.options.push_back({"alias", OptionType::kString, "", "alias"});
    for (const plugin::PluginInfo* parser : builtin_registry().list(plugin::Kind::kParser)) {
      info.options.insert(info.options.end(), parser->options.begin(), parser->options.end());
    }
    options = plugin_options(info, overrides);
    input = info.create_input(PluginContext{options, log, state_dir});
    service = dynamic_cast<ServiceInput*>(input.get());
    REQUIRE(service != nullptr);
    service->start(rec);
  }
  ~Run() { service->stop(); }
  bool has(size_t n) {
    return eventually([&] { return rec.metric_count() >= n; }, 10);
  }
  // Takes what was read and lets it go: delivered, or dropped unwritten.
  std::vector<Metric> release(bool delivered) {
    std::vector<Metric> metrics = rec.take();
    if (!delivered) mark_lost(metrics);
    std::vector<Metric> copy = metrics;
    for (Metric& m : copy) m.set_delivery(nullptr);
    return copy;  // without their groups, which end here
  }
  // Waits a little more, so that a line read twice would show.
  void settle() { std::this_thread::sleep_for(std::chrono::milliseconds(300)); }
};

std::vector<std::string> state_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("tail resumes after a restart: lines appended while it was stopped are read") {
  StateCase c;
  auto& [groups_before, dir, state, path] = c;
  append(path, lines(0, 2));  // never seen before: the first run starts at the end
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    append(path, lines(2, 4));
    REQUIRE(r.has(2));
    CHECK(numbers(r.release(true)) == "2,3");
  }
  CHECK(state_files(state).size() == 1);
  append(path, lines(4, 7));  // while the agent is down
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    REQUIRE(r.has(3));
    r.settle();
    CHECK(numbers(r.release(true)) == "4,5,6");
    append(path, lines(7, 8));
    REQUIRE(r.has(1));
    CHECK(numbers(r.release(true)) == "7");
    CHECK(r.rec.rejected().empty());
  }
  // A file seen before is resumed even with from_beginning false; nothing new: nothing read.
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    r.settle();
    CHECK(r.rec.metric_count() == 0);
  }
  CHECK(DeliveryGroup::groups_in_flight() == groups_before);
}

TEST_CASE("tail reads again after a restart what was read but not delivered when it stopped") {
  StateCase c;
  auto& [groups_before, dir, state, path] = c;
  append(path, "");
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    append(path, lines(0, 3));
    REQUIRE(r.has(3));
    CHECK(numbers(r.release(true)) == "0,1,2");
    // Give the tail thread time to take the reports, so the next lines are a separate chunk.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    append(path, lines(3, 5));
    REQUIRE(r.has(2));
    // Stopped while the outputs still hold these lines; then they are dropped unwritten.
    r.service->stop();
    CHECK(numbers(r.release(false)) == "3,4");
  }
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    REQUIRE(r.has(2));
    r.settle();
    CHECK(numbers(r.release(true)) == "3,4");
  }
  // Lines still held when the input stops and delivered afterwards (the outputs' last flush)
  // are not read again.
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    append(path, lines(5, 7));
    REQUIRE(r.has(2));
    r.service->stop();
    CHECK(numbers(r.release(true)) == "5,6");
  }
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    append(path, lines(7, 8));
    REQUIRE(r.has(1));
    r.settle();
    CHECK(numbers(r.release(true)) == "7");
  }
  CHECK(DeliveryGroup::groups_in_flight() == groups_before);
}

TEST_CASE("tail starts at 0 in a file truncated while it was stopped, and in a replaced file") {
  StateCase c;
  auto& [groups_before, dir, state, path] = c;
  append(path, "");
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    append(path, lines(0, 5));
    REQUIRE(r.has(5));
    r.release(true);
  }
  replace_contents(path, lines(10, 12));  // shorter than the saved offset: truncated
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    REQUIRE(r.has(2));
    r.settle();
    CHECK(numbers(r.release(true)) == "10,11");
    CHECK(r.log.contains("truncated"));
  }
  // Replaced (a rotation while the agent was down): another inode at the same path, longer than
  // the saved offset, is read from its beginning.
  std::string fresh = dir / "app.log.new";
  append(fresh, lines(20, 30));
  std::filesystem::rename(fresh, path);
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    REQUIRE(r.has(10));
    r.settle();
    CHECK(numbers(r.release(true)) == "20,21,22,23,24,25,26,27,28,29");
    CHECK(r.log.contains("replaced"));
  }
  CHECK(DeliveryGroup::groups_in_flight() == groups_before);
}

TEST_CASE("tail warns of a corrupt state file and starts as configured") {
  StateCase c;
  auto& [groups_before, dir, state, path] = c;
  append(path, "");
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    append(path, lines(0, 2));
    REQUIRE(r.has(2));
    r.release(true);
  }
  REQUIRE(state_files(state).size() == 1);
  replace_contents(state_files(state)[0], "not a state file\n1 2 3\n");
  append(path, lines(2, 4));  // not read: the state is lost, and the file starts at its end
  {
    Run r(state, {{"files", std::vector<std::string>{path}}});
    CHECK(r.log.contains("is not a tail state file"));
    append(path, lines(4, 5));
    REQUIRE(r.has(1));
    r.settle();
    CHECK(numbers(r.release(true)) == "4");
  }
  // A line that is not DEVICE INODE OFFSET PATH is named.
  replace_contents(state_files(state)[0], "sluice-tail-state 1\n1 x 3 /a\n");
  {
    Run r(state, {{"files", std::vector<std::string>{path}}, {"from_beginning", true}});
    CHECK(r.log.contains(":2: expected"));
    REQUIRE(r.has(5));
    r.release(true);
  }
  CHECK(DeliveryGroup::groups_in_flight() == groups_before);
}

TEST_CASE("two tail inputs keep separate state files") {
  StateCase c;
  auto& [groups_before, dir, state, path] = c;
  append(path, "");
  {
    Run a(state, {{"files", std::vector<std::string>{path}}, {"alias", std::string("a")}});
    Run b(state, {{"files", std::vector<std::string>{path}}, {"alias", std::string("b")}});
    append(path, lines(0, 3));
    REQUIRE(a.has(3));
    REQUIRE(b.has(3));
    a.service->stop();
    b.service->stop();
    a.release(true);
    b.release(false);  // b's outputs never wrote them
  }
  CHECK(state_files(state).size() == 2);
  {
    Run a(state, {{"files", std::vector<std::string>{path}}, {"alias", std::string("a")}});
    Run b(state, {{"files", std::vector<std::string>{path}}, {"alias", std::string("b")}});
    REQUIRE(b.has(3));
    a.settle();
    CHECK(a.rec.metric_count() == 0);
    CHECK(numbers(b.release(true)) == "0,1,2");
    a.release(true);
  }
  // Without aliases, inputs with different files get different names (a hash of the globs).
  {
    Run c(state, {{"files", std::vector<std::string>{path}}});
    Run d(state, {{"files", std::vector<std::string>{path, dir / "other.log"}}});
    c.settle();
  }
  CHECK(state_files(state).size() == 4);
  CHECK(DeliveryGroup::groups_in_flight() == groups_before);
}
