// Small, exact parsers for the text files of /proc and /sys, shared by the system inputs.
// Numbers are parsed with std::from_chars: no locale, no silent truncation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::core {

// Strips spaces, tabs and line ends at both ends.
std::string_view trim(std::string_view text);

// The whitespace-separated fields of one line.
std::vector<std::string_view> split_fields(std::string_view line);

// Calls fn(line) for every line of text, without its '\n'.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    fn(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

// Whole-string conversions: false unless every character is part of the number.
bool parse_u64(std::string_view text, uint64_t& out);
bool parse_i64(std::string_view text, int64_t& out);
bool parse_double(std::string_view text, double& out);
// A hexadecimal number without prefix, as in /proc/net/tcp and /proc/<pid>/status masks.
bool parse_hex_u64(std::string_view text, uint64_t& out);

// Splits "Key:   value" at the first ':' and trims both sides; false when there is no ':'.
bool split_key_value(std::string_view line, std::string_view& key, std::string_view& value);

// "1234 kB" -> 1263616 bytes; a value without unit is taken as it is (HugePages_Total).
bool parse_kb_value(std::string_view value, uint64_t& out);

// The PIDs under a proc directory (its numeric entries), ascending.
std::vector<int64_t> list_pids(const std::string& proc_dir);

// The names in a directory, without "." and ".."; empty when it cannot be read.
std::vector<std::string> list_dir(const std::string& dir);

// USER_HZ: the unit of the tick counts in /proc/stat and /proc/<pid>/stat.
int64_t clock_ticks();
// The size of a memory page in bytes (the unit of /proc/vmstat's page counts).
int64_t page_size();

}  // namespace sluice::core
