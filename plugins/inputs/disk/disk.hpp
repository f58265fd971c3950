// disk: space and inodes of mounted filesystems. The class is public so that tests can give
// it a fake statvfs.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "sluice/plugin.hpp"

namespace sluice::inputs::disk {

// What statvfs(3) tells about one filesystem, in blocks of block_size bytes.
struct FsUsage {
  uint64_t block_size = 0;
  uint64_t blocks = 0;        // f_blocks
  uint64_t blocks_free = 0;   // f_bfree: free for root
  uint64_t blocks_avail = 0;  // f_bavail: free for everyone else
  uint64_t files = 0;         // f_files
  uint64_t files_free = 0;    // f_ffree
};

// Measures the filesystem mounted at `path`; false (with a reason) when it cannot.
using StatFs = std::function<bool(const std::string& path, FsUsage& out, std::string& error)>;

// The real statvfs(3).
StatFs system_statfs();

// One line of /proc/<pid>/mounts, with the octal escapes (\040 for a space) decoded.
struct Mount {
  std::string device;
  std::string mount_point;
  std::string fstype;
  std::vector<std::string> options;
};
std::vector<Mount> parse_mounts(std::string_view text);

class Disk final : public Input {
 public:
  Disk(const Options& options, StatFs statfs);
  void gather(Accumulator& acc) override;

 private:
  bool ignored(const Mount& mount) const;

  std::set<std::string, std::less<>> mount_points_;
  std::set<std::string, std::less<>> ignore_fs_;
  std::set<std::string, std::less<>> ignore_mount_opts_;
  StatFs statfs_;
};

}  // namespace sluice::inputs::disk
