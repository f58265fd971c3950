// The official InfluxDB JavaScript client (@influxdata/influxdb-client, run by node) writes to
// influxdb_v2_listener through the whole pipeline into the file output: every point arrives,
// exactly as sent, with the bucket tag; a wrong token is refused and the client says so.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "config/config.hpp"
#include "pipeline/clock.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/registry.hpp"
#include "support/net.hpp"
#include "support/process.hpp"
#include "support/test_plugins.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

std::string node_dir() { return std::string(SLUICE_SOURCE_DIR) + "/tests/tools/node"; }

bool node_client_installed() {
  return std::filesystem::exists(node_dir() + "/node_modules/@influxdata/influxdb-client") &&
         run_command("node --version").exit_code == 0;
}

size_t count_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

TEST_CASE("influxdb_v2_listener: the official JavaScript client writes through the pipeline") {
  if (!node_client_installed()) {
    MESSAGE("skipped: run scripts/install-deps.sh (npm ci in tests/tools/node) for the client");
    return;
  }
  TempDir dir("listener-node");
  int port = free_port();
  std::string out = dir / "out.lp";
  std::string yaml = fmt::format(
      "agent: {{flush_interval: 100ms, metric_batch_size: 1000, omit_hostname: true}}\n"
      "inputs:\n  - influxdb_v2_listener: {{service_address: \"127.0.0.1:{}\", token: t0k3n, "
      "bucket_tag: bucket}}\n"
      "outputs:\n  - file: {{files: [\"{}\"], when_full: block}}\n",
      port, out);
  config::Config config = config::load_text(yaml, "node.yaml", plugin::Registry::builtins());
  pipeline::Pipeline pipeline(config, pipeline::SystemClock::instance());
  pipeline.start();
  REQUIRE(wait_for_port(port));
  std::string client =
      "cd " + node_dir() + " && node write_v2.mjs http://127.0.0.1:" + std::to_string(port);
  auto written = run_command(client + " t0k3n my-org my-bucket 2500");
  CHECK(written.exit_code == 0);
  CHECK(written.output.find("written 2500") != std::string::npos);
  REQUIRE(eventually([&] { return count_lines(read_text(out)) >= 2500; }, 15.0));

  auto refused = run_command(client + " wrong my-org my-bucket 10");
  CHECK(refused.exit_code != 0);
  CHECK(refused.output.find("401") != std::string::npos);

  pipeline.stop(pipeline::SystemClock::instance().now() + 2'000'000'000);
  std::string text = read_text(out);
  CHECK(count_lines(text) == 2500);
  CHECK(text.find("js,bucket=my-bucket,client=node,n=0 seq=0i,v=0 1700000000000000000\n") !=
        std::string::npos);
  CHECK(text.find("js,bucket=my-bucket,client=node,n=0 seq=2499i,v=1249.5 1700000000000002499\n") !=
        std::string::npos);
  auto& stats = pipeline.inputs()[0]->stats();
  CHECK(stats.metrics_gathered == 2500);
}
