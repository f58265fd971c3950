// What procstat reads about one process from /proc/<pid>/{stat,status,io,limits,fd,cmdline}.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace sluice::inputs::procstat {

// One line of /proc/<pid>/limits; "unlimited" is UINT64_MAX, as the kernel's RLIM_INFINITY.
struct Rlimit {
  std::string name;  // Telegraf's resource name: cpu_time, memory_data, num_fds, ...
  uint64_t soft = 0;
  uint64_t hard = 0;
};

struct ProcessInfo {
  int64_t pid = 0;
  std::string name;  // status "Name", completed from the command line when cut at 15 chars
  char state = '?';
  int64_t ppid = 0;
  uint64_t minor_faults = 0, child_minor_faults = 0, major_faults = 0, child_major_faults = 0;
  int64_t utime = 0, stime = 0, blkio_ticks = 0;  // clock ticks
  int64_t nice = 0, rt_priority = 0, num_threads = 0;
  uint64_t start_ticks = 0;  // since boot

  int64_t uid = -1;                                                     // real uid
  int64_t rss = 0, vms = 0, data = 0, stack = 0, locked = 0, swap = 0;  // bytes
  int64_t voluntary_ctxt = 0, involuntary_ctxt = 0;
  int64_t signals_queued = 0;

  // Readable only by the process's owner (or root): left out when not.
  bool has_io = false;
  uint64_t read_count = 0, write_count = 0, read_bytes = 0, write_bytes = 0;
  bool has_fds = false;
  int64_t num_fds = 0;
  std::vector<Rlimit> limits;
};

// Reads stat and status, which every process has; false with a reason when it cannot (the
// process ended, or the files are malformed).
bool read_process(int64_t pid, ProcessInfo& info, std::string& error);
// Adds io, fd and limits where readable.
void read_process_extras(ProcessInfo& info);

// The command line with its arguments joined by spaces; false when unreadable.
bool read_cmdline(int64_t pid, std::string& out);
// The "Name:" of /proc/<pid>/status, without completing it.
bool read_name(int64_t pid, std::string& out);

// uid -> user name from HOST_ETC/passwd.
std::map<int64_t, std::string> read_passwd();

// gopsutil's words for a state letter ("running", "sleep", ...); "" when unknown.
const char* state_name(char state);

}  // namespace sluice::inputs::procstat
