// cpu: time spent by each CPU in each state, from /proc/stat, as cumulative seconds (time_*)
// and as percentages of the interval since the previous gather (usage_*).
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::cpu {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"percpu", OptionType::kBool, "true", "Report per-CPU statistics"},
    {"totalcpu", OptionType::kBool, "true", "Report the total of all CPUs as cpu=cpu-total"},
    {"collect_cpu_time", OptionType::kBool, "false",
     "Report the raw CPU times (time_*) in seconds"},
    {"report_active", OptionType::kBool, "false",
     "Report time_active/usage_active, the sum of all non-idle states"},
    {"core_tags", OptionType::kBool, "false",
     "Add core_id and physical_id tags from /proc/cpuinfo when available"},
};

// The tick counters of one "cpu" line of /proc/stat, in its column order.
struct Ticks {
  int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0,
          guest = 0, guest_nice = 0;
  // Guest time is already counted in user (and guest_nice in nice), so it is not added again.
  int64_t total() const { return user + system + nice + iowait + irq + softirq + steal + idle; }
  int64_t active() const { return total() - idle; }
};

struct CoreInfo {
  std::string core_id;
  std::string physical_id;
};

bool parse_cpu_line(const std::vector<std::string_view>& f, Ticks& t) {
  int64_t* columns[] = {&t.user, &t.nice,    &t.system, &t.idle,  &t.iowait,
                        &t.irq,  &t.softirq, &t.steal,  &t.guest, &t.guest_nice};
  // Kernels before 2.6.33 have fewer columns; the missing ones stay 0.
  if (f.size() < 5) return false;
  for (size_t i = 1; i < f.size() && i <= std::size(columns); ++i) {
    if (!core::parse_i64(f[i], *columns[i - 1])) return false;
  }
  return true;
}

// processor number -> core and package, for core_tags.
std::map<std::string, CoreInfo> read_core_info() {
  std::map<std::string, CoreInfo> info;
  std::string text;
  if (!core::read_file(core::host_proc("cpuinfo"), text)) return info;
  std::string current;
  core::for_each_line(text, [&](std::string_view line) {
    std::string_view key, value;
    if (!core::split_key_value(line, key, value)) return;
    if (key == "processor") {
      current = "cpu" + std::string(value);
    } else if (key == "core id" && !current.empty()) {
      info[current].core_id = value;
    } else if (key == "physical id" && !current.empty()) {
      info[current].physical_id = value;
    }
  });
  return info;
}

class Cpu final : public Input {
 public:
  explicit Cpu(const Options& o)
      : percpu_(o.get_bool("percpu")),
        totalcpu_(o.get_bool("totalcpu")),
        collect_cpu_time_(o.get_bool("collect_cpu_time")),
        report_active_(o.get_bool("report_active")),
        core_tags_(o.get_bool("core_tags")) {}

  void gather(Accumulator& acc) override {
    const std::string path = core::host_proc("stat");
    std::string text;
    if (!core::read_file(path, text)) {
      acc.add_error("cpu: cannot read " + path);
      return;
    }
    if (core_tags_ && !core_info_loaded_) {
      core_info_ = read_core_info();
      core_info_loaded_ = true;
    }

    // Per-CPU lines first, then the total, as Telegraf orders them.
    std::vector<std::pair<std::string, Ticks>> samples;
    std::pair<std::string, Ticks> total;
    bool have_total = false;
    bool garbled = false;
    core::for_each_line(text, [&](std::string_view line) {
      if (line.substr(0, 3) != "cpu") return;
      std::vector<std::string_view> f = core::split_fields(line);
      Ticks t;
      if (!parse_cpu_line(f, t)) {
        garbled = true;
        return;
      }
      if (f[0] == "cpu") {
        total = {"cpu-total", t};
        have_total = true;
      } else if (percpu_) {
        samples.emplace_back(std::string(f[0]), t);
      }
    });
    if (garbled) acc.add_error("cpu: malformed cpu line in " + path);
    if (totalcpu_ && have_total) samples.push_back(std::move(total));

    const double hz = static_cast<double>(core::clock_ticks());
    std::map<std::string, Ticks> now;
    for (const auto& [name, t] : samples) {
      if (collect_cpu_time_) acc.add(time_metric(name, t, hz));
      auto last = last_.find(name);
      if (last != last_.end()) add_usage(acc, name, t, last->second);
      now[name] = t;
    }
    last_ = std::move(now);
  }

 private:
  void set_tags(Metric& m, const std::string& name) const {
    m.set_tag("cpu", name);
    if (!core_tags_) return;
    auto it = core_info_.find(name);
    if (it == core_info_.end()) return;
    if (!it->second.core_id.empty()) m.set_tag("core_id", it->second.core_id);
    if (!it->second.physical_id.empty()) m.set_tag("physical_id", it->second.physical_id);
  }

  Metric time_metric(const std::string& name, const Ticks& t, double hz) const {
    Metric m("cpu", 0, ValueType::kCounter);
    set_tags(m, name);
    if (report_active_) m.append_field("time_active", t.active() / hz);
    m.append_field("time_guest", t.guest / hz);
    m.append_field("time_guest_nice", t.guest_nice / hz);
    m.append_field("time_idle", t.idle / hz);
    m.append_field("time_iowait", t.iowait / hz);
    m.append_field("time_irq", t.irq / hz);
    m.append_field("time_nice", t.nice / hz);
    m.append_field("time_softirq", t.softirq / hz);
    m.append_field("time_steal", t.steal / hz);
    m.append_field("time_system", t.system / hz);
    m.append_field("time_user", t.user / hz);
    return m;
  }

  void add_usage(Accumulator& acc, const std::string& name, const Ticks& t,
                 const Ticks& last) const {
    const int64_t total_delta = t.total() - last.total();
    if (total_delta < 0) {
      acc.add_error("cpu: total CPU time of " + name +
                    " is less than at the previous gather (counter reset?)");
      return;
    }
    if (total_delta == 0) return;  // no tick elapsed: no percentage to give
    // Percentages from integer tick deltas: one rounding per value, none from summing seconds.
    auto pct = [&](int64_t delta) {
      return 100.0 * static_cast<double>(delta) / static_cast<double>(total_delta);
    };
    Metric m("cpu", 0, ValueType::kGauge);
    set_tags(m, name);
    if (report_active_) m.append_field("usage_active", pct(t.active() - last.active()));
    m.append_field("usage_guest", pct(t.guest - last.guest));
    m.append_field("usage_guest_nice", pct(t.guest_nice - last.guest_nice));
    m.append_field("usage_idle", pct(t.idle - last.idle));
    m.append_field("usage_iowait", pct(t.iowait - last.iowait));
    m.append_field("usage_irq", pct(t.irq - last.irq));
    m.append_field("usage_nice", pct((t.nice - last.nice) - (t.guest_nice - last.guest_nice)));
    m.append_field("usage_softirq", pct(t.softirq - last.softirq));
    m.append_field("usage_steal", pct(t.steal - last.steal));
    m.append_field("usage_system", pct(t.system - last.system));
    m.append_field("usage_user", pct((t.user - last.user) - (t.guest - last.guest)));
    acc.add(std::move(m));
  }

  bool percpu_;
  bool totalcpu_;
  bool collect_cpu_time_;
  bool report_active_;
  bool core_tags_;
  bool core_info_loaded_ = false;
  std::map<std::string, CoreInfo> core_info_;
  std::map<std::string, Ticks> last_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "cpu";
  info.needs_previous_gather = true;  // reports differences between gathers
  info.description = "CPU time and usage per CPU and in total, from /proc/stat";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) { return std::make_unique<Cpu>(ctx.options); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::cpu
