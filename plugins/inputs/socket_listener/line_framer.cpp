#include "line_framer.hpp"

#include <cstring>

namespace sluice::inputs::socket_listener {

LineFramer::LineFramer(size_t max_line, bool many_lines_at_once, Deliver deliver, Reject reject)
    : capacity_(max_line + 1),  // + its '\n'
      many_lines_at_once_(many_lines_at_once),
      deliver_(std::move(deliver)),
      reject_(std::move(reject)),
      buffer_(new char[capacity_]) {}

void LineFramer::deliver(std::string_view run) {
  if (many_lines_at_once_) {
    deliver_(run);
    return;
  }
  while (!run.empty()) {
    size_t end = run.find('\n');
    std::string_view line = run.substr(0, end == std::string_view::npos ? run.size() : end + 1);
    run.remove_prefix(line.size());
    if (line.find_first_not_of(" \t\r\n") != std::string_view::npos) deliver_(line);
  }
}

void LineFramer::commit(size_t n) {
  char* base = buffer_.get();
  size_t scan_from = filled_;
  filled_ += n;
  if (skipping_) {
    const void* nl = std::memchr(base + scan_from, '\n', filled_ - scan_from);
    if (nl == nullptr) {
      skipped_bytes_ += filled_ - scan_from;
      filled_ = 0;
      return;
    }
    size_t after = static_cast<size_t>(static_cast<const char*>(nl) - base) + 1;
    skipped_bytes_ += after - scan_from - 1;
    reject_(skipped_bytes_);
    skipping_ = false;
    std::memmove(base, base + after, filled_ - after);
    filled_ -= after;
    scan_from = 0;
  }
  // Only the new bytes can hold a line break the earlier ones did not.
  const void* last = memrchr(base + scan_from, '\n', filled_ - scan_from);
  if (last != nullptr) {
    size_t end = static_cast<size_t>(static_cast<const char*>(last) - base) + 1;
    deliver(std::string_view(base, end));
    std::memmove(base, base + end, filled_ - end);
    filled_ -= end;
    return;
  }
  if (filled_ == capacity_) {
    skipping_ = true;
    skipped_bytes_ = filled_;
    filled_ = 0;
  }
}

void LineFramer::feed(std::string_view data) {
  while (!data.empty()) {
    size_t n = std::min(data.size(), space_size());
    std::memcpy(space(), data.data(), n);
    data.remove_prefix(n);
    commit(n);
  }
}

void LineFramer::finish() {
  if (skipping_) {
    reject_(skipped_bytes_);
    skipping_ = false;
  } else if (filled_ > 0) {
    deliver(std::string_view(buffer_.get(), filled_));
  }
  filled_ = 0;
}

}  // namespace sluice::inputs::socket_listener
