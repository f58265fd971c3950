#include "inputs/disk/disk.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

#include "core/host_paths.hpp"
#include "core/proc_reader.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::disk {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"mount_points", OptionType::kStringList, "",
     "Only these mount points (exact paths); all when empty"},
    {"ignore_fs", OptionType::kStringList,
     R"(["tmpfs", "devtmpfs", "devfs", "iso9660", "overlay", "aufs", "squashfs"])",
     "Skip filesystems of these types"},
    {"ignore_mount_opts", OptionType::kStringList, "",
     "Skip mounts having any of these mount options (e.g. bind)"},
};

bool is_octal(char c) { return c >= '0' && c <= '7'; }

// Decodes the \ooo escapes the kernel writes for space, tab, newline and backslash.
std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && is_octal(s[i + 1]) && is_octal(s[i + 2]) &&
        is_octal(s[i + 3])) {
      out.push_back(
          static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> split_options(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::string mode_of(const std::vector<std::string>& options) {
  for (const std::string& o : options) {
    if (o == "rw") return "rw";
  }
  for (const std::string& o : options) {
    if (o == "ro") return "ro";
  }
  return "unknown";
}

// The device without its /dev/ part, as Telegraf tags it ("/dev/sda1" -> "sda1").
std::string device_tag(std::string device) {
  for (size_t at = device.find("/dev/"); at != std::string::npos; at = device.find("/dev/", at)) {
    device.erase(at, 5);
  }
  return device;
}

// Joins and cleans like filepath.Join("/", p): one leading slash, no empty or "." parts.
std::string clean_path(std::string_view p) {
  std::string out;
  while (!p.empty()) {
    size_t slash = p.find('/');
    std::string_view part = p.substr(0, slash);
    if (!part.empty() && part != ".") {
      out += '/';
      out.append(part);
    }
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash + 1);
  }
  return out.empty() ? "/" : out;
}

std::set<std::string, std::less<>> to_set(const std::vector<std::string>& v) {
  return {v.begin(), v.end()};
}

}  // namespace

StatFs system_statfs() {
  return [](const std::string& path, FsUsage& out, std::string& error) {
    struct statvfs st {};
    if (statvfs(path.c_str(), &st) != 0) {
      error = std::strerror(errno);
      return false;
    }
    // f_frsize is the unit of the block counts; f_bsize is only the preferred I/O size.
    out.block_size = st.f_frsize != 0 ? st.f_frsize : st.f_bsize;
    out.blocks = st.f_blocks;
    out.blocks_free = st.f_bfree;
    out.blocks_avail = st.f_bavail;
    out.files = st.f_files;
    out.files_free = st.f_ffree;
    return true;
  };
}

std::vector<Mount> parse_mounts(std::string_view text) {
  std::vector<Mount> mounts;
  core::for_each_line(text, [&](std::string_view line) {
    std::vector<std::string_view> f = core::split_fields(line);
    if (f.size() < 4) return;
    mounts.push_back(Mount{unescape(f[0]), unescape(f[1]), unescape(f[2]), split_options(f[3])});
  });
  return mounts;
}

Disk::Disk(const Options& options, StatFs statfs)
    : mount_points_(to_set(options.get_strings("mount_points"))),
      ignore_fs_(to_set(options.get_strings("ignore_fs"))),
      ignore_mount_opts_(to_set(options.get_strings("ignore_mount_opts"))),
      statfs_(std::move(statfs)) {
  // An autofs entry is a mount yet to happen; measuring it would trigger the mount.
  ignore_fs_.insert("autofs");
}

bool Disk::ignored(const Mount& mount) const {
  for (const std::string& o : mount.options) {
    if (ignore_mount_opts_.contains(o)) return true;
  }
  if (!mount_points_.empty() && !mount_points_.contains(mount.mount_point)) return true;
  return ignore_fs_.contains(mount.fstype);
}

void Disk::gather(Accumulator& acc) {
  // PID 1's view is the host's when the agent runs in a container with the host's /proc.
  std::string path = core::host_proc("1/mounts");
  std::string text;
  if (!core::read_file(path, text)) {
    const std::string self = core::host_proc("self/mounts");
    if (!core::read_file(self, text)) {
      acc.add_error("disk: cannot read " + path + " nor " + self);
      return;
    }
    path = self;
  }
  const std::vector<Mount> mounts = parse_mounts(text);
  if (mounts.empty()) {
    acc.add_error("disk: no mounts found in " + path);
    return;
  }
  std::set<std::string, std::less<>> all_points;
  for (const Mount& m : mounts) all_points.insert(m.mount_point);

  const std::string prefix = core::host_mount_prefix();
  for (const Mount& mount : mounts) {
    if (ignored(mount)) continue;
    std::string where = mount.mount_point;
    if (!prefix.empty() && where.rfind(prefix, 0) != 0) {
      where = prefix + (where.front() == '/' ? "" : "/") + where;
      if (where.size() > 1 && where.back() == '/') where.pop_back();
      // The container's own mount of the host's filesystem is listed too: skip the twin.
      if (all_points.contains(where)) continue;
    }
    FsUsage u;
    std::string error;
    // A mount that cannot be measured (gone, or not ours to read) is skipped, as Telegraf does.
    if (!statfs_(where, u, error)) continue;
    const uint64_t total = u.blocks * u.block_size;
    if (total == 0) continue;  // pseudo filesystems: proc, sysfs, cgroup...
    const uint64_t free = u.blocks_avail * u.block_size;
    const uint64_t used = (u.blocks >= u.blocks_free ? u.blocks - u.blocks_free : 0) * u.block_size;
    const uint64_t inodes_used = u.files >= u.files_free ? u.files - u.files_free : 0;
    // used + free, not total: the blocks reserved for root count as neither, as in df.
    const double used_percent =
        used + free > 0 ? static_cast<double>(used) / static_cast<double>(used + free) * 100.0
                        : 0.0;

    std::string_view point = mount.mount_point;
    if (!prefix.empty() && point.rfind(prefix, 0) == 0) point.remove_prefix(prefix.size());
    Metric m("disk", 0, ValueType::kGauge);
    m.set_tag("device", device_tag(mount.device));
    m.set_tag("fstype", mount.fstype);
    m.set_tag("mode", mode_of(mount.options));
    m.set_tag("path", clean_path(point));
    m.append_field("free", static_cast<int64_t>(free));
    m.append_field("inodes_free", static_cast<int64_t>(u.files_free));
    m.append_field("inodes_total", static_cast<int64_t>(u.files));
    m.append_field("inodes_used", static_cast<int64_t>(inodes_used));
    m.append_field("total", static_cast<int64_t>(total));
    m.append_field("used", static_cast<int64_t>(used));
    m.append_field("used_percent", used_percent);
    acc.add(std::move(m));
  }
}

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "disk";
  info.description = "Space and inodes used on mounted filesystems";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<Disk>(ctx.options, system_statfs());
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::disk
