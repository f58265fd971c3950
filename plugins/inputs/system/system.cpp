// system: load averages, CPU count, logged-in users and uptime.
#include <utmp.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::system {
namespace {

const std::vector<OptionSpec> kOptions = {};

// "3 days, 4:05" as Telegraf's uptime_format writes it (hours padded with a space to 2).
std::string format_uptime(uint64_t uptime) {
  std::string out;
  const uint64_t days = uptime / (60 * 60 * 24);
  if (days != 0) out = std::to_string(days) + (days > 1 ? " days, " : " day, ");
  const uint64_t hours = (uptime / 3600) % 24;
  const uint64_t minutes = (uptime / 60) % 60;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%2llu:%02llu", static_cast<unsigned long long>(hours),
                static_cast<unsigned long long>(minutes));
  return out + buf;
}

// Logical CPUs: "processor" entries of /proc/cpuinfo, else the cpuN lines of /proc/stat.
int64_t count_cpus() {
  std::string text;
  int64_t n = 0;
  if (core::read_file(core::host_proc("cpuinfo"), text)) {
    core::for_each_line(text, [&](std::string_view line) {
      std::string_view key, value;
      if (core::split_key_value(line, key, value) && key == "processor") ++n;
    });
  }
  if (n == 0 && core::read_file(core::host_proc("stat"), text)) {
    core::for_each_line(text, [&](std::string_view line) {
      if (line.size() > 3 && line.substr(0, 3) == "cpu" && line[3] >= '0' && line[3] <= '9') ++n;
    });
  }
  return n;
}

// Sessions in utmp: entries of type USER_PROCESS. False when no utmp file can be read.
bool count_users(int64_t& sessions, int64_t& unique) {
  std::string data;
  if (!core::read_file(core::host_var("run/utmp"), data) &&
      !core::read_file(core::host_run("utmp"), data)) {
    return false;
  }
  std::set<std::string> names;
  sessions = 0;
  for (size_t off = 0; off + sizeof(struct utmp) <= data.size(); off += sizeof(struct utmp)) {
    struct utmp entry;
    std::memcpy(&entry, data.data() + off, sizeof(entry));
    if (entry.ut_type != USER_PROCESS) continue;
    ++sessions;
    names.emplace(entry.ut_user, strnlen(entry.ut_user, sizeof(entry.ut_user)));
  }
  unique = static_cast<int64_t>(names.size());
  return true;
}

class System final : public Input {
 public:
  void gather(Accumulator& acc) override {
    Metric gauges("system", 0, ValueType::kGauge);
    const std::string loadavg = core::host_proc("loadavg");
    std::string text;
    double load[3] = {0, 0, 0};
    bool load_ok = core::read_file(loadavg, text);
    if (load_ok) {
      std::vector<std::string_view> f = core::split_fields(text);
      load_ok = f.size() >= 3;
      for (size_t i = 0; load_ok && i < 3; ++i) load_ok = core::parse_double(f[i], load[i]);
      if (!load_ok) acc.add_error("system: malformed " + loadavg);
    } else {
      acc.add_error("system: cannot read " + loadavg);
    }
    if (load_ok) {
      gauges.append_field("load1", load[0]);
      gauges.append_field("load15", load[2]);
      gauges.append_field("load5", load[1]);
    }
    // Zero means neither cpuinfo nor stat could be read: leave the field out rather than lie.
    if (int64_t cpus = count_cpus(); cpus > 0) gauges.append_field("n_cpus", cpus);
    int64_t sessions = 0, unique = 0;
    // Without a utmp file (containers, minimal systems) the user counts are left out.
    if (count_users(sessions, unique)) {
      gauges.append_field("n_unique_users", unique);
      gauges.append_field("n_users", sessions);
    }
    if (!gauges.fields().empty()) acc.add(std::move(gauges));

    const std::string uptime_path = core::host_proc("uptime");
    if (!core::read_file(uptime_path, text)) {
      acc.add_error("system: cannot read " + uptime_path);
      return;
    }
    std::vector<std::string_view> f = core::split_fields(text);
    double seconds = 0;
    if (f.empty() || !core::parse_double(f[0], seconds) || seconds < 0) {
      acc.add_error("system: malformed " + uptime_path);
      return;
    }
    const auto uptime = static_cast<uint64_t>(std::floor(seconds));
    Metric counter("system", 0, ValueType::kCounter);
    counter.append_field("uptime", uptime);
    acc.add(std::move(counter));
    Metric formatted("system", 0);
    formatted.append_field("uptime_format", format_uptime(uptime));
    acc.add(std::move(formatted));
  }
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "system";
  info.description = "Load averages, CPU count, logged-in users and uptime";
  info.options = kOptions;
  info.create_input = [](const PluginContext&) { return std::make_unique<System>(); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::system
