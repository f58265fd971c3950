// socket_listener's framing of a byte stream into lines, without sockets: runs of complete lines
// at once or line by line, the longest line accepted exactly, overlong lines skipped to their end.
#include "inputs/socket_listener/line_framer.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using sluice::inputs::socket_listener::LineFramer;

namespace {

struct Framed {
  std::vector<std::string> delivered;
  std::vector<size_t> rejected;
  LineFramer framer;
  Framed(size_t max_line, bool many)
      : framer(
            max_line, many, [this](std::string_view s) { delivered.emplace_back(s); },
            [this](size_t n) { rejected.push_back(n); }) {}
};

}  // namespace

TEST_CASE("LineFramer hands over every run of complete lines at once, keeps the partial rest") {
  Framed f(64, true);
  f.framer.feed("a 1\nb 2\nc");
  f.framer.feed(" 3\nd 4\n");
  f.framer.feed("e 5");
  f.framer.finish();
  CHECK(f.delivered == std::vector<std::string>{"a 1\nb 2\n", "c 3\nd 4\n", "e 5"});
  CHECK(f.rejected.empty());
}

TEST_CASE("LineFramer line by line for formats that need it, skipping blank lines") {
  Framed f(64, false);
  f.framer.feed("a 1\n\n  \nb 2\nc 3\n");
  CHECK(f.delivered == std::vector<std::string>{"a 1\n", "b 2\n", "c 3\n"});
}

TEST_CASE("LineFramer accepts a line of exactly max_line bytes and rejects one byte more") {
  Framed f(10, true);
  f.framer.feed(std::string(10, 'x') + "\n");
  CHECK(f.delivered == std::vector<std::string>{std::string(10, 'x') + "\n"});
  f.framer.feed(std::string(11, 'y'));  // no room for it, whatever follows
  f.framer.feed(std::string(5, 'y') + "\nok\n");
  CHECK(f.rejected == std::vector<size_t>{16});
  CHECK(f.delivered.back() == "ok\n");
  f.framer.feed(std::string(30, 'z'));
  f.framer.finish();  // the stream ends inside an overlong line
  CHECK(f.rejected == std::vector<size_t>{16, 30});
  CHECK(f.delivered.size() == 2);
}
