#include "inputs/disk/disk.hpp"

#include <doctest/doctest.h>

#include <map>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;

namespace {

// statvfs answers by path; a path not listed fails as an unreachable mount would.
struct FakeStatFs {
  std::map<std::string, inputs::disk::FsUsage> answers;
  std::vector<std::string> asked;

  inputs::disk::StatFs fn() {
    return [this](const std::string& path, inputs::disk::FsUsage& out, std::string& error) {
      asked.push_back(path);
      auto it = answers.find(path);
      if (it == answers.end()) {
        error = "Permission denied";
        return false;
      }
      out = it->second;
      return true;
    };
  }
};

FakeStatFs standard_fs() {
  FakeStatFs fs;
  fs.answers["/"] = {4096, 1000000, 400000, 350000, 500000, 400000};
  fs.answers["/boot/efi"] = {512, 1048576, 1000000, 1000000, 0, 0};
  fs.answers["/mnt/My Backups"] = {4096, 2000000, 1500000, 1500000, 1000, 990};
  fs.answers["/srv/bind"] = {4096, 1000000, 400000, 350000, 500000, 400000};
  fs.answers["/sys"] = {4096, 0, 0, 0, 0, 0};
  fs.answers["/proc"] = {4096, 0, 0, 0, 0, 0};
  return fs;
}

std::unique_ptr<inputs::disk::Disk> make_disk(FakeStatFs& fs, const OptionOverrides& o = {}) {
  return std::make_unique<inputs::disk::Disk>(plugin_options(input_info("disk"), o), fs.fn());
}

}  // namespace

TEST_CASE("disk: mounted filesystems with Telegraf's tags, ignoring pseudo filesystems") {
  ScopedEnv proc("HOST_PROC", fixture("disk/proc"));
  ScopedEnv prefix("HOST_MOUNT_PREFIX", std::nullopt);
  FakeStatFs fs = standard_fs();
  auto disk = make_disk(fs);
  RecordingAccumulator acc;
  disk->gather(acc);
  CHECK(acc.errors.empty());
  // used_percent is used / (used + free): blocks reserved for root count as neither, as in df.
  CHECK(acc.lines() ==
        "disk,device=sda2,fstype=ext4,mode=rw,path=/ free=1433600000i,inodes_free=400000i,"
        "inodes_total=500000i,inodes_used=100000i,total=4096000000i,used=2457600000i,"
        "used_percent=63.1578947368421 1700000000000000000\n"
        "disk,device=sda1,fstype=vfat,mode=rw,path=/boot/efi free=512000000i,inodes_free=0i,"
        "inodes_total=0i,inodes_used=0i,total=536870912i,used=24870912i,"
        "used_percent=4.632568359375 1700000000000000000\n"
        "disk,device=sdb1,fstype=ext4,mode=ro,path=/mnt/My\\ Backups free=6144000000i,"
        "inodes_free=990i,inodes_total=1000i,inodes_used=10i,total=8192000000i,"
        "used=2048000000i,used_percent=25 1700000000000000000\n"
        "disk,device=sda2,fstype=ext4,mode=rw,path=/srv/bind free=1433600000i,"
        "inodes_free=400000i,inodes_total=500000i,inodes_used=100000i,total=4096000000i,"
        "used=2457600000i,used_percent=63.1578947368421 1700000000000000000\n");
  // tmpfs, devtmpfs, squashfs and overlay are ignored by default; autofs is never touched
  // (measuring it would trigger the mount).
  CHECK(fs.asked == std::vector<std::string>{"/sys", "/proc", "/", "/boot/efi", "/mnt/My Backups",
                                             "/srv/bind", "/mnt/nfs"});
}

TEST_CASE("disk: mount_points, ignore_fs and ignore_mount_opts select the mounts") {
  ScopedEnv proc("HOST_PROC", fixture("disk/proc"));
  FakeStatFs fs = standard_fs();
  RecordingAccumulator acc;
  make_disk(fs, {{"mount_points", std::vector<std::string>{"/", "/mnt/My Backups"}}})->gather(acc);
  REQUIRE(acc.metrics.size() == 2);
  CHECK(acc.metrics[0].tag("path") == "/");
  CHECK(acc.metrics[1].tag("path") == "/mnt/My Backups");

  acc.next_gather(kGatherTime);
  make_disk(fs, {{"ignore_mount_opts", std::vector<std::string>{"bind", "ro"}},
                 {"ignore_fs", std::vector<std::string>{"vfat"}}})
      ->gather(acc);
  REQUIRE(acc.metrics.size() == 1);
  CHECK(acc.metrics[0].tag("path") == "/");
}

TEST_CASE("disk: HOST_MOUNT_PREFIX measures under the prefix and tags the host's path") {
  ScopedEnv proc("HOST_PROC", fixture("disk/prefixed"));
  ScopedEnv prefix("HOST_MOUNT_PREFIX", "/hostfs");
  FakeStatFs fs;
  fs.answers["/hostfs"] = {4096, 100, 50, 40, 10, 5};
  fs.answers["/hostfs/data"] = {4096, 200, 100, 100, 20, 10};
  fs.answers["/hostfs/extra"] = {4096, 300, 150, 150, 30, 15};
  RecordingAccumulator acc;
  make_disk(fs)->gather(acc);
  // "/" maps to "/hostfs", which is listed itself: that twin is measured once.
  CHECK(fs.asked == std::vector<std::string>{"/hostfs/data", "/hostfs", "/hostfs/extra"});
  REQUIRE(acc.metrics.size() == 3);
  CHECK(acc.metrics[0].tag("path") == "/data");
  CHECK(acc.metrics[1].tag("path") == "/");
  CHECK(acc.metrics[1].tag("mode") == "ro");
  CHECK(acc.metrics[2].tag("path") == "/extra");
}

TEST_CASE("disk: falls back to self/mounts, no mounts file at all is an error") {
  FakeStatFs fs;
  fs.answers["/"] = {4096, 10, 5, 5, 10, 5};
  ScopedEnv proc("HOST_PROC", fixture("disk/self_only"));
  RecordingAccumulator acc;
  auto disk = make_disk(fs);
  disk->gather(acc);
  CHECK(acc.errors.empty());
  CHECK(acc.metrics.size() == 1);

  proc.set(fixture("disk/nonexistent"));
  acc.next_gather(kGatherTime);
  disk->gather(acc);
  CHECK(acc.metrics.empty());
  REQUIRE(acc.errors.size() == 1);
  CHECK(acc.errors[0] == "disk: cannot read " + fixture("disk/nonexistent/1/mounts") + " nor " +
                             fixture("disk/nonexistent/self/mounts"));
}

TEST_CASE("disk: the real statvfs measures the root filesystem") {
  inputs::disk::FsUsage usage;
  std::string error;
  REQUIRE(inputs::disk::system_statfs()("/", usage, error));
  CHECK(usage.blocks > 0);
  CHECK(usage.block_size > 0);
  CHECK_FALSE(inputs::disk::system_statfs()("/no/such/path", usage, error));
  CHECK(error == "No such file or directory");
}
