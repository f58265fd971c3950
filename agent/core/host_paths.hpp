// Paths of the host's pseudo-filesystems. Tests and containers point them elsewhere with the
// same environment variables Telegraf uses: HOST_PROC, HOST_SYS, HOST_ETC, HOST_VAR, HOST_RUN,
// HOST_MOUNT_PREFIX.
#pragma once

#include <string>
#include <string_view>

namespace sluice::core {

// HOST_PROC (default /proc) joined with `sub`, e.g. host_proc("stat") -> "/proc/stat".
std::string host_proc(std::string_view sub = {});
std::string host_sys(std::string_view sub = {});
std::string host_etc(std::string_view sub = {});
std::string host_var(std::string_view sub = {});
std::string host_run(std::string_view sub = {});
// Prefix for mount points seen from inside a container (HOST_MOUNT_PREFIX, default empty).
std::string host_mount_prefix();

// Reads a whole (small) file; returns false when it cannot be read.
bool read_file(const std::string& path, std::string& out);

}  // namespace sluice::core
