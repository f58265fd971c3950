// Files for the tail tests: appended to or rewritten as a logging program would, with numbered
// line-protocol lines.
#pragma once

#include <fstream>
#include <string>

namespace sluice::testing {

inline void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

inline void replace_contents(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
}

// "m,n=<i> v=<i>i <1000+i>" for i in [from, to) (a time of 0 would mean "now").
inline std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) {
    s += "m,n=" + std::to_string(i) + " v=" + std::to_string(i) + "i " + std::to_string(1000 + i) +
         "\n";
  }
  return s;
}

}  // namespace sluice::testing
