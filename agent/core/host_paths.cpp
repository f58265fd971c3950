#include "core/host_paths.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sluice::core {
namespace {

std::string join_env(const char* var, std::string_view fallback, std::string_view sub) {
  const char* value = std::getenv(var);
  std::string path = (value != nullptr && *value != '\0') ? value : std::string(fallback);
  if (!sub.empty()) {
    if (path.empty() || path.back() != '/') path += '/';
    path.append(sub);
  }
  return path;
}

}  // namespace

std::string host_proc(std::string_view sub) { return join_env("HOST_PROC", "/proc", sub); }
std::string host_sys(std::string_view sub) { return join_env("HOST_SYS", "/sys", sub); }
std::string host_etc(std::string_view sub) { return join_env("HOST_ETC", "/etc", sub); }
std::string host_var(std::string_view sub) { return join_env("HOST_VAR", "/var", sub); }
std::string host_run(std::string_view sub) { return join_env("HOST_RUN", "/run", sub); }
std::string host_mount_prefix() {
  const char* value = std::getenv("HOST_MOUNT_PREFIX");
  return value != nullptr ? value : "";
}

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return true;
}

}  // namespace sluice::core
