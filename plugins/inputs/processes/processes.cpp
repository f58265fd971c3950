// processes: the number of processes in each state and of threads, from /proc/<pid>/stat.
#include <memory>
#include <string>
#include <vector>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::processes {
namespace {

const std::vector<OptionSpec> kOptions = {};

struct Counts {
  int64_t blocked = 0, dead = 0, idle = 0, paging = 0, parked = 0, running = 0, sleeping = 0,
          stopped = 0, total = 0, total_threads = 0, unknown = 0, zombies = 0;
};

void count_state(char state, Counts& c) {
  switch (state) {
    case 'R':
      ++c.running;
      break;
    case 'S':
      ++c.sleeping;
      break;
    case 'D':
      ++c.blocked;
      break;
    case 'Z':
      ++c.zombies;
      break;
    case 'X':
    case 'x':
      ++c.dead;
      break;
    case 'T':
    case 't':
      ++c.stopped;
      break;
    case 'W':
      ++c.paging;
      break;
    case 'I':
      ++c.idle;
      break;
    case 'P':
      ++c.parked;
      break;
    default:
      ++c.unknown;
      break;
  }
}

class Processes final : public Input {
 public:
  void gather(Accumulator& acc) override {
    const std::string proc = core::host_proc();
    const std::vector<int64_t> pids = core::list_pids(proc);
    if (pids.empty()) {
      acc.add_error("processes: no process directories found in " + proc);
      return;
    }
    Counts c;
    int64_t garbled = 0;
    std::string first_garbled;
    for (int64_t pid : pids) {
      const std::string path = core::host_proc(std::to_string(pid) + "/stat");
      std::string text;
      // A process may end between listing and reading: that is not an error.
      if (!core::read_file(path, text)) continue;
      // The command name is in parentheses and may itself hold spaces and ')'.
      size_t close = text.rfind(')');
      std::vector<std::string_view> f;
      if (close != std::string::npos)
        f = core::split_fields(std::string_view(text).substr(close + 1));
      int64_t threads = 0;
      // After the name: state is the 1st field, num_threads the 18th (field 20 of stat(5)).
      if (f.size() < 18 || f[0].size() != 1 || !core::parse_i64(f[17], threads)) {
        if (garbled++ == 0) first_garbled = path;
        continue;
      }
      count_state(f[0][0], c);
      ++c.total;
      c.total_threads += threads;
    }
    if (garbled > 0) {
      acc.add_error("processes: " + std::to_string(garbled) + " malformed stat file(s), first " +
                    first_garbled);
    }
    Metric m("processes", 0, ValueType::kGauge);
    m.append_field("blocked", c.blocked);
    m.append_field("dead", c.dead);
    m.append_field("idle", c.idle);
    m.append_field("paging", c.paging);
    m.append_field("parked", c.parked);
    m.append_field("running", c.running);
    m.append_field("sleeping", c.sleeping);
    m.append_field("stopped", c.stopped);
    m.append_field("total", c.total);
    m.append_field("total_threads", c.total_threads);
    m.append_field("unknown", c.unknown);
    m.append_field("zombies", c.zombies);
    acc.add(std::move(m));
  }
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "processes";
  info.description = "Number of processes by state, and of threads, from /proc";
  info.options = kOptions;
  info.create_input = [](const PluginContext&) { return std::make_unique<Processes>(); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::processes
