#include "inputs/procstat/process_info.hpp"

#include <limits>
#include <string_view>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"

namespace sluice::inputs::procstat {
namespace {

std::string pid_path(int64_t pid, std::string_view file) {
  return core::host_proc(std::to_string(pid) + "/" + std::string(file));
}

// Telegraf's names for the limits it reports, by the kernel's row title.
struct LimitRow {
  std::string_view title;
  const char* name;
};
constexpr LimitRow kLimitRows[] = {
    {"Max cpu time", "cpu_time"},
    {"Max data size", "memory_data"},
    {"Max stack size", "memory_stack"},
    {"Max resident set", "memory_rss"},
    {"Max open files", "num_fds"},
    {"Max locked memory", "memory_locked"},
    {"Max address space", "memory_vms"},
    {"Max file locks", "file_locks"},
    {"Max pending signals", "signals_pending"},
    {"Max nice priority", "nice_priority"},
    {"Max realtime priority", "realtime_priority"},
};

bool parse_limit(std::string_view text, uint64_t& out) {
  if (text == "unlimited") {
    out = std::numeric_limits<uint64_t>::max();
    return true;
  }
  return core::parse_u64(text, out);
}

bool read_stat(int64_t pid, ProcessInfo& info, std::string& error) {
  const std::string path = pid_path(pid, "stat");
  std::string text;
  if (!core::read_file(path, text)) {
    error = "cannot read " + path;
    return false;
  }
  // The command name is in parentheses and may itself hold spaces and ')'.
  size_t close = text.rfind(')');
  std::vector<std::string_view> f;
  if (close != std::string::npos) f = core::split_fields(std::string_view(text).substr(close + 1));
  // Index i here is field i + 3 of proc(5): state is field 3, delayacct_blkio_ticks field 42.
  bool ok = f.size() >= 40 && f[0].size() == 1;
  if (ok) {
    info.state = f[0][0];
    ok = core::parse_i64(f[1], info.ppid) && core::parse_u64(f[7], info.minor_faults) &&
         core::parse_u64(f[8], info.child_minor_faults) &&
         core::parse_u64(f[9], info.major_faults) &&
         core::parse_u64(f[10], info.child_major_faults) && core::parse_i64(f[11], info.utime) &&
         core::parse_i64(f[12], info.stime) && core::parse_i64(f[16], info.nice) &&
         core::parse_i64(f[17], info.num_threads) && core::parse_u64(f[19], info.start_ticks) &&
         core::parse_i64(f[37], info.rt_priority) && core::parse_i64(f[39], info.blkio_ticks);
  }
  if (!ok) error = "malformed " + path;
  return ok;
}

bool read_status(int64_t pid, ProcessInfo& info, std::string& error) {
  const std::string path = pid_path(pid, "status");
  std::string text;
  if (!core::read_file(path, text)) {
    error = "cannot read " + path;
    return false;
  }
  bool ok = true;
  core::for_each_line(text, [&](std::string_view line) {
    std::string_view key, value;
    if (!core::split_key_value(line, key, value)) return;
    uint64_t bytes = 0;
    auto kb = [&](int64_t& out) {
      if (core::parse_kb_value(value, bytes)) {
        out = static_cast<int64_t>(bytes);
      } else {
        ok = false;
      }
    };
    if (key == "Name") {
      info.name = std::string(value);
    } else if (key == "Uid") {
      std::vector<std::string_view> ids = core::split_fields(value);
      if (ids.empty() || !core::parse_i64(ids[0], info.uid)) ok = false;
    } else if (key == "VmRSS") {
      kb(info.rss);
    } else if (key == "VmSize") {
      kb(info.vms);
    } else if (key == "VmData") {
      kb(info.data);
    } else if (key == "VmStk") {
      kb(info.stack);
    } else if (key == "VmLck") {
      kb(info.locked);
    } else if (key == "VmSwap") {
      kb(info.swap);
    } else if (key == "voluntary_ctxt_switches") {
      ok = ok && core::parse_i64(value, info.voluntary_ctxt);
    } else if (key == "nonvoluntary_ctxt_switches") {
      ok = ok && core::parse_i64(value, info.involuntary_ctxt);
    } else if (key == "SigQ") {  // "queued/limit" for the process's real user
      ok = ok && core::parse_i64(value.substr(0, value.find('/')), info.signals_queued);
    }
  });
  if (!ok) error = "malformed " + path;
  return ok;
}

}  // namespace

bool read_process(int64_t pid, ProcessInfo& info, std::string& error) {
  info = ProcessInfo{};
  info.pid = pid;
  if (!read_stat(pid, info, error) || !read_status(pid, info, error)) return false;
  // status cuts the name at 15 characters; the command line may hold the whole of it.
  if (info.name.size() >= 15) {
    std::string cmdline;
    std::string path = pid_path(pid, "cmdline");
    if (core::read_file(path, cmdline)) {
      std::string_view first(cmdline.c_str());  // up to the first NUL
      std::string_view base = first.substr(first.rfind('/') + 1);
      if (base.substr(0, info.name.size()) == info.name) info.name = std::string(base);
    }
  }
  return true;
}

void read_process_extras(ProcessInfo& info) {
  std::string text;
  if (core::read_file(pid_path(info.pid, "io"), text)) {
    int found = 0;
    core::for_each_line(text, [&](std::string_view line) {
      std::string_view key, value;
      if (!core::split_key_value(line, key, value)) return;
      uint64_t* target = key == "syscr"         ? &info.read_count
                         : key == "syscw"       ? &info.write_count
                         : key == "read_bytes"  ? &info.read_bytes
                         : key == "write_bytes" ? &info.write_bytes
                                                : nullptr;
      if (target != nullptr && core::parse_u64(value, *target)) ++found;
    });
    info.has_io = found == 4;
  }
  // Counting the fd directory needs the same rights as io; an empty listing means no access.
  const std::string fd_dir = pid_path(info.pid, "fd");
  std::vector<std::string> fds = core::list_dir(fd_dir);
  if (!fds.empty()) {
    info.has_fds = true;
    info.num_fds = static_cast<int64_t>(fds.size());
  }
  if (core::read_file(pid_path(info.pid, "limits"), text)) {
    core::for_each_line(text, [&](std::string_view line) {
      for (const LimitRow& row : kLimitRows) {
        if (line.substr(0, row.title.size()) != row.title) continue;
        std::string_view rest = line.substr(row.title.size());
        if (rest.empty() || rest.front() != ' ') continue;  // "Max realtime priority/timeout"
        std::vector<std::string_view> f = core::split_fields(rest);
        Rlimit limit{row.name, 0, 0};
        if (f.size() >= 2 && parse_limit(f[0], limit.soft) && parse_limit(f[1], limit.hard)) {
          info.limits.push_back(std::move(limit));
        }
      }
    });
  }
}

bool read_cmdline(int64_t pid, std::string& out) {
  if (!core::read_file(pid_path(pid, "cmdline"), out)) return false;
  while (!out.empty() && out.back() == '\0') out.pop_back();
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  return true;
}

bool read_name(int64_t pid, std::string& out) {
  std::string text;
  if (!core::read_file(pid_path(pid, "status"), text)) return false;
  bool found = false;
  core::for_each_line(text, [&](std::string_view line) {
    std::string_view key, value;
    if (!found && core::split_key_value(line, key, value) && key == "Name") {
      out = std::string(value);
      found = true;
    }
  });
  return found;
}

std::map<int64_t, std::string> read_passwd() {
  std::map<int64_t, std::string> users;
  std::string text;
  if (!core::read_file(core::host_etc("passwd"), text)) return users;
  core::for_each_line(text, [&](std::string_view line) {
    // name:password:uid:gid:gecos:home:shell
    size_t a = line.find(':');
    if (a == std::string_view::npos) return;
    size_t b = line.find(':', a + 1);
    if (b == std::string_view::npos) return;
    size_t c = line.find(':', b + 1);
    int64_t uid = 0;
    if (core::parse_i64(line.substr(b + 1, c - b - 1), uid)) {
      users.emplace(uid, std::string(line.substr(0, a)));
    }
  });
  return users;
}

const char* state_name(char state) {
  switch (state) {
    case 'R':
      return "running";
    case 'S':
      return "sleep";
    case 'D':
      return "blocked";
    case 'I':
      return "idle";
    case 'T':
    case 't':
      return "stop";
    case 'W':
      return "wait";
    case 'Z':
      return "zombie";
    default:
      return "";
  }
}

}  // namespace sluice::inputs::procstat
