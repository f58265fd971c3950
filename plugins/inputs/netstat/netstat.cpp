// netstat: sockets by TCP state, and the number of UDP sockets, from /proc/net/{tcp,tcp6,udp,udp6}.
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::netstat {
namespace {

const std::vector<OptionSpec> kOptions = {};

// Field per TCP state, indexed by the kernel's state number (include/net/tcp_states.h).
// NEW_SYN_RECV (12) is a request socket the kernel shows as SYN_RECV to user space.
constexpr std::array<const char*, 13> kStateField = {
    nullptr,         "tcp_established", "tcp_syn_sent", "tcp_syn_recv",   "tcp_fin_wait1",
    "tcp_fin_wait2", "tcp_time_wait",   "tcp_close",    "tcp_close_wait", "tcp_last_ack",
    "tcp_listen",    "tcp_closing",     "tcp_syn_recv"};

// Counts the socket lines of one table; the "st" column is the 4th. False on a bad line.
bool count_table(const std::string& text, const std::function<void(uint64_t)>& on_state) {
  bool ok = true;
  bool header = true;
  core::for_each_line(text, [&](std::string_view line) {
    if (header) {  // "  sl  local_address rem_address   st ..."
      header = false;
      return;
    }
    std::vector<std::string_view> f = core::split_fields(line);
    if (f.empty()) return;
    uint64_t state = 0;
    if (f.size() < 4 || !core::parse_hex_u64(f[3], state)) {
      ok = false;
      return;
    }
    on_state(state);
  });
  return ok;
}

class Netstat final : public Input {
 public:
  void gather(Accumulator& acc) override {
    // Every field is reported, zero or not; std::map keeps them in alphabetical order.
    std::map<std::string, int64_t> counts = {{"tcp_none", 0}, {"udp_socket", 0}};
    for (const char* field : kStateField) {
      if (field != nullptr) counts[field] = 0;
    }
    int readable = 0;
    for (const char* table : {"net/tcp", "net/tcp6", "net/udp", "net/udp6"}) {
      const bool is_tcp = std::string_view(table).substr(4, 3) == "tcp";
      const std::string path = core::host_proc(table);
      std::string text;
      // A host without IPv6 has no tcp6/udp6: not an error as long as one table is there.
      if (!core::read_file(path, text)) continue;
      ++readable;
      bool ok = count_table(text, [&](uint64_t state) {
        if (!is_tcp) {
          ++counts["udp_socket"];
        } else if (state < kStateField.size() && kStateField[state] != nullptr) {
          ++counts[kStateField[state]];
        } else {
          ++counts["tcp_none"];
        }
      });
      if (!ok) acc.add_error("netstat: malformed socket lines in " + path);
    }
    if (readable == 0) {
      acc.add_error("netstat: cannot read " + core::host_proc("net/tcp") +
                    " nor the other socket tables");
      return;
    }
    Metric m("netstat", 0);
    for (const auto& [field, count] : counts) m.append_field(field, count);
    acc.add(std::move(m));
  }
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "netstat";
  info.description = "TCP sockets by state and UDP sockets, from /proc/net";
  info.options = kOptions;
  info.create_input = [](const PluginContext&) { return std::make_unique<Netstat>(); };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::netstat
