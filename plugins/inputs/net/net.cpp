// net: traffic counters per network interface from /proc/net/dev, and the system-wide protocol
// counters of /proc/net/snmp as one more metric tagged interface=all.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/glob.hpp"
#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::net {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"interfaces", OptionType::kStringList, "",
     "Only these interfaces (names or globs), whatever their state; by default every interface "
     "that is up, except loopback"},
    {"ignore_protocol_stats", OptionType::kBool, "false",
     "Do not report the protocol counters of /proc/net/snmp"},
};

// Interface flags from <linux/if.h>, as /sys/class/net/<if>/flags shows them.
constexpr uint64_t kIffUp = 0x1;
constexpr uint64_t kIffLoopback = 0x8;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Up and not loopback, from sysfs; an interface sysfs does not know is skipped.
bool is_up_non_loopback(const std::string& name) {
  std::string text;
  if (!core::read_file(core::host_sys("class/net/" + name + "/flags"), text)) return false;
  std::string_view v = core::trim(text);
  if (v.substr(0, 2) == "0x") v.remove_prefix(2);
  uint64_t flags = 0;
  if (!core::parse_hex_u64(v, flags)) return false;
  return (flags & kIffUp) != 0 && (flags & kIffLoopback) == 0;
}

class Net final : public Input {
 public:
  explicit Net(const Options& o)
      : interfaces_(o.get_strings("interfaces")),
        ignore_protocol_stats_(o.get_bool("ignore_protocol_stats")) {}

  void gather(Accumulator& acc) override {
    gather_interfaces(acc);
    if (!ignore_protocol_stats_) gather_protocols(acc);
  }

 private:
  void gather_interfaces(Accumulator& acc) const {
    const std::string path = core::host_proc("net/dev");
    std::string text;
    if (!core::read_file(path, text)) {
      acc.add_error("net: cannot read " + path);
      return;
    }
    bool garbled = false;
    core::for_each_line(text, [&](std::string_view line) {
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) return;  // the two header lines
      const std::string name(core::trim(line.substr(0, colon)));
      std::vector<std::string_view> f = core::split_fields(line.substr(colon + 1));
      // Receive: bytes packets errs drop fifo frame compressed multicast, then transmit:
      // bytes packets errs drop fifo colls carrier compressed.
      uint64_t v[16];
      bool ok = f.size() >= 16;
      for (size_t i = 0; ok && i < 16; ++i) ok = core::parse_u64(f[i], v[i]);
      if (!ok) {
        garbled = true;
        return;
      }
      if (interfaces_.empty() ? !is_up_non_loopback(name) : !interfaces_.matches(name)) return;
      Metric m("net", 0, ValueType::kCounter);
      m.set_tag("interface", name);
      m.append_field("bytes_recv", v[0]);
      m.append_field("bytes_sent", v[8]);
      m.append_field("drop_in", v[3]);
      m.append_field("drop_out", v[11]);
      m.append_field("err_in", v[2]);
      m.append_field("err_out", v[10]);
      m.append_field("packets_recv", v[1]);
      m.append_field("packets_sent", v[9]);
      acc.add(std::move(m));
    });
    if (garbled) acc.add_error("net: malformed interface lines in " + path);
  }

  // /proc/net/snmp holds pairs of lines: "Proto: Name1 Name2 ..." then "Proto: v1 v2 ...".
  static void gather_protocols(Accumulator& acc) {
    const std::string path = core::host_proc("net/snmp");
    std::string text;
    if (!core::read_file(path, text)) {
      acc.add_error("net: cannot read " + path);
      return;
    }
    std::vector<std::string_view> lines;
    core::for_each_line(text, [&](std::string_view line) {
      if (!core::trim(line).empty()) lines.push_back(line);
    });
    Metric m("net", 0);
    m.set_tag("interface", "all");
    bool garbled = lines.size() % 2 != 0;
    for (size_t i = 0; i + 1 < lines.size(); i += 2) {
      std::vector<std::string_view> names = core::split_fields(lines[i]);
      std::vector<std::string_view> values = core::split_fields(lines[i + 1]);
      if (names.empty() || names.size() != values.size() || names[0] != values[0] ||
          names[0].back() != ':') {
        garbled = true;
        continue;
      }
      const std::string proto = lower(names[0].substr(0, names[0].size() - 1));
      for (size_t k = 1; k < names.size(); ++k) {
        int64_t v = 0;
        if (!core::parse_i64(values[k], v)) {
          garbled = true;
          continue;
        }
        m.set_field(proto + "_" + lower(names[k]), v);
      }
    }
    if (garbled) acc.add_error("net: malformed protocol counters in " + path);
    if (m.fields().empty()) return;
    m.sort_fields();
    acc.add(std::move(m));
  }

  core::GlobSet interfaces_;
  bool ignore_protocol_stats_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "net";
  info.description = "Network interface counters and protocol statistics";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) { return std::make_unique<Net>(ctx.options); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::net
