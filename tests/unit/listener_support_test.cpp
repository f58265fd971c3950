// The helpers the HTTP listeners share.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>

#include "core/listener_support.hpp"

using sluice::core::count_newlines;

TEST_CASE("count_newlines counts every newline, across block and lane-limit boundaries") {
  std::mt19937 rng(3);
  // Lengths around 16 (one block) and 255 * 16 (where the lane counters are folded), and a
  // body of many lines.
  for (size_t length : {0, 1, 15, 16, 17, 31, 32, 33, 4079, 4080, 4081, 4096, 100'000}) {
    for (int density : {0, 1, 8, 100}) {
      std::string text(length, 'x');
      for (char& c : text) {
        if (static_cast<int>(rng() % 100) < density) c = '\n';
      }
      const auto expected = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
      CHECK(count_newlines(text) == expected);
    }
  }
}
