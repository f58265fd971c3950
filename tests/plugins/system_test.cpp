#include <doctest/doctest.h>
#include <unistd.h>
#include <utmp.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

// A utmp file written in a temporary directory, removed at the end of the test.
class TempUtmp {
 public:
  TempUtmp() {
    char pattern[] = "/tmp/sluice-utmp-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    dir_ = pattern;
  }
  ~TempUtmp() { std::filesystem::remove_all(dir_); }

  void add(short type, const char* user, const char* line) {
    struct utmp entry;
    std::memset(&entry, 0, sizeof(entry));
    entry.ut_type = type;
    std::strncpy(entry.ut_user, user, sizeof(entry.ut_user));
    std::strncpy(entry.ut_line, line, sizeof(entry.ut_line));
    records_.append(reinterpret_cast<const char*>(&entry), sizeof(entry));
  }
  // Writes the records to <dir>/<sub>/utmp and returns <dir>.
  std::string write(const std::string& sub) {
    std::filesystem::create_directories(dir_ + "/" + sub);
    std::ofstream(dir_ + "/" + sub + "/utmp", std::ios::binary) << records_;
    return dir_;
  }

 private:
  std::string dir_;
  std::string records_;
};

}  // namespace

TEST_CASE("system: load, CPUs, users from utmp, uptime and its formatted twin") {
  TempUtmp utmp;
  utmp.add(BOOT_TIME, "reboot", "~");
  utmp.add(LOGIN_PROCESS, "LOGIN", "tty1");
  utmp.add(USER_PROCESS, "alice", "pts/0");
  utmp.add(USER_PROCESS, "alice", "pts/1");
  utmp.add(USER_PROCESS, "bob", "pts/2");
  utmp.add(DEAD_PROCESS, "carol", "pts/3");
  ScopedEnv proc("HOST_PROC", fixture("system/proc"));
  ScopedEnv var("HOST_VAR", utmp.write("run"));
  auto input = make_input("system");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  // 273685 s is 3 days, 4 hours and 1 minute.
  CHECK(acc.lines() ==
        "system load1=0.52,load15=0.59,load5=0.58,n_cpus=4i,n_unique_users=2i,n_users=3i "
        "1700000000000000000\n"
        "system uptime=273685u 1700000000000000000\n"
        "system uptime_format=\"3 days,  4:01\" 1700000000000000000\n");
  REQUIRE(acc.metrics.size() == 3);
  CHECK(acc.metrics[0].type() == ValueType::kGauge);
  CHECK(acc.metrics[1].type() == ValueType::kCounter);
}

TEST_CASE("system: utmp under HOST_RUN, no cpuinfo counts /proc/stat, no utmp, no user counts") {
  TempUtmp utmp;
  utmp.add(USER_PROCESS, "dave", "pts/0");
  ScopedEnv proc("HOST_PROC", fixture("system/short"));
  ScopedEnv var("HOST_VAR", fixture("system/nonexistent"));
  ScopedEnv run("HOST_RUN", utmp.write("."));
  auto input = make_input("system");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  CHECK(acc.lines() ==
        "system load1=1.5,load15=0.125,load5=0.25,n_cpus=2i,n_unique_users=1i,n_users=1i "
        "1700000000000000000\n"
        "system uptime=86459u 1700000000000000000\n"
        "system uptime_format=\"1 day,  0:00\" 1700000000000000000\n");

  run.set(fixture("system/nonexistent"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.errors.empty());
  REQUIRE_FALSE(acc.metrics.empty());
  CHECK(acc.metrics[0].field("n_users") == nullptr);
}

TEST_CASE("system: missing or garbled files are errors, not a crash") {
  ScopedEnv proc("HOST_PROC", fixture("system/nonexistent"));
  ScopedEnv var("HOST_VAR", fixture("system/nonexistent"));
  ScopedEnv run("HOST_RUN", fixture("system/nonexistent"));
  auto input = make_input("system");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors ==
        std::vector<std::string>{"system: cannot read " + fixture("system/nonexistent/loadavg"),
                                 "system: cannot read " + fixture("system/nonexistent/uptime")});
  CHECK(acc.metrics.empty());

  proc.set(fixture("system/garbled"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  CHECK(acc.errors ==
        std::vector<std::string>{"system: malformed " + fixture("system/garbled/loadavg"),
                                 "system: malformed " + fixture("system/garbled/uptime")});
}
