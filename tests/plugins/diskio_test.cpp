#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

TEST_CASE("diskio: counters of every device, latency and utilisation from the second gather") {
  ScopedEnv proc("HOST_PROC", fixture("diskio/proc0"));
  ScopedEnv run("HOST_RUN", fixture("diskio/run"));
  auto input = make_input("diskio");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  // Sectors are 512 bytes in /proc/diskstats whatever the device.
  CHECK(acc.lines() ==
        "diskio,name=loop0 io_time=28u,iops_in_progress=0u,merged_reads=0u,merged_writes=0u,"
        "read_bytes=1123328u,read_time=13u,reads=52u,weighted_io_time=13u,write_bytes=0u,"
        "write_time=0u,writes=0u 1700000000000000000\n"
        "diskio,name=sda io_time=3912u,iops_in_progress=0u,merged_reads=5762u,"
        "merged_writes=6195u,read_bytes=998835200u,read_time=5022u,reads=28282u,"
        "weighted_io_time=9069u,write_bytes=343953408u,write_time=3548u,writes=9146u "
        "1700000000000000000\n"
        "diskio,name=sda1 io_time=84u,iops_in_progress=0u,merged_reads=120u,merged_writes=0u,"
        "read_bytes=5341184u,read_time=90u,reads=312u,weighted_io_time=91u,write_bytes=1024u,"
        "write_time=1u,writes=2u 1700000000000000000\n"
        "diskio,name=sdb io_time=2500u,iops_in_progress=1u,merged_reads=10u,merged_writes=5u,"
        "read_bytes=32768000u,read_time=2000u,reads=1000u,weighted_io_time=3500u,"
        "write_bytes=16384000u,write_time=1500u,writes=500u 1700000000000000000\n"
        "diskio,name=dm-0 io_time=3800u,iops_in_progress=0u,merged_reads=0u,merged_writes=0u,"
        "read_bytes=921600000u,read_time=4800u,reads=25000u,weighted_io_time=13800u,"
        "write_bytes=332800000u,write_time=9000u,writes=15000u 1700000000000000000\n");
  CHECK(acc.metrics[0].type() == ValueType::kCounter);

  // Ten seconds later: sda did 200 I/Os in 300 ms and was busy 1000 ms of the 10000.
  proc.set(fixture("diskio/proc1"));
  acc.next_gather(kGatherTime + 10 * kSecond);
  input->gather(acc);
  CHECK(acc.errors.empty());
  CHECK(acc.lines() ==
        "diskio,name=loop0 io_time=28u,io_util=0,iops_in_progress=0u,merged_reads=0u,"
        "merged_writes=0u,read_bytes=1123328u,read_time=13u,reads=52u,weighted_io_time=13u,"
        "write_bytes=0u,write_time=0u,writes=0u 1700000010000000000\n"
        "diskio,name=sda io_await=1.5,io_svctm=5,io_time=4912u,io_util=10,iops_in_progress=2u,"
        "merged_reads=5770u,merged_writes=6200u,read_bytes=1003955200u,read_time=5222u,"
        "reads=28382u,weighted_io_time=9369u,write_bytes=349073408u,write_time=3648u,"
        "writes=9246u 1700000010000000000\n"
        "diskio,name=sda1 io_time=84u,io_util=0,iops_in_progress=0u,merged_reads=120u,"
        "merged_writes=0u,read_bytes=5341184u,read_time=90u,reads=312u,weighted_io_time=91u,"
        "write_bytes=1024u,write_time=1u,writes=2u 1700000010000000000\n"
        "diskio,name=sdb io_time=2500u,io_util=0,iops_in_progress=0u,merged_reads=10u,"
        "merged_writes=5u,read_bytes=32768000u,read_time=2000u,reads=1000u,"
        "weighted_io_time=3500u,write_bytes=16384000u,write_time=1500u,writes=500u "
        "1700000010000000000\n"
        "diskio,name=dm-0 io_await=2.5,io_svctm=2.5,io_time=4300u,io_util=5,"
        "iops_in_progress=0u,merged_reads=0u,merged_writes=0u,read_bytes=926720000u,"
        "read_time=4900u,reads=25150u,weighted_io_time=14300u,write_bytes=337920000u,"
        "write_time=9400u,writes=15050u 1700000010000000000\n");
}

TEST_CASE("diskio: devices globs, serials, udev tags and name templates") {
  ScopedEnv proc("HOST_PROC", fixture("diskio/proc0"));
  ScopedEnv run("HOST_RUN", fixture("diskio/run"));
  auto input = make_input(
      "diskio", {{"devices", std::vector<std::string>{"sd?", "vg0/*"}},
                 {"skip_serial_number", false},
                 {"device_tags", std::vector<std::string>{"ID_FS_TYPE", "ID_MODEL"}},
                 {"name_templates", std::vector<std::string>{"$DM_VG_NAME/${DM_LV_NAME}"}}});
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.errors.empty());
  // sda1 and loop0 match no pattern; dm-0 matches through its udev link vg0/root.
  REQUIRE(acc.metrics.size() == 3);
  std::string lines = acc.lines();
  std::vector<std::string> heads;
  for (size_t at = 0; at < lines.size();) {
    size_t end = lines.find('\n', at);
    heads.push_back(lines.substr(at, lines.find(' ', at) - at));
    at = end + 1;
  }
  CHECK(heads == std::vector<std::string>{
                     "diskio,ID_MODEL=Example_SSD_1TB,name=sda,serial=Example_SSD_1TB_S1234",
                     "diskio,name=sdb,serial=unknown",
                     "diskio,ID_FS_TYPE=ext4,name=vg0/root,serial=unknown"});
}

TEST_CASE("diskio: a missing or garbled /proc/diskstats is an error, not a crash") {
  ScopedEnv proc("HOST_PROC", fixture("diskio/nonexistent"));
  auto input = make_input("diskio");
  RecordingAccumulator acc;
  input->gather(acc);
  CHECK(acc.metrics.empty());
  REQUIRE(acc.errors.size() == 1);
  CHECK(acc.errors[0] == "diskio: cannot read " + fixture("diskio/nonexistent/diskstats"));

  proc.set(fixture("diskio/garbled"));
  acc.next_gather(kGatherTime);
  input->gather(acc);
  REQUIRE(acc.errors.size() == 1);
  CHECK(acc.errors[0] == "diskio: malformed lines in " + fixture("diskio/garbled/diskstats"));
  // The 14-column line of older kernels is fine; only sda2 is malformed.
  REQUIRE(acc.metrics.size() == 2);
  CHECK(acc.metrics[0].tag("name") == "sda");
  CHECK(acc.metrics[1].tag("name") == "sdb");
}
