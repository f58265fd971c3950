// Every system input against this machine's own /proc and /sys: the values are unknown, the
// shape is not. Catches parsing that only works on the fixtures.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

using Keys = std::set<std::string>;

// Points every HOST_* variable at the real filesystem for the scope.
struct RealHost {
  ScopedEnv proc{"HOST_PROC", std::nullopt};
  ScopedEnv sys{"HOST_SYS", std::nullopt};
  ScopedEnv etc{"HOST_ETC", std::nullopt};
  ScopedEnv var{"HOST_VAR", std::nullopt};
  ScopedEnv run{"HOST_RUN", std::nullopt};
  ScopedEnv prefix{"HOST_MOUNT_PREFIX", std::nullopt};
};

Keys field_keys(const Metric& m) {
  Keys keys;
  for (const FieldRef f : m.fields()) keys.emplace(f.key);
  return keys;
}

bool contains_all(const Keys& keys, const Keys& wanted) {
  for (const std::string& k : wanted) {
    if (!keys.contains(k)) {
      MESSAGE("missing field " << k);
      return false;
    }
  }
  return true;
}

RecordingAccumulator gather_once(const std::string& name, const OptionOverrides& o = {}) {
  RecordingAccumulator acc(0);
  make_input(name, o)->gather(acc);
  for (const std::string& e : acc.errors) MESSAGE(name << ": " << e);
  return acc;
}

}  // namespace

TEST_CASE("real host: cpu reports usage per CPU and in total") {
  RealHost host;
  auto input = make_input("cpu", {{"collect_cpu_time", true}, {"report_active", true}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  REQUIRE_FALSE(acc.metrics.empty());
  CHECK(field_keys(acc.metrics[0]) ==
        Keys{"time_active", "time_guest", "time_guest_nice", "time_idle", "time_iowait", "time_irq",
             "time_nice", "time_softirq", "time_steal", "time_system", "time_user"});
  // Usage needs at least one clock tick between gathers.
  const Metric* usage = nullptr;
  for (int attempt = 0; attempt < 40 && usage == nullptr; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    acc.next_gather(kGatherTime + attempt + 1);
    input->gather(acc);
    for (const Metric& m : acc.metrics) {
      if (m.tag("cpu") == "cpu-total" && m.field("usage_idle") != nullptr) usage = &m;
    }
  }
  REQUIRE(usage != nullptr);
  CHECK(field_keys(*usage) == Keys{"usage_active", "usage_guest", "usage_guest_nice", "usage_idle",
                                   "usage_iowait", "usage_irq", "usage_nice", "usage_softirq",
                                   "usage_steal", "usage_system", "usage_user"});
  double sum = 0;
  for (const char* k : {"usage_idle", "usage_active"}) sum += std::get<double>(*usage->field(k));
  CHECK(sum == doctest::Approx(100.0));
}

TEST_CASE("real host: mem and swap") {
  RealHost host;
  RecordingAccumulator mem = gather_once("mem");
  CHECK(mem.errors.empty());
  REQUIRE(mem.metrics.size() == 1);
  CHECK(field_keys(mem.metrics[0]) == Keys{"active",
                                           "available",
                                           "available_percent",
                                           "buffered",
                                           "cached",
                                           "commit_limit",
                                           "committed_as",
                                           "dirty",
                                           "free",
                                           "high_free",
                                           "high_total",
                                           "huge_page_size",
                                           "huge_pages_free",
                                           "huge_pages_total",
                                           "inactive",
                                           "low_free",
                                           "low_total",
                                           "mapped",
                                           "page_tables",
                                           "shared",
                                           "slab",
                                           "sreclaimable",
                                           "sunreclaim",
                                           "swap_cached",
                                           "swap_free",
                                           "swap_total",
                                           "total",
                                           "used",
                                           "used_percent",
                                           "vmalloc_chunk",
                                           "vmalloc_total",
                                           "vmalloc_used",
                                           "write_back",
                                           "write_back_tmp"});
  CHECK(std::get<int64_t>(*mem.metrics[0].field("total")) > 0);

  RecordingAccumulator swap = gather_once("swap");
  CHECK(swap.errors.empty());
  REQUIRE(swap.metrics.size() == 2);
  CHECK(field_keys(swap.metrics[0]) == Keys{"free", "total", "used", "used_percent"});
  CHECK(field_keys(swap.metrics[1]) == Keys{"in", "out"});
}

TEST_CASE("real host: disk measures the root filesystem") {
  RealHost host;
  RecordingAccumulator acc = gather_once("disk", {{"mount_points", std::vector<std::string>{"/"}},
                                                  {"ignore_fs", std::vector<std::string>{}}});
  CHECK(acc.errors.empty());
  REQUIRE_FALSE(acc.metrics.empty());
  const Metric& root = acc.metrics[0];
  CHECK(root.tag("path") == "/");
  CHECK(root.has_tag("device"));
  CHECK(root.has_tag("fstype"));
  CHECK(root.has_tag("mode"));
  CHECK(field_keys(root) == Keys{"free", "inodes_free", "inodes_total", "inodes_used", "total",
                                 "used", "used_percent"});
  CHECK(std::get<int64_t>(*root.field("total")) > 0);
}

TEST_CASE("real host: diskio, net and netstat") {
  RealHost host;
  RecordingAccumulator diskio = gather_once("diskio");
  CHECK(diskio.errors.empty());
  for (const Metric& m : diskio.metrics) {
    CHECK(m.has_tag("name"));
    CHECK(contains_all(field_keys(m), {"io_time", "iops_in_progress", "merged_reads",
                                       "merged_writes", "read_bytes", "read_time", "reads",
                                       "weighted_io_time", "write_bytes", "write_time", "writes"}));
  }

  RecordingAccumulator net = gather_once("net", {{"interfaces", std::vector<std::string>{"*"}}});
  CHECK(net.errors.empty());
  REQUIRE(net.metrics.size() >= 2);  // at least lo, and interface=all
  CHECK(field_keys(net.metrics[0]) == Keys{"bytes_recv", "bytes_sent", "drop_in", "drop_out",
                                           "err_in", "err_out", "packets_recv", "packets_sent"});
  const Metric& all = net.metrics.back();
  CHECK(all.tag("interface") == "all");
  CHECK(contains_all(field_keys(all), {"ip_forwarding", "ip_inreceives", "tcp_activeopens",
                                       "tcp_currestab", "udp_indatagrams", "icmp_inmsgs"}));

  RecordingAccumulator netstat = gather_once("netstat");
  CHECK(netstat.errors.empty());
  REQUIRE(netstat.metrics.size() == 1);
  CHECK(field_keys(netstat.metrics[0]) ==
        Keys{"tcp_close", "tcp_close_wait", "tcp_closing", "tcp_established", "tcp_fin_wait1",
             "tcp_fin_wait2", "tcp_last_ack", "tcp_listen", "tcp_none", "tcp_syn_recv",
             "tcp_syn_sent", "tcp_time_wait", "udp_socket"});
}

TEST_CASE("real host: system, kernel and processes") {
  RealHost host;
  RecordingAccumulator system = gather_once("system");
  CHECK(system.errors.empty());
  REQUIRE(system.metrics.size() == 3);
  CHECK(contains_all(field_keys(system.metrics[0]), {"load1", "load5", "load15", "n_cpus"}));
  CHECK(std::get<int64_t>(*system.metrics[0].field("n_cpus")) ==
        static_cast<int64_t>(sysconf(_SC_NPROCESSORS_CONF)));
  CHECK(field_keys(system.metrics[1]) == Keys{"uptime"});
  CHECK(field_keys(system.metrics[2]) == Keys{"uptime_format"});

  RecordingAccumulator kernel = gather_once("kernel");
  CHECK(kernel.errors.empty());
  REQUIRE(kernel.metrics.size() == 1);
  CHECK(contains_all(
      field_keys(kernel.metrics[0]),
      {"boot_time", "context_switches", "entropy_avail", "interrupts", "processes_forked"}));

  RecordingAccumulator processes = gather_once("processes");
  CHECK(processes.errors.empty());
  REQUIRE(processes.metrics.size() == 1);
  const Metric& p = processes.metrics[0];
  CHECK(field_keys(p) == Keys{"blocked", "dead", "idle", "paging", "parked", "running", "sleeping",
                              "stopped", "total", "total_threads", "unknown", "zombies"});
  // This test itself is running.
  CHECK(std::get<int64_t>(*p.field("running")) >= 1);
  CHECK(std::get<int64_t>(*p.field("total")) >= 1);
}

TEST_CASE("real host: procstat finds this test process through a pid file") {
  RealHost host;
  const std::string pid_file = (std::filesystem::temp_directory_path() /
                                ("sluice-test-" + std::to_string(getpid()) + ".pid"))
                                   .string();
  std::ofstream(pid_file) << getpid() << "\n";
  RecordingAccumulator acc = gather_once("procstat", {{"pid_file", pid_file}});
  std::filesystem::remove(pid_file);
  CHECK(acc.errors.empty());
  REQUIRE(acc.metrics.size() == 2);
  const Metric& self = acc.metrics[0];
  CHECK(self.tag("process_name") == "plugin_tests");
  CHECK(self.tag("pidfile") == pid_file);
  CHECK(self.has_tag("user"));
  CHECK(std::get<int64_t>(*self.field("pid")) == getpid());
  CHECK(contains_all(field_keys(self),
                     {"cpu_time_user", "cpu_time_system", "created_at", "memory_rss", "memory_vms",
                      "memory_usage", "num_threads", "num_fds", "read_bytes", "write_bytes",
                      "voluntary_context_switches", "rlimit_num_fds_soft", "ppid", "status"}));
  CHECK(acc.metrics[1].name() == "procstat_lookup");
  CHECK(acc.metrics[1].tag("result") == "success");
  CHECK(*acc.metrics[1].field("running") == FieldValue{int64_t{1}});
}
