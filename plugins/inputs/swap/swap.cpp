// swap: swap space from /proc/meminfo and pages swapped in and out from /proc/vmstat, in bytes.
#include <memory>
#include <string>
#include <vector>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::swap {
namespace {

const std::vector<OptionSpec> kOptions = {};

class Swap final : public Input {
 public:
  void gather(Accumulator& acc) override {
    gather_space(acc);
    gather_traffic(acc);
  }

 private:
  static void gather_space(Accumulator& acc) {
    const std::string path = core::host_proc("meminfo");
    std::string text;
    if (!core::read_file(path, text)) {
      acc.add_error("swap: cannot read " + path);
      return;
    }
    uint64_t total = 0, free = 0;
    int found = 0;
    bool bad = false;
    core::for_each_line(text, [&](std::string_view line) {
      std::string_view key, value;
      if (!core::split_key_value(line, key, value)) return;
      uint64_t* target = key == "SwapTotal" ? &total : key == "SwapFree" ? &free : nullptr;
      if (target == nullptr) return;
      if (core::parse_kb_value(value, *target)) {
        ++found;
      } else {
        bad = true;
      }
    });
    if (bad || found != 2) {
      acc.add_error("swap: no valid SwapTotal and SwapFree in " + path);
      return;
    }
    const uint64_t used = total >= free ? total - free : 0;
    Metric m("swap", 0, ValueType::kGauge);
    m.append_field("free", static_cast<int64_t>(free));
    m.append_field("total", static_cast<int64_t>(total));
    m.append_field("used", static_cast<int64_t>(used));
    m.append_field(
        "used_percent",
        total == 0 ? 0.0 : 100.0 * static_cast<double>(used) / static_cast<double>(total));
    acc.add(std::move(m));
  }

  static void gather_traffic(Accumulator& acc) {
    const std::string path = core::host_proc("vmstat");
    std::string text;
    if (!core::read_file(path, text)) {
      acc.add_error("swap: cannot read " + path);
      return;
    }
    uint64_t pages_in = 0, pages_out = 0;
    int found = 0;
    bool bad = false;
    core::for_each_line(text, [&](std::string_view line) {
      std::vector<std::string_view> f = core::split_fields(line);
      if (f.size() != 2) return;
      uint64_t* target = f[0] == "pswpin" ? &pages_in : f[0] == "pswpout" ? &pages_out : nullptr;
      if (target == nullptr) return;
      if (core::parse_u64(f[1], *target)) {
        ++found;
      } else {
        bad = true;
      }
    });
    if (bad || found != 2) {
      acc.add_error("swap: no valid pswpin and pswpout in " + path);
      return;
    }
    // The kernel counts pages; Telegraf reports bytes.
    const uint64_t page = static_cast<uint64_t>(core::page_size());
    Metric m("swap", 0, ValueType::kCounter);
    m.append_field("in", pages_in * page);
    m.append_field("out", pages_out * page);
    acc.add(std::move(m));
  }
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "swap";
  info.description = "Swap space and swap traffic, from /proc/meminfo and /proc/vmstat";
  info.options = kOptions;
  info.create_input = [](const PluginContext&) { return std::make_unique<Swap>(); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::swap
