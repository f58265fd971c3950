// diskio: I/O counters of block devices, from /proc/diskstats, with names, serials and tags
// from the udev database (/run/udev/data).
#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/glob.hpp"
#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::diskio {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"devices", OptionType::kStringList, "",
     "Only these devices (names or globs, matched against the name and its udev links)"},
    {"skip_serial_number", OptionType::kBool, "true", "Do not add the serial tag"},
    {"device_tags", OptionType::kStringList, "",
     "udev properties to add as tags, e.g. [ID_FS_TYPE, ID_FS_USAGE]"},
    {"name_templates", OptionType::kStringList, "",
     "Templates for the name tag from udev properties, e.g. [\"$DM_VG_NAME/$DM_LV_NAME\"]"},
};

// The kernel counts sectors of 512 bytes here whatever the device's sector size.
constexpr uint64_t kSectorSize = 512;

struct Counters {
  uint64_t reads = 0, merged_reads = 0, read_sectors = 0, read_time = 0;
  uint64_t writes = 0, merged_writes = 0, write_sectors = 0, write_time = 0;
  uint64_t in_progress = 0, io_time = 0, weighted_io_time = 0;
};

bool parse_counters(const std::vector<std::string_view>& f, Counters& c) {
  uint64_t* columns[] = {&c.reads,       &c.merged_reads,  &c.read_sectors,    &c.read_time,
                         &c.writes,      &c.merged_writes, &c.write_sectors,   &c.write_time,
                         &c.in_progress, &c.io_time,       &c.weighted_io_time};
  if (f.size() < 3 + std::size(columns)) return false;
  for (size_t i = 0; i < std::size(columns); ++i) {
    if (!core::parse_u64(f[3 + i], *columns[i])) return false;
  }
  return true;
}

// The E: properties and S: links of a device's udev record.
struct UdevInfo {
  std::map<std::string, std::string, std::less<>> properties;
  std::vector<std::string> links;  // without "/dev/"
};

bool read_udev(std::string_view major, std::string_view minor, UdevInfo& info) {
  std::string text;
  const std::string path =
      core::host_run("udev/data/b" + std::string(major) + ":" + std::string(minor));
  if (!core::read_file(path, text)) return false;
  core::for_each_line(text, [&](std::string_view line) {
    if (line.size() < 4 || line[1] != ':') return;
    std::string_view body = line.substr(2);
    if (line[0] == 'S') {
      info.links.emplace_back(body);
    } else if (line[0] == 'E') {
      size_t eq = body.find('=');
      if (eq == std::string_view::npos) return;
      info.properties.emplace(std::string(body.substr(0, eq)), std::string(body.substr(eq + 1)));
    }
  });
  return true;
}

bool is_word(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Expands $VAR and ${VAR}; false when a variable is not a property of the device.
bool expand_template(std::string_view tpl, const UdevInfo& info, std::string& out) {
  out.clear();
  for (size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] != '$') {
      out.push_back(tpl[i]);
      continue;
    }
    size_t start = i + 1;
    bool braced = start < tpl.size() && tpl[start] == '{';
    if (braced) ++start;
    size_t end = start;
    while (end < tpl.size() && is_word(tpl[end])) ++end;
    if (end == start || (braced && (end >= tpl.size() || tpl[end] != '}'))) {
      out.push_back('$');  // not a variable: keep the text as it is
      continue;
    }
    auto it = info.properties.find(tpl.substr(start, end - start));
    if (it == info.properties.end()) return false;
    out += it->second;
    i = braced ? end : end - 1;
  }
  return true;
}

std::string sanitize_serial(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\n' && c != '\r') out.push_back(c);
  }
  return std::string(core::trim(out));
}

class DiskIO final : public Input {
 public:
  explicit DiskIO(const Options& o)
      : devices_(o.get_strings("devices")),
        skip_serial_number_(o.get_bool("skip_serial_number")),
        device_tags_(o.get_strings("device_tags")),
        name_templates_(o.get_strings("name_templates")) {}

  void gather(Accumulator& acc) override {
    const std::string path = core::host_proc("diskstats");
    std::string text;
    if (!core::read_file(path, text)) {
      acc.add_error("diskio: cannot read " + path);
      return;
    }
    const int64_t now = acc.time();
    std::map<std::string, Counters> current;
    bool garbled = false;
    core::for_each_line(text, [&](std::string_view line) {
      std::vector<std::string_view> f = core::split_fields(line);
      if (f.empty()) return;
      Counters c;
      if (!parse_counters(f, c)) {
        garbled = true;
        return;
      }
      const std::string name(f[2]);
      current[name] = c;
      add_device(acc, f[0], f[1], name, c, now);
    });
    if (garbled) acc.add_error("diskio: malformed lines in " + path);
    last_ = std::move(current);
    last_time_ = now;
  }

 private:
  void add_device(Accumulator& acc, std::string_view major, std::string_view minor,
                  const std::string& name, const Counters& c, int64_t now) const {
    UdevInfo udev;
    const bool need_udev = !devices_.empty() || !skip_serial_number_ || !device_tags_.empty() ||
                           !name_templates_.empty();
    const bool have_udev = need_udev && read_udev(major, minor, udev);
    if (!devices_.empty()) {
      bool match = devices_.matches(name);
      for (const std::string& link : udev.links) match = match || devices_.matches(link);
      if (!match) return;
    }

    Metric m("diskio", 0, ValueType::kCounter);
    m.set_tag("name", have_udev ? device_name(name, udev) : name);
    for (const std::string& key : device_tags_) {
      auto it = udev.properties.find(key);
      if (it != udev.properties.end()) m.set_tag(key, it->second);
    }
    if (!skip_serial_number_) {
      std::string serial;
      if (auto it = udev.properties.find("ID_SERIAL"); it != udev.properties.end()) {
        serial = sanitize_serial(it->second);
      }
      m.set_tag("serial", serial.empty() ? "unknown" : serial);
    }

    // Latency and utilisation need the previous sample; a counter that went back (device
    // re-attached, wrap) gives no value this time.
    if (auto it = last_.find(name); it != last_.end()) {
      const Counters& p = it->second;
      const bool wrapped = c.reads < p.reads || c.writes < p.writes || c.read_time < p.read_time ||
                           c.write_time < p.write_time || c.io_time < p.io_time;
      if (!wrapped) {
        const double ops = static_cast<double>((c.reads - p.reads) + (c.writes - p.writes));
        const double rw_time =
            static_cast<double>((c.read_time - p.read_time) + (c.write_time - p.write_time));
        const double io_time = static_cast<double>(c.io_time - p.io_time);
        if (ops > 0) {
          m.append_field("io_await", rw_time / ops);
          m.append_field("io_svctm", io_time / ops);
        }
        const int64_t interval_ms = (now - last_time_) / 1'000'000;
        if (interval_ms > 0) {
          m.append_field("io_util", 100.0 * io_time / static_cast<double>(interval_ms));
        }
      }
    }
    m.append_field("io_time", c.io_time);
    m.append_field("iops_in_progress", c.in_progress);
    m.append_field("merged_reads", c.merged_reads);
    m.append_field("merged_writes", c.merged_writes);
    m.append_field("read_bytes", c.read_sectors * kSectorSize);
    m.append_field("read_time", c.read_time);
    m.append_field("reads", c.reads);
    m.append_field("weighted_io_time", c.weighted_io_time);
    m.append_field("write_bytes", c.write_sectors * kSectorSize);
    m.append_field("write_time", c.write_time);
    m.append_field("writes", c.writes);
    // io_await/io_svctm/io_util were appended first; keep the whole set alphabetical.
    m.sort_fields();
    acc.add(std::move(m));
  }

  // The first template whose variables are all known, else the kernel's name.
  std::string device_name(const std::string& name, const UdevInfo& udev) const {
    std::string out;
    for (const std::string& tpl : name_templates_) {
      if (expand_template(tpl, udev, out)) return out;
    }
    return name;
  }

  core::GlobSet devices_;
  bool skip_serial_number_;
  std::vector<std::string> device_tags_;
  std::vector<std::string> name_templates_;
  std::map<std::string, Counters> last_;
  int64_t last_time_ = 0;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "diskio";
  info.needs_previous_gather = true;  // reports differences between gathers
  info.description = "I/O counters of block devices, from /proc/diskstats";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<DiskIO>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::diskio
