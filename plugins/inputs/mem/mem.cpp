// mem: the system's memory, from /proc/meminfo, in bytes.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::mem {
namespace {

const std::vector<OptionSpec> kOptions = {};

// Field name -> /proc/meminfo key. "cached", "used", "available" and the percentages are
// derived; all fields are written in alphabetical order, as Telegraf documents them.
struct Direct {
  const char* field;
  const char* key;
};
const Direct kDirect[] = {
    {"active", "Active"},
    {"buffered", "Buffers"},
    {"commit_limit", "CommitLimit"},
    {"committed_as", "Committed_AS"},
    {"dirty", "Dirty"},
    {"free", "MemFree"},
    {"high_free", "HighFree"},
    {"high_total", "HighTotal"},
    {"huge_page_size", "Hugepagesize"},
    {"huge_pages_free", "HugePages_Free"},
    {"huge_pages_total", "HugePages_Total"},
    {"inactive", "Inactive"},
    {"low_free", "LowFree"},
    {"low_total", "LowTotal"},
    {"mapped", "Mapped"},
    {"page_tables", "PageTables"},
    {"shared", "Shmem"},
    {"slab", "Slab"},
    {"sreclaimable", "SReclaimable"},
    {"sunreclaim", "SUnreclaim"},
    {"swap_cached", "SwapCached"},
    {"swap_free", "SwapFree"},
    {"swap_total", "SwapTotal"},
    {"vmalloc_chunk", "VmallocChunk"},
    {"vmalloc_total", "VmallocTotal"},
    {"vmalloc_used", "VmallocUsed"},
    {"write_back", "Writeback"},
    {"write_back_tmp", "WritebackTmp"},
};

class Mem final : public Input {
 public:
  void gather(Accumulator& acc) override {
    const std::string path = core::host_proc("meminfo");
    std::string text;
    if (!core::read_file(path, text)) {
      acc.add_error("mem: cannot read " + path);
      return;
    }
    std::map<std::string, uint64_t, std::less<>> values;
    std::string bad;
    core::for_each_line(text, [&](std::string_view line) {
      std::string_view key, value;
      if (!core::split_key_value(line, key, value)) return;
      uint64_t v = 0;
      if (!core::parse_kb_value(value, v)) {
        if (bad.empty()) bad = std::string(key);
        return;
      }
      values[std::string(key)] = v;
    });
    if (!bad.empty()) {
      acc.add_error("mem: malformed value of " + bad + " in " + path);
      return;
    }
    auto get = [&](std::string_view key) -> int64_t {
      auto it = values.find(key);
      return it == values.end() ? 0 : static_cast<int64_t>(it->second);
    };
    const int64_t total = get("MemTotal");
    if (total <= 0) {
      acc.add_error("mem: no MemTotal in " + path);
      return;
    }
    const int64_t free = get("MemFree");
    const int64_t buffers = get("Buffers");
    // Reclaimable slab is cache in all but name; free(1) and Telegraf count it so.
    const int64_t cached = get("Cached") + get("SReclaimable");
    const int64_t available =
        values.contains("MemAvailable") ? get("MemAvailable") : free + buffers + cached;
    int64_t used = total - free - buffers - cached;
    if (used < 0) used = 0;  // inconsistent snapshot (containers): never report a wrap-around

    Metric m("mem", 0, ValueType::kGauge);
    const double total_d = static_cast<double>(total);
    for (const Direct& d : kDirect) m.append_field(d.field, get(d.key));
    m.append_field("available", available);
    m.append_field("available_percent", 100.0 * static_cast<double>(available) / total_d);
    m.append_field("cached", cached);
    m.append_field("total", total);
    m.append_field("used", used);
    m.append_field("used_percent", 100.0 * static_cast<double>(used) / total_d);
    m.sort_fields();
    acc.add(std::move(m));
  }
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "mem";
  info.description = "Memory usage of the system, from /proc/meminfo";
  info.options = kOptions;
  info.create_input = [](const PluginContext&) { return std::make_unique<Mem>(); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::mem
