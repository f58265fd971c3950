#include <doctest/doctest.h>

#include "processor_test_support.hpp"

using sluice::testing::make_processor;
using sluice::testing::run_lines;

TEST_CASE("dedup: unchanged values are dropped until dedup_interval of metric time passes") {
  auto p = make_processor("dedup", "{dedup_interval: 10s}");
  CHECK(run_lines(*p, "m,h=a v=1i 0\n") == "m,h=a v=1i 0\n");
  CHECK(run_lines(*p, "m,h=a v=1i 5000000000\n") == "");
  CHECK(run_lines(*p, "m,h=a v=2i 6000000000\n") == "m,h=a v=2i 6000000000\n");
  CHECK(run_lines(*p, "m,h=a v=2i 15999999999\n") == "");
  CHECK(run_lines(*p, "m,h=a v=2i 16000000000\n") == "m,h=a v=2i 16000000000\n");
}

TEST_CASE("dedup: series are separate, a new field or another type passes") {
  auto p = make_processor("dedup", "{dedup_interval: 1m}");
  CHECK(run_lines(*p, "m,h=a v=1i 1\nm,h=b v=1i 1\nm,h=a v=1i 2\nn,h=a v=1i 2\n") ==
        "m,h=a v=1i 1\nm,h=b v=1i 1\nn,h=a v=1i 2\n");
  CHECK(run_lines(*p, "m,h=a v=1i,w=3i 3\n") == "m,h=a v=1i,w=3i 3\n");
  CHECK(run_lines(*p, "m,h=a w=3i 4\n") == "");
  CHECK(run_lines(*p, "m,h=a v=1 5\n") == "m,h=a v=1 5\n");  // a float is not the integer 1
  CHECK(run_lines(*p, "m,h=a v=\"1\" 6\n") == "m,h=a v=\"1\" 6\n");
}

TEST_CASE("dedup: metrics of one gather split over two metrics are both kept") {
  // Inputs such as system emit a series' fields in two metrics at the same time.
  auto p = make_processor("dedup", "{dedup_interval: 1m}");
  CHECK(run_lines(*p, "system load1=1 10\nsystem uptime=100i 10\n") ==
        "system load1=1 10\nsystem uptime=100i 10\n");
  CHECK(run_lines(*p, "system load1=1 20\nsystem uptime=110i 20\n") == "system uptime=110i 20\n");
  CHECK(run_lines(*p, "system load1=1 30\nsystem uptime=120i 30\n") == "system uptime=120i 30\n");
}

TEST_CASE("dedup: old series are forgotten and pass again, empty batch, option errors") {
  auto p = make_processor("dedup", "{dedup_interval: 1s}");
  CHECK(run_lines(*p, "a v=1i 0\n") == "a v=1i 0\n");
  CHECK(run_lines(*p, "b v=1i 5000000000\n") == "b v=1i 5000000000\n");
  CHECK(run_lines(*p, "a v=1i 5000000001\n") == "a v=1i 5000000001\n");
  CHECK(p->process({}).empty());
  CHECK_THROWS_AS(make_processor("dedup", "{dedup_interval: 0s}"), sluice::OptionError);
}
