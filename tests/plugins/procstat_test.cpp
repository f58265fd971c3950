#include <doctest/doctest.h>

#include "core/host_paths.hpp"
#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

// An expected-output file of the fixtures, with @PIDFILE@ standing for the pid file's path.
std::string expected(const std::string& name) {
  std::string text;
  REQUIRE(core::read_file(fixture("procstat/expected/" + name), text));
  const std::string pid_file = fixture("procstat/run/nginx.pid");
  for (size_t at = text.find("@PIDFILE@"); at != std::string::npos;
       at = text.find("@PIDFILE@", at)) {
    text.replace(at, 9, pid_file);
  }
  return text;
}

struct ProcstatEnv {
  ScopedEnv proc{"HOST_PROC", fixture("procstat/proc0")};
  ScopedEnv etc{"HOST_ETC", fixture("procstat/etc")};
};

}  // namespace

TEST_CASE("procstat: the process of a pid file, with cpu_usage from the second gather") {
  ProcstatEnv env;
  auto input = make_input("procstat", {{"pid_file", fixture("procstat/run/nginx.pid")}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  std::string first = acc.lines();

  // Ten seconds later the process has used 50 more user ticks and 25 more system ticks:
  // 0.75 s of CPU in 10 s is 7.5 %.
  env.proc.set(fixture("procstat/proc1"));
  acc.next_gather(kGatherTime + 10 * kSecond);
  input->gather(acc);
  CHECK(acc.errors.empty());
  CHECK(first + acc.lines() == expected("pid_file.out"));
}

TEST_CASE("procstat: by user, with a prefix, the PID as a tag and a name longer than 15") {
  ProcstatEnv env;
  auto input = make_input(
      "procstat",
      {{"user", std::string("alice")}, {"prefix", std::string("app")}, {"pid_tag", true}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  CHECK(acc.lines() == expected("user_prefix_pid_tag.out"));
}

TEST_CASE("procstat: by executable name (regex), io and fds only where readable") {
  ProcstatEnv env;
  auto input = make_input("procstat", {{"exe", std::string("^ngin.$")}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  REQUIRE(acc.metrics.size() == 3);
  const Metric& master = acc.metrics[0];
  const Metric& worker = acc.metrics[1];
  CHECK(master.tag("exe") == "^ngin.$");
  CHECK(master.tag("user") == "root");
  CHECK(worker.tag("user") == "www-data");
  CHECK(worker.tag("process_name") == "nginx");
  CHECK(*worker.field("pid") == FieldValue{int64_t{4243}});
  CHECK(*worker.field("ppid") == FieldValue{int64_t{4242}});
  CHECK(master.field("read_bytes") != nullptr);
  CHECK(worker.field("read_bytes") == nullptr);
  CHECK(worker.field("num_fds") == nullptr);
  CHECK(acc.lines().substr(acc.lines().rfind("procstat_lookup")) ==
        "procstat_lookup,exe=^ngin.$,pid_finder=native,result=success pid_count=2i,"
        "result_code=0i,running=2i 1700000000000000000\n");
}

TEST_CASE("procstat: by command line pattern, with the command line as a tag") {
  ProcstatEnv env;
  auto input = make_input("procstat", {{"pattern", std::string(R"(server\.py --port [0-9]+)")},
                                       {"cmdline_tag", true},
                                       {"process_name", std::string("api")}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  REQUIRE(acc.metrics.size() == 2);
  CHECK(acc.metrics[0].tags() ==
        std::vector<Tag>{{"cmdline", "/usr/bin/python3 /opt/app/server.py --port 8080"},
                         {"pattern", R"(server\.py --port [0-9]+)"},
                         {"process_name", "api"},
                         {"user", "alice"}});
  CHECK(*acc.metrics[0].field("pid") == FieldValue{int64_t{5000}});
}

TEST_CASE("procstat: a lookup that fails gives result=lookup_error and an error") {
  ProcstatEnv env;
  RecordingAccumulator acc;
  const std::string missing = fixture("procstat/run/missing.pid");
  make_input("procstat", {{"pid_file", missing}})->gather(acc);
  CHECK(acc.errors == std::vector<std::string>{"procstat: cannot read pid file " + missing});
  CHECK(acc.lines() == "procstat_lookup,pid_finder=native,pidfile=" + missing +
                           ",result=lookup_error pid_count=0i,result_code=1i,running=0i "
                           "1700000000000000000\n");

  acc.next_gather(kGatherTime);
  const std::string garbled = fixture("procstat/run/garbled.pid");
  make_input("procstat", {{"pid_file", garbled}})->gather(acc);
  CHECK(acc.errors == std::vector<std::string>{"procstat: no PID in pid file " + garbled});
  CHECK(acc.metrics.size() == 1);

  acc.next_gather(kGatherTime);
  make_input("procstat", {{"user", std::string("nobody-here")}})->gather(acc);
  CHECK(has_error(acc, "unknown user nobody-here"));
  CHECK(acc.metrics.size() == 1);
}

TEST_CASE("procstat: a pid file naming a process that is gone finds one PID running none") {
  ProcstatEnv env;
  RecordingAccumulator acc;
  const std::string gone = fixture("procstat/run/gone.pid");
  make_input("procstat", {{"pid_file", gone}})->gather(acc);
  CHECK(acc.errors.empty());
  CHECK(acc.lines() == "procstat_lookup,pid_finder=native,pidfile=" + gone +
                           ",result=success pid_count=1i,result_code=0i,running=0i "
                           "1700000000000000000\n");
}

TEST_CASE("procstat: options are checked when the plugin is made") {
  CHECK_THROWS_AS(make_input("procstat"), OptionError);
  CHECK_THROWS_AS(make_input("procstat", {{"pattern", std::string("([unclosed")}}), OptionError);
  CHECK_THROWS_AS(
      make_input("procstat", {{"exe", std::string("x")}, {"pid_finder", std::string("magic")}}),
      OptionError);
}
