// Service inputs that read bytes: what they parse reaches the outputs in one batch, and bad
// records are counted as rejected without stopping the rest.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "pipeline/agent.hpp"
#include "support/test_plugins.hpp"

using namespace sluice::pipeline;
using sluice::testing::eventually;
using sluice::testing::recording;

TEST_CASE("a service input's parsed metrics arrive in one batch, bad lines are counted as rejected") {
  ManualClock clock(5'000'000'000'000);
  auto path = std::filesystem::temp_directory_path() / "sluice-service-input-test.yaml";
  std::ofstream(path)
      << "agent: {interval: 1h, flush_interval: 1h, metric_batch_size: 3, omit_hostname: true}\n"
         "inputs:\n  - lines: {text: \"a v=1i\\nnot line protocol\\nb v=2i 7\\nc v=3i\\n\"}\n"
         "outputs:\n  - recorder: {name: service-lines}\n";
  sluice::config::LoadOptions options;
  options.files = {path.string()};
  options.registry = &sluice::testing::test_registry();
  {
    Agent agent(options, clock);
    agent.start();
    auto rec = recording("service-lines");
    REQUIRE(eventually([&] { return rec->metric_count() == 3; }));  // a full batch is flushed
    {
      std::lock_guard lock(rec->mutex);
      REQUIRE(rec->writes.size() == 1);
      CHECK(rec->writes[0][0].name() == "a");
      CHECK(rec->writes[0][0].time() == 5'000'000'000'000);  // the time it was read
      CHECK(rec->writes[0][1].time() == 7);
      CHECK(rec->writes[0][2].name() == "c");
    }
    auto& stats = agent.pipeline().inputs()[0]->stats();
    CHECK(stats.metrics_gathered == 3);
    CHECK(stats.metrics_rejected == 1);
    CHECK(stats.gather_errors == 0);
    agent.stop();
  }
  std::filesystem::remove(path);
}
