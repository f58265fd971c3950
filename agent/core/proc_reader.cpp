#include "core/proc_reader.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>

namespace sluice::core {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

template <typename T>
bool parse_whole(std::string_view text, T& out, int base = 10) {
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  // from_chars takes no '+'; /proc never writes one, but user-facing files might.
  if (*first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out, base);
  return ec == std::errc() && ptr == last;
}

}  // namespace

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

bool parse_u64(std::string_view text, uint64_t& out) { return parse_whole(text, out); }
bool parse_i64(std::string_view text, int64_t& out) { return parse_whole(text, out); }
bool parse_hex_u64(std::string_view text, uint64_t& out) { return parse_whole(text, out, 16); }

bool parse_double(std::string_view text, double& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

bool split_key_value(std::string_view line, std::string_view& key, std::string_view& value) {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  key = trim(line.substr(0, colon));
  value = trim(line.substr(colon + 1));
  return true;
}

bool parse_kb_value(std::string_view value, uint64_t& out) {
  std::vector<std::string_view> parts = split_fields(value);
  if (parts.empty() || parts.size() > 2) return false;
  if (!parse_u64(parts[0], out)) return false;
  if (parts.size() == 2) {
    if (parts[1] != "kB") return false;
    out *= 1024;
  }
  return true;
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* entry = readdir(d)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<int64_t> list_pids(const std::string& proc_dir) {
  std::vector<int64_t> pids;
  for (const std::string& name : list_dir(proc_dir)) {
    int64_t pid = 0;
    if (parse_i64(name, pid) && pid > 0) pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

int64_t clock_ticks() {
  static const int64_t ticks = [] {
    long v = sysconf(_SC_CLK_TCK);
    return v > 0 ? static_cast<int64_t>(v) : int64_t{100};
  }();
  return ticks;
}

int64_t page_size() {
  static const int64_t size = [] {
    long v = sysconf(_SC_PAGESIZE);
    return v > 0 ? static_cast<int64_t>(v) : int64_t{4096};
  }();
  return size;
}

}  // namespace sluice::core
