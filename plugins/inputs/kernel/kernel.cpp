// kernel: kernel activity counters from /proc/stat and the entropy pool; optionally Kernel
// Samepage Merging counters (/sys/kernel/mm/ksm) and Pressure Stall Information (/proc/pressure).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::kernel {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"collect", OptionType::kStringList, "",
     "Additional statistics: ksm (kernel same-page merging), psi (pressure stall information)"},
};

// The files of /sys/kernel/mm/ksm reported as ksm_<name>.
const char* const kKsmFiles[] = {
    "full_scans",       "max_page_sharing",   "merge_across_nodes",
    "pages_shared",     "pages_sharing",      "pages_to_scan",
    "pages_unshared",   "pages_volatile",     "run",
    "sleep_millisecs",  "stable_node_chains", "stable_node_chains_prune_millisecs",
    "stable_node_dups", "use_zero_pages",
};

bool read_int_file(const std::string& path, int64_t& out) {
  std::string text;
  return core::read_file(path, text) && core::parse_i64(core::trim(text), out);
}

// One line of /proc/pressure/<resource>: "some avg10=0.00 avg60=0.00 avg300=0.00 total=0".
struct Pressure {
  double avg10 = 0, avg60 = 0, avg300 = 0;
  uint64_t total = 0;
};

bool parse_pressure(std::string_view line, std::string_view& type, Pressure& p) {
  std::vector<std::string_view> f = core::split_fields(line);
  if (f.size() != 5) return false;
  type = f[0];
  int seen = 0;
  for (size_t i = 1; i < f.size(); ++i) {
    size_t eq = f[i].find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view key = f[i].substr(0, eq), value = f[i].substr(eq + 1);
    bool ok = key == "avg10"    ? core::parse_double(value, p.avg10)
              : key == "avg60"  ? core::parse_double(value, p.avg60)
              : key == "avg300" ? core::parse_double(value, p.avg300)
              : key == "total"  ? core::parse_u64(value, p.total)
                                : false;
    if (!ok) return false;
    ++seen;
  }
  return seen == 4;
}

class Kernel final : public Input {
 public:
  explicit Kernel(const Options& o) {
    for (const std::string& what : o.get_strings("collect")) {
      if (what == "ksm") {
        ksm_ = true;
      } else if (what == "psi") {
        psi_ = true;
      } else {
        throw OptionError("collect", "unknown statistics \"" + what + "\" (known: ksm, psi)");
      }
    }
  }

  void gather(Accumulator& acc) override {
    Metric m("kernel", 0, ValueType::kCounter);
    gather_stat(acc, m);
    const std::string entropy = core::host_proc("sys/kernel/random/entropy_avail");
    int64_t value = 0;
    if (read_int_file(entropy, value)) {
      m.append_field("entropy_avail", value);
    } else {
      acc.add_error("kernel: cannot read a number from " + entropy);
    }
    if (ksm_) gather_ksm(acc, m);
    if (!m.fields().empty()) {
      m.sort_fields();
      acc.add(std::move(m));
    }
    if (psi_) gather_pressure(acc);
  }

 private:
  static void gather_stat(Accumulator& acc, Metric& m) {
    const std::string path = core::host_proc("stat");
    std::string text;
    if (!core::read_file(path, text)) {
      acc.add_error("kernel: cannot read " + path);
      return;
    }
    bool garbled = false;
    core::for_each_line(text, [&](std::string_view line) {
      std::vector<std::string_view> f = core::split_fields(line);
      if (f.size() < 2) return;
      const char* field = f[0] == "intr"        ? "interrupts"
                          : f[0] == "ctxt"      ? "context_switches"
                          : f[0] == "processes" ? "processes_forked"
                          : f[0] == "btime"     ? "boot_time"
                                                : nullptr;
      int64_t v = 0;
      if (field != nullptr) {
        if (core::parse_i64(f[1], v)) {
          m.append_field(field, v);
        } else {
          garbled = true;
        }
      } else if (f[0] == "page" && f.size() >= 3) {  // only on kernels before 2.6
        int64_t out = 0;
        if (core::parse_i64(f[1], v) && core::parse_i64(f[2], out)) {
          m.append_field("disk_pages_in", v);
          m.append_field("disk_pages_out", out);
        } else {
          garbled = true;
        }
      }
    });
    if (garbled) acc.add_error("kernel: malformed counters in " + path);
  }

  static void gather_ksm(Accumulator& acc, Metric& m) {
    for (const char* name : kKsmFiles) {
      const std::string path = core::host_sys(std::string("kernel/mm/ksm/") + name);
      int64_t v = 0;
      if (read_int_file(path, v)) {
        m.append_field(std::string("ksm_") + name, v);
      } else {
        acc.add_error("kernel: cannot read a number from " + path);
      }
    }
  }

  // Telegraf's shape: per resource and type, a counter with the total stall time (us) and a
  // gauge with the averages; cpu/full is left out (always zero, or absent on old kernels).
  static void gather_pressure(Accumulator& acc) {
    for (const char* resource : {"cpu", "memory", "io"}) {
      const std::string path = core::host_proc(std::string("pressure/") + resource);
      std::string text;
      if (!core::read_file(path, text)) {
        acc.add_error("kernel: cannot read " + path);
        continue;
      }
      bool garbled = false;
      core::for_each_line(text, [&](std::string_view line) {
        if (core::trim(line).empty()) return;
        std::string_view type;
        Pressure p;
        if (!parse_pressure(line, type, p)) {
          garbled = true;
          return;
        }
        if (type != "some" && type != "full") return;
        if (type == "full" && std::string_view(resource) == "cpu") return;
        Metric total("pressure", 0, ValueType::kCounter);
        total.set_tag("resource", resource);
        total.set_tag("type", type);
        total.append_field("total", p.total);
        acc.add(std::move(total));
        Metric avg("pressure", 0, ValueType::kGauge);
        avg.set_tag("resource", resource);
        avg.set_tag("type", type);
        avg.append_field("avg10", p.avg10);
        avg.append_field("avg60", p.avg60);
        avg.append_field("avg300", p.avg300);
        acc.add(std::move(avg));
      });
      if (garbled) acc.add_error("kernel: malformed pressure line in " + path);
    }
  }

  bool ksm_ = false;
  bool psi_ = false;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "kernel";
  info.description = "Kernel counters: interrupts, context switches, forks, boot time, entropy";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<Kernel>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::kernel
