// The file input: whole files read each interval with globs, parsed with the data format.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "core/path_glob.hpp"
#include "input_test_support.hpp"
#include "plugin_test_support.hpp"
#include "support/net.hpp"

using namespace sluice;
using sluice::testing::input_from_yaml;
using sluice::testing::LockedAccumulator;
using sluice::testing::NullLogger;
using sluice::testing::TempDir;
namespace fs = std::filesystem;

namespace {

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("file input: reads every file a glob matches, tagged with its base name") {
  TempDir dir("file-input");
  write(dir / "a.influx", "cpu,host=a usage=1 1\ncpu,host=a usage=2 2\n");
  write(dir / "sub/b.influx", "mem used=5i 3\n");
  write(dir / "sub/deeper/c.influx", "disk free=7i 4\n");
  write(dir / "skip.txt", "nope value=1 5\n");
  NullLogger log;
  auto input =
      input_from_yaml("file", "files: ['" + (dir / "**/*.influx") + "'], file_tag: source", log);
  LockedAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() == std::vector<std::string>{
                                  "cpu,host=a,source=a.influx usage=1 1",
                                  "cpu,host=a,source=a.influx usage=2 2",
                                  "disk,source=c.influx free=7i 4",
                                  "mem,source=b.influx used=5i 3",
                              });
  // One batch per file.
  CHECK(acc.batches() == 3);
}

TEST_CASE("file input: another data format, no file_tag, read again each interval") {
  TempDir dir("file-input-prom");
  write(dir / "metrics.prom", "# TYPE up gauge\nup{job=\"node\"} 1\n");
  NullLogger log;
  auto input = input_from_yaml("file",
                               "files: ['" + (dir / "metrics.prom") +
                                   "'], data_format: prometheus, prometheus_metric_version: 1",
                               log);
  LockedAccumulator acc(1'000);
  input->gather(acc);
  CHECK(acc.errors().empty());
  CHECK(acc.sorted_lines() == std::vector<std::string>{"up,job=node gauge=1 1000"});
  write(dir / "metrics.prom", "# TYPE up gauge\nup{job=\"node\"} 0\n");
  acc.clear();
  input->gather(acc);
  CHECK(acc.sorted_lines() == std::vector<std::string>{"up,job=node gauge=0 1000"});
}

TEST_CASE(
    "file input: a missing file, a glob matching nothing and bad lines are errors, the rest goes "
    "on") {
  TempDir dir("file-input-bad");
  write(dir / "good.txt", "m v=1 1\nthis is not line protocol\nm v=2 2\n");
  NullLogger log;
  auto input = input_from_yaml("file",
                               "files: ['" + (dir / "missing.txt") + "', '" + (dir / "*.none") +
                                   "', '" + (dir / "good.txt") + "']",
                               log);
  LockedAccumulator acc;
  input->gather(acc);
  REQUIRE(acc.errors().size() == 2);
  CHECK(acc.errors()[0] ==
        "cannot read \"" + (dir / "missing.txt") + "\": No such file or directory");
  CHECK(acc.errors()[1] == "no file matches \"" + (dir / "*.none") + "\"");
  REQUIRE(acc.rejected().size() == 1);
  CHECK(acc.rejected()[0].starts_with(dir / "good.txt" + ": data_format influx, line 2"));
  CHECK(acc.sorted_lines() == std::vector<std::string>{"m v=1 1", "m v=2 2"});
  // The file appears: the next interval reads it.
  write(dir / "missing.txt", "late v=3 3\n");
  acc.clear();
  input->gather(acc);
  CHECK(acc.errors().size() == 1);
  CHECK(acc.sorted_lines() == std::vector<std::string>{"late v=3 3", "m v=1 1", "m v=2 2"});
}

TEST_CASE("file input: options are checked when it is created") {
  NullLogger log;
  CHECK_THROWS_WITH_AS(input_from_yaml("file", "files: []", log),
                       doctest::Contains("give at least one file"), std::exception);
  CHECK_THROWS_WITH_AS(input_from_yaml("file", "files: [x], data_format: nope", log),
                       doctest::Contains("unknown data format"), std::exception);
}

TEST_CASE("path glob: components, ** for any depth, hidden names, literal paths") {
  TempDir dir("path-glob");
  write(dir / "x/1.log", "");
  write(dir / "x/.hidden.log", "");
  write(dir / "x/y/2.log", "");
  write(dir / "x/y/3.txt", "");
  write(dir / "z/4.log", "");
  CHECK(core::expand_path_glob(dir / "x/*.log") == std::vector<std::string>{dir / "x/1.log"});
  CHECK(core::expand_path_glob(dir / "x/**/*.log") ==
        std::vector<std::string>{dir / "x/1.log", dir / "x/y/2.log"});
  CHECK(core::expand_path_glob(dir / "{x,z}/?.log") ==
        std::vector<std::string>{dir / "x/1.log", dir / "z/4.log"});
  CHECK(core::expand_path_glob(dir / "x/.*.log") ==
        std::vector<std::string>{dir / "x/.hidden.log"});
  CHECK(core::expand_path_glob(dir / "*/y/[0-9].*") ==
        std::vector<std::string>{dir / "x/y/2.log", dir / "x/y/3.txt"});
  // Directories are not files.
  CHECK(core::expand_path_glob(dir / "*").empty());
  CHECK(core::expand_path_glob(dir / "no/such") == std::vector<std::string>{dir / "no/such"});
}
