// procstat: resource usage of selected processes (by pid file, executable name, command line
// pattern or user), and a procstat_lookup metric telling how the selection went.
#include <regex.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "inputs/procstat/process_info.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::procstat {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"pid_file", OptionType::kString, "", "Select the process whose PID is in this file"},
    {"exe", OptionType::kString, "",
     "Select processes whose name matches this extended regex (pgrep)"},
    {"pattern", OptionType::kString, "",
     "Select processes whose command line matches this extended regex (pgrep -f)"},
    {"user", OptionType::kString, "", "Select processes of this user, by name or uid (pgrep -u)"},
    {"process_name", OptionType::kString, "", "Use this as process_name tag instead of the name"},
    {"prefix", OptionType::kString, "", "Prefix of field names (prefix_field)"},
    {"pid_tag", OptionType::kBool, "false", "Add the PID as a tag instead of a field"},
    {"cmdline_tag", OptionType::kBool, "false", "Add the whole command line as a tag"},
    {"pid_finder", OptionType::kString, "native",
     "How PIDs are found: native (reads /proc); pgrep is accepted and searches the same way"},
    {"mode", OptionType::kString, "irix",
     "cpu_usage as a share of one CPU (irix) or of all CPUs (solaris)"},
};

// A POSIX extended regular expression, the dialect of pgrep, searched anywhere in a text.
class Regex {
 public:
  Regex() = default;
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  ~Regex() {
    if (compiled_) regfree(&re_);
  }
  // Throws OptionError naming `option` when the pattern does not compile.
  void compile(const char* option, const std::string& pattern) {
    int rc = regcomp(&re_, pattern.c_str(), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
      char message[256];
      regerror(rc, &re_, message, sizeof(message));
      throw OptionError(option, "invalid regular expression \"" + pattern + "\": " + message);
    }
    compiled_ = true;
  }
  bool search(const std::string& text) const {
    return compiled_ && regexec(&re_, text.c_str(), 0, nullptr, 0) == 0;
  }

 private:
  regex_t re_{};
  bool compiled_ = false;
};

// What the previous gather saw of a process, for cpu_usage.
struct CpuSample {
  uint64_t start_ticks = 0;
  int64_t cpu_ticks = 0;
  int64_t time_ns = 0;
};

int64_t read_boot_time() {
  std::string text;
  int64_t btime = -1;
  if (!core::read_file(core::host_proc("stat"), text)) return btime;
  core::for_each_line(text, [&](std::string_view line) {
    std::vector<std::string_view> f = core::split_fields(line);
    if (f.size() == 2 && f[0] == "btime") core::parse_i64(f[1], btime);
  });
  return btime;
}

int64_t read_mem_total() {
  std::string text;
  int64_t total = 0;
  if (!core::read_file(core::host_proc("meminfo"), text)) return total;
  core::for_each_line(text, [&](std::string_view line) {
    std::string_view key, value;
    uint64_t bytes = 0;
    if (core::split_key_value(line, key, value) && key == "MemTotal" &&
        core::parse_kb_value(value, bytes)) {
      total = static_cast<int64_t>(bytes);
    }
  });
  return total;
}

class Procstat final : public Input {
 public:
  explicit Procstat(const Options& o)
      : pid_file_(o.get_string("pid_file")),
        exe_(o.get_string("exe")),
        pattern_(o.get_string("pattern")),
        user_(o.get_string("user")),
        process_name_(o.get_string("process_name")),
        prefix_(o.get_string("prefix").empty() ? "" : o.get_string("prefix") + "_"),
        pid_tag_(o.get_bool("pid_tag")),
        cmdline_tag_(o.get_bool("cmdline_tag")),
        pid_finder_(o.get_string("pid_finder")) {
    if (pid_finder_ != "native" && pid_finder_ != "pgrep") {
      throw OptionError("pid_finder",
                        "pid_finder must be native or pgrep, not \"" + pid_finder_ + "\"");
    }
    const std::string& mode = o.get_string("mode");
    if (mode != "irix" && mode != "solaris") {
      throw OptionError("mode", "mode must be irix or solaris, not \"" + mode + "\"");
    }
    solaris_ = mode == "solaris";
    // Telegraf's order of precedence when several selectors are given.
    if (!pid_file_.empty()) {
      selector_ = {"pidfile", pid_file_};
    } else if (!exe_.empty()) {
      selector_ = {"exe", exe_};
      regex_.compile("exe", exe_);
    } else if (!pattern_.empty()) {
      selector_ = {"pattern", pattern_};
      regex_.compile("pattern", pattern_);
    } else if (!user_.empty()) {
      selector_ = {"user", user_};
    } else {
      throw OptionError("pid_file", "one of pid_file, exe, pattern or user must be set");
    }
  }

  void gather(Accumulator& acc) override {
    std::vector<int64_t> pids;
    std::string error;
    users_ = read_passwd();
    if (!find_pids(pids, error)) {
      Metric lookup = lookup_metric("lookup_error");
      lookup.append_field("pid_count", int64_t{0});
      lookup.append_field("result_code", int64_t{1});
      lookup.append_field("running", int64_t{0});
      acc.add(std::move(lookup));
      acc.add_error("procstat: " + error);
      return;
    }
    const int64_t now = acc.time();
    const int64_t boot_time = read_boot_time();
    const int64_t mem_total = read_mem_total();
    std::map<int64_t, CpuSample> samples;
    int64_t running = 0;
    for (int64_t pid : pids) {
      ProcessInfo info;
      // A process that ended since it was found is simply not running any more.
      if (!read_process(pid, info, error) || info.name.empty()) continue;
      read_process_extras(info);
      ++running;
      acc.add(process_metric(info, now, boot_time, mem_total));
      samples[pid] = CpuSample{info.start_ticks, info.utime + info.stime, now};
    }
    last_ = std::move(samples);

    Metric lookup = lookup_metric("success");
    lookup.append_field("pid_count", static_cast<int64_t>(pids.size()));
    lookup.append_field("result_code", int64_t{0});
    lookup.append_field("running", running);
    acc.add(std::move(lookup));
  }

 private:
  Metric lookup_metric(const char* result) const {
    Metric m("procstat_lookup", 0);
    m.set_tag(selector_.first, selector_.second);
    m.set_tag("pid_finder", pid_finder_);
    m.set_tag("result", result);
    return m;
  }

  bool find_pids(std::vector<int64_t>& pids, std::string& error) const {
    if (!pid_file_.empty()) {
      std::string text;
      int64_t pid = 0;
      if (!core::read_file(pid_file_, text)) {
        error = "cannot read pid file " + pid_file_;
        return false;
      }
      if (!core::parse_i64(core::trim(text), pid) || pid <= 0) {
        error = "no PID in pid file " + pid_file_;
        return false;
      }
      pids.push_back(pid);
      return true;
    }
    int64_t uid = -1;
    if (!user_.empty() && exe_.empty() && pattern_.empty()) {
      for (const auto& [id, name] : users_) {
        if (name == user_) uid = id;
      }
      if (uid < 0 && (!core::parse_i64(user_, uid) || uid < 0)) {
        error = "unknown user " + user_ + " (not in " + core::host_etc("passwd") + ")";
        return false;
      }
    }
    for (int64_t pid : core::list_pids(core::host_proc())) {
      std::string text;
      if (!exe_.empty()) {
        if (read_name(pid, text) && regex_.search(text)) pids.push_back(pid);
      } else if (!pattern_.empty()) {
        if (read_cmdline(pid, text) && regex_.search(text)) pids.push_back(pid);
      } else {
        ProcessInfo info;
        if (read_process(pid, info, text) && info.uid == uid) pids.push_back(pid);
      }
    }
    return true;
  }

  std::string user_name(int64_t uid) const {
    auto it = users_.find(uid);
    return it != users_.end() ? it->second : std::to_string(uid);
  }

  Metric process_metric(const ProcessInfo& p, int64_t now, int64_t boot_time,
                        int64_t mem_total) const {
    Metric m("procstat", 0);
    m.set_tag(selector_.first, selector_.second);
    m.set_tag("process_name", process_name_.empty() ? p.name : process_name_);
    if (!m.has_tag("user")) m.set_tag("user", user_name(p.uid));
    if (pid_tag_) m.set_tag("pid", std::to_string(p.pid));
    if (cmdline_tag_) {
      std::string cmdline;
      if (read_cmdline(p.pid, cmdline)) m.set_tag("cmdline", cmdline);
    }
    if (!pid_tag_) m.append_field("pid", p.pid);  // never prefixed, as in Telegraf

    const double hz = static_cast<double>(core::clock_ticks());
    auto add = [&](const std::string& name, FieldValue v) {
      m.append_field(prefix_ + name, std::move(v));
    };
    add("child_major_faults", p.child_major_faults);
    add("child_minor_faults", p.child_minor_faults);
    add("cpu_time_iowait", static_cast<double>(p.blkio_ticks) / hz);
    add("cpu_time_system", static_cast<double>(p.stime) / hz);
    add("cpu_time_user", static_cast<double>(p.utime) / hz);
    // Whole seconds of CPU, the unit of its rlimit.
    add("cpu_time", (p.utime + p.stime) / core::clock_ticks());
    if (auto it = last_.find(p.pid);
        it != last_.end() && it->second.start_ticks == p.start_ticks && now > it->second.time_ns) {
      const int64_t ticks = p.utime + p.stime - it->second.cpu_ticks;
      // 100 * (ticks / hz) / (ns / 1e9), arranged so that whole numbers stay exact.
      double usage = 100.0 * static_cast<double>(ticks) * 1e9 /
                     (hz * static_cast<double>(now - it->second.time_ns));
      if (solaris_) usage /= static_cast<double>(online_cpus());
      add("cpu_usage", usage);
    }
    if (boot_time >= 0) {
      const int64_t ms =
          boot_time * 1000 + static_cast<int64_t>(p.start_ticks) * 1000 / core::clock_ticks();
      add("created_at", ms * 1'000'000);
    }
    add("involuntary_context_switches", p.involuntary_ctxt);
    add("major_faults", p.major_faults);
    add("memory_data", p.data);
    add("memory_locked", p.locked);
    add("memory_rss", p.rss);
    add("memory_stack", p.stack);
    add("memory_swap", p.swap);
    if (mem_total > 0) {
      add("memory_usage", 100.0 * static_cast<double>(p.rss) / static_cast<double>(mem_total));
    }
    add("memory_vms", p.vms);
    add("minor_faults", p.minor_faults);
    add("nice_priority", p.nice);
    if (p.has_fds) add("num_fds", p.num_fds);
    add("num_threads", p.num_threads);
    add("ppid", p.ppid);
    if (p.has_io) {
      add("read_bytes", p.read_bytes);
      add("read_count", p.read_count);
    }
    add("realtime_priority", p.rt_priority);
    for (const Rlimit& l : p.limits) {
      add("rlimit_" + l.name + "_hard", l.hard);
      add("rlimit_" + l.name + "_soft", l.soft);
    }
    add("signals_pending", p.signals_queued);
    if (const char* state = state_name(p.state); *state != '\0') add("status", std::string(state));
    add("voluntary_context_switches", p.voluntary_ctxt);
    if (p.has_io) {
      add("write_bytes", p.write_bytes);
      add("write_count", p.write_count);
    }
    m.sort_fields();
    return m;
  }

  static int64_t online_cpus() {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
  }

  std::string pid_file_, exe_, pattern_, user_, process_name_, prefix_;
  bool pid_tag_, cmdline_tag_;
  std::string pid_finder_;
  bool solaris_ = false;
  std::pair<std::string, std::string> selector_;  // the finder's tag, e.g. {"exe", "nginx"}
  Regex regex_;
  std::map<int64_t, std::string> users_;
  std::map<int64_t, CpuSample> last_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "procstat";
  info.needs_previous_gather = true;  // reports differences between gathers
  info.description = "CPU, memory, I/O and limits of selected processes, from /proc/<pid>";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<Procstat>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::procstat
