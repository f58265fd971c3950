#include "file_glob.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "core/glob.hpp"

namespace sluice::inputs::tail {
namespace {

bool has_meta(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

std::vector<std::string> split_path(const std::string& pattern) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t slash = pattern.find('/', start);
    std::string part = pattern.substr(start, slash == std::string::npos ? slash : slash - start);
    if (!part.empty()) parts.push_back(part);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return parts;
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir == "/") return "/" + name;
  return dir + "/" + name;
}

bool is_regular(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_dir(const std::string& path) {
  struct stat st {};
  return stat(path.empty() ? "." : path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Bounded so that a `**` over a huge or looping tree cannot run for ever.
constexpr size_t kMaxVisited = 100000;

void walk(const std::string& dir, const std::vector<std::string>& parts, size_t index,
          std::set<std::string>& out, size_t& visited) {
  if (++visited > kMaxVisited) return;
  if (index == parts.size()) {
    if (is_regular(dir)) out.insert(dir);
    return;
  }
  const std::string& part = parts[index];
  if (part == "**") {
    walk(dir, parts, index + 1, out, visited);  // zero folders
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec)) {
      std::string name = entry.path().filename().string();
      if (name.starts_with('.')) continue;
      std::error_code ec2;
      if (entry.is_directory(ec2) && !entry.is_symlink(ec2)) {
        walk(join(dir, name), parts, index, out, visited);
      }
    }
    return;
  }
  if (!has_meta(part)) {
    std::string next = join(dir, part);
    if (index + 1 == parts.size() || is_dir(next)) walk(next, parts, index + 1, out, visited);
    return;
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir.empty() ? "." : dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with('.') && !part.starts_with('.')) continue;  // hidden, as a shell does
    if (core::glob_match(part, name)) walk(join(dir, name), parts, index + 1, out, visited);
  }
}

}  // namespace

std::vector<std::string> expand_file_glob(const std::string& pattern) {
  if (!has_meta(pattern)) {
    if (is_regular(pattern)) return {pattern};
    return {};
  }
  std::set<std::string> found;
  size_t visited = 0;
  walk(pattern.starts_with('/') ? "/" : "", split_path(pattern), 0, found, visited);
  return {found.begin(), found.end()};
}

std::string glob_root(const std::string& pattern) {
  std::vector<std::string> parts = split_path(pattern);
  std::string dir = pattern.starts_with('/') ? "/" : "";
  for (size_t i = 0; i + 1 < parts.size() && !has_meta(parts[i]); ++i) dir = join(dir, parts[i]);
  return dir.empty() ? "." : dir;
}

}  // namespace sluice::inputs::tail
