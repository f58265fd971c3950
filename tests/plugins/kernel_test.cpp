#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("kernel: /proc/stat counters and the entropy pool") {
  ScopedEnv proc("HOST_PROC", fixture("kernel/proc"));
  auto input = make_input("kernel");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  CHECK(acc.lines() ==
        "kernel boot_time=1700000000i,context_switches=261356i,entropy_avail=256i,"
        "interrupts=115676i,processes_forked=4926i 1700000000000000000\n");
  CHECK(acc.metrics[0].type() == ValueType::kCounter);

  // Kernels before 2.6 had a "page" line.
  proc.set(fixture("kernel/old"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.lines() ==
        "kernel boot_time=1700000000i,context_switches=261356i,disk_pages_in=5741i,"
        "disk_pages_out=1808i,entropy_avail=4096i,interrupts=115676i,processes_forked=4926i "
        "1700000000000000000\n");
}

TEST_CASE("kernel: collect ksm and psi") {
  ScopedEnv proc("HOST_PROC", fixture("kernel/proc"));
  ScopedEnv sys("HOST_SYS", fixture("kernel/sys"));
  auto input = make_input("kernel", {{"collect", std::vector<std::string>{"ksm", "psi"}}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  // cpu/full is left out, as Telegraf does.
  CHECK(acc.lines() ==
        "kernel boot_time=1700000000i,context_switches=261356i,entropy_avail=256i,"
        "interrupts=115676i,ksm_full_scans=12i,ksm_max_page_sharing=256i,"
        "ksm_merge_across_nodes=1i,ksm_pages_shared=100i,ksm_pages_sharing=250i,"
        "ksm_pages_to_scan=100i,ksm_pages_unshared=30i,ksm_pages_volatile=5i,ksm_run=1i,"
        "ksm_sleep_millisecs=20i,ksm_stable_node_chains=0i,"
        "ksm_stable_node_chains_prune_millisecs=2000i,ksm_stable_node_dups=0i,"
        "ksm_use_zero_pages=0i,processes_forked=4926i 1700000000000000000\n"
        "pressure,resource=cpu,type=some total=1088168194u 1700000000000000000\n"
        "pressure,resource=cpu,type=some avg10=1.53,avg60=1.87,avg300=1.73 1700000000000000000\n"
        "pressure,resource=memory,type=some total=3463792u 1700000000000000000\n"
        "pressure,resource=memory,type=some avg10=0,avg60=0.21,avg300=0.47 1700000000000000000\n"
        "pressure,resource=memory,type=full total=1429641u 1700000000000000000\n"
        "pressure,resource=memory,type=full avg10=0,avg60=0.1,avg300=0.25 1700000000000000000\n"
        "pressure,resource=io,type=some total=68568296u 1700000000000000000\n"
        "pressure,resource=io,type=some avg10=0.14,avg60=0.17,avg300=0.38 1700000000000000000\n"
        "pressure,resource=io,type=full total=54982338u 1700000000000000000\n"
        "pressure,resource=io,type=full avg10=0.12,avg60=0.16,avg300=0.36 "
        "1700000000000000000\n");
}

TEST_CASE("kernel: an unknown collect value is refused when the plugin is made") {
  CHECK_THROWS_AS(make_input("kernel", {{"collect", std::vector<std::string>{"nope"}}}),
                  OptionError);
}

TEST_CASE("kernel: missing or garbled files are errors, readable counters still report") {
  ScopedEnv proc("HOST_PROC", fixture("kernel/nonexistent"));
  ScopedEnv sys("HOST_SYS", fixture("kernel/nonexistent"));
  auto input = make_input("kernel", {{"collect", std::vector<std::string>{"psi"}}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.metrics.empty());
  CHECK(acc.errors == std::vector<std::string>{
                          "kernel: cannot read " + fixture("kernel/nonexistent/stat"),
                          "kernel: cannot read a number from " +
                              fixture("kernel/nonexistent/sys/kernel/random/entropy_avail"),
                          "kernel: cannot read " + fixture("kernel/nonexistent/pressure/cpu"),
                          "kernel: cannot read " + fixture("kernel/nonexistent/pressure/memory"),
                          "kernel: cannot read " + fixture("kernel/nonexistent/pressure/io")});

  proc.set(fixture("kernel/garbled"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(has_error(acc, "kernel: malformed counters in " + fixture("kernel/garbled/stat")));
  CHECK(has_error(acc,
                  "kernel: malformed pressure line in " + fixture("kernel/garbled/pressure/cpu")));
  CHECK(acc.lines() ==
        "kernel boot_time=1700000000i,interrupts=115676i,processes_forked=4926i "
        "1700000000000000000\n");
}
