#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("cpu: times on every gather, usage from the second one") {
  ScopedEnv proc("HOST_PROC", fixture("cpu/proc0"));
  auto input = make_input("cpu", {{"collect_cpu_time", true}, {"report_active", true}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  // The first gather has no previous sample, so no usage yet.
  CHECK(acc.lines() ==
        "cpu,cpu=cpu0 time_active=10.1,time_guest=0.5,time_guest_nice=0,time_idle=39,"
        "time_iowait=0.6,time_irq=0.05,time_nice=0.1,time_softirq=0.15,time_steal=0.2,"
        "time_system=3,time_user=6 1700000000000000000\n"
        "cpu,cpu=cpu1 time_active=6.9,time_guest=0,time_guest_nice=0,time_idle=41,"
        "time_iowait=0.4,time_irq=0.05,time_nice=0.1,time_softirq=0.15,time_steal=0.2,"
        "time_system=2,time_user=4 1700000000000000000\n"
        "cpu,cpu=cpu-total time_active=17,time_guest=0.5,time_guest_nice=0,time_idle=80,"
        "time_iowait=1,time_irq=0.1,time_nice=0.2,time_softirq=0.3,time_steal=0.4,time_system=5,"
        "time_user=10 1700000000000000000\n");
  CHECK(acc.metrics[0].type() == ValueType::kCounter);

  proc.set(fixture("cpu/proc1"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.errors.empty());
  // cpu0 ran 200 ticks: user 50 (10 of them guest), nice 4, system 20, idle 110, iowait 6,
  // irq 2, softirq 4, steal 4. usage_user leaves out guest time, which user already counts.
  CHECK(acc.lines() ==
        "cpu,cpu=cpu0 time_active=11,time_guest=0.6,time_guest_nice=0,time_idle=40.1,"
        "time_iowait=0.66,time_irq=0.07,time_nice=0.14,time_softirq=0.19,time_steal=0.24,"
        "time_system=3.2,time_user=6.5 1700000000000000000\n"
        "cpu,cpu=cpu0 usage_active=45,usage_guest=5,usage_guest_nice=0,usage_idle=55,"
        "usage_iowait=3,usage_irq=1,usage_nice=2,usage_softirq=2,usage_steal=2,usage_system=10,"
        "usage_user=20 1700000000000000000\n"
        "cpu,cpu=cpu1 time_active=7.35,time_guest=0,time_guest_nice=0,time_idle=41.55,"
        "time_iowait=0.42,time_irq=0.06,time_nice=0.1,time_softirq=0.16,time_steal=0.21,"
        "time_system=2.15,time_user=4.25 1700000000000000000\n"
        "cpu,cpu=cpu1 usage_active=45,usage_guest=0,usage_guest_nice=0,usage_idle=55,"
        "usage_iowait=2,usage_irq=1,usage_nice=0,usage_softirq=1,usage_steal=1,usage_system=15,"
        "usage_user=25 1700000000000000000\n"
        "cpu,cpu=cpu-total time_active=18.35,time_guest=0.6,time_guest_nice=0,time_idle=81.65,"
        "time_iowait=1.08,time_irq=0.13,time_nice=0.24,time_softirq=0.35,time_steal=0.45,"
        "time_system=5.35,time_user=10.75 1700000000000000000\n"
        "cpu,cpu=cpu-total usage_active=45,usage_guest=3.3333333333333335,usage_guest_nice=0,"
        "usage_idle=55,usage_iowait=2.6666666666666665,usage_irq=1,"
        "usage_nice=1.3333333333333333,usage_softirq=1.6666666666666667,"
        "usage_steal=1.6666666666666667,usage_system=11.666666666666666,"
        "usage_user=21.666666666666668 1700000000000000000\n");
  CHECK(acc.metrics[1].type() == ValueType::kGauge);
}

TEST_CASE("cpu: defaults report usage only, per CPU and in total") {
  ScopedEnv proc("HOST_PROC", fixture("cpu/proc0"));
  auto input = make_input("cpu");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.metrics.empty());
  CHECK(acc.errors.empty());
  proc.set(fixture("cpu/proc1"));
  input->gather(acc);
  CHECK(acc.lines() ==
        "cpu,cpu=cpu0 usage_guest=5,usage_guest_nice=0,usage_idle=55,usage_iowait=3,usage_irq=1,"
        "usage_nice=2,usage_softirq=2,usage_steal=2,usage_system=10,usage_user=20 "
        "1700000000000000000\n"
        "cpu,cpu=cpu1 usage_guest=0,usage_guest_nice=0,usage_idle=55,usage_iowait=2,usage_irq=1,"
        "usage_nice=0,usage_softirq=1,usage_steal=1,usage_system=15,usage_user=25 "
        "1700000000000000000\n"
        "cpu,cpu=cpu-total usage_guest=3.3333333333333335,usage_guest_nice=0,usage_idle=55,"
        "usage_iowait=2.6666666666666665,usage_irq=1,usage_nice=1.3333333333333333,"
        "usage_softirq=1.6666666666666667,usage_steal=1.6666666666666667,"
        "usage_system=11.666666666666666,usage_user=21.666666666666668 1700000000000000000\n");
}

TEST_CASE("cpu: percpu and totalcpu select the lines, core_tags adds core and package") {
  ScopedEnv proc("HOST_PROC", fixture("cpu/proc0"));
  auto total_only = make_input("cpu", {{"percpu", false}, {"collect_cpu_time", true}});
  auto per_cpu_only =
      make_input("cpu", {{"totalcpu", false}, {"collect_cpu_time", true}, {"core_tags", true}});
  RecordingAccumulator acc;
  total_only->gather(acc);
  REQUIRE(acc.metrics.size() == 1);
  CHECK(acc.metrics[0].tag("cpu") == "cpu-total");

  acc.next_gather(kGatherTime);
  per_cpu_only->gather(acc);
  REQUIRE(acc.metrics.size() == 2);
  CHECK(acc.lines().substr(0, acc.lines().find(' ')) == "cpu,core_id=0,cpu=cpu0,physical_id=0");
  CHECK(acc.metrics[1].tag("core_id") == "1");
  CHECK(acc.metrics[1].tag("physical_id") == "0");
}

TEST_CASE("cpu: a counter going back is reported and that CPU skipped") {
  ScopedEnv proc("HOST_PROC", fixture("cpu/proc1"));
  auto input = make_input("cpu");
  RecordingAccumulator acc;
  input->gather(acc);
  proc.set(fixture("cpu/proc2"));
  input->gather(acc);
  REQUIRE(acc.errors.size() == 1);
  CHECK(acc.errors[0].find("cpu1") != std::string::npos);
  REQUIRE(acc.metrics.size() == 2);
  CHECK(acc.metrics[0].tag("cpu") == "cpu0");
  CHECK(acc.metrics[1].tag("cpu") == "cpu-total");
}

TEST_CASE("cpu: a missing or garbled /proc/stat is an error, not a crash") {
  ScopedEnv proc("HOST_PROC", fixture("cpu/nonexistent"));
  auto input = make_input("cpu", {{"collect_cpu_time", true}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.metrics.empty());
  REQUIRE(acc.errors.size() == 1);
  CHECK(acc.errors[0] == "cpu: cannot read " + fixture("cpu/nonexistent/stat"));

  proc.set(fixture("cpu/garbled"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(has_error(acc, "malformed"));
  // The well-formed line still counts.
  REQUIRE(acc.metrics.size() == 1);
  CHECK(acc.metrics[0].tag("cpu") == "cpu0");
}
