#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("mem: every field of /proc/meminfo in bytes, with Telegraf's derived values") {
  ScopedEnv proc("HOST_PROC", fixture("mem/proc"));
  auto input = make_input("mem");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  // cached = Cached + SReclaimable; used = total - free - buffers - cached.
  CHECK(acc.lines() ==
        "mem active=6291456000i,available=10485760000i,available_percent=62.5,"
        "buffered=524288000i,cached=5872025600i,commit_limit=16777216000i,"
        "committed_as=12582912000i,dirty=192512i,free=4194304000i,high_free=0i,high_total=0i,"
        "huge_page_size=2097152i,huge_pages_free=8i,huge_pages_total=16i,inactive=4194304000i,"
        "low_free=0i,low_total=0i,mapped=419430400i,page_tables=41943040i,shared=209715200i,"
        "slab=838860800i,sreclaimable=629145600i,sunreclaim=209715200i,swap_cached=2097152i,"
        "swap_free=6291456000i,swap_total=8388608000i,total=16777216000i,used=6186598400i,"
        "used_percent=36.875,vmalloc_chunk=0i,vmalloc_total=35184372087808i,"
        "vmalloc_used=62914560i,write_back=12288i,write_back_tmp=4096i 1700000000000000000\n");
  CHECK(acc.metrics[0].type() == ValueType::kGauge);
}

TEST_CASE("mem: a missing or garbled /proc/meminfo is an error, not a crash") {
  ScopedEnv proc("HOST_PROC", fixture("mem/nonexistent"));
  auto input = make_input("mem");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.metrics.empty());
  REQUIRE(acc.errors.size() == 1);
  CHECK(acc.errors[0] == "mem: cannot read " + fixture("mem/nonexistent/meminfo"));

  proc.set(fixture("mem/garbled"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.metrics.empty());
  REQUIRE(acc.errors.size() == 1);
  CHECK(acc.errors[0] == "mem: malformed value of MemFree in " + fixture("mem/garbled/meminfo"));
}
