// Cuts a byte stream into lines for the parser. Bytes are read straight into the framer's
// buffer; every run of complete lines goes to the parser in one call when the format allows it
// (one call per line otherwise). The buffer never grows: a line that does not fit in it is
// rejected and skipped up to its end, so a sender without line breaks cannot take memory.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

namespace sluice::inputs::socket_listener {

class LineFramer {
 public:
  using Deliver = std::function<void(std::string_view lines)>;
  using Reject = std::function<void(size_t line_bytes)>;

  // `max_line` is the buffer's size and so the longest line accepted (its '\n' not counted).
  LineFramer(size_t max_line, bool many_lines_at_once, Deliver deliver, Reject reject);

  // Where the next read may write, and how much.
  char* space() { return buffer_.get() + filled_; }
  size_t space_size() const { return capacity_ - filled_; }
  // Takes the `n` bytes just written at space().
  void commit(size_t n);
  // Copies bytes in (decoded data), taking them as they fit.
  void feed(std::string_view data);
  // The end of the stream: a last line without '\n' is a line too.
  void finish();

 private:
  void deliver(std::string_view run);

  const size_t capacity_;
  const bool many_lines_at_once_;
  Deliver deliver_;
  Reject reject_;
  std::unique_ptr<char[]> buffer_;
  size_t filled_ = 0;
  bool skipping_ = false;     // inside a rejected line: drop up to its '\n'
  size_t skipped_bytes_ = 0;  // how long the rejected line is so far
};

}  // namespace sluice::inputs::socket_listener
