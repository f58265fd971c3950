// One followed file: an open descriptor (kept across a rename, so the rest of a rotated file is
// still read), the offset read so far and the unfinished last line.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::inputs::tail {

class Follower {
 public:
  // Opens `path` and starts at `offset` (past the end means the end). With `skip_partial`, the
  // text before the first line break is skipped (reading started inside a line).
  static std::unique_ptr<Follower> open(const std::string& path, int64_t offset, bool skip_partial,
                                        std::string& error);
  ~Follower();
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  // Takes complete lines (with their line breaks) and the file offset just past them.
  using Lines = std::function<void(std::string_view text, int64_t end)>;

  // A shorter file than what was read means it was truncated (copytruncate): reading starts
  // again at 0. True when that happened.
  bool check_truncation();
  // Reads what was appended, up to `budget` bytes, and hands over complete lines as runs.
  // Returns the bytes read.
  size_t read(size_t budget, const Lines& lines);
  // Lines dropped since the last call because they were longer than 4 MiB.
  size_t take_overlong() { return std::exchange(overlong_, 0); }
  // Hands over the unfinished last line, for a file that will not grow any more.
  void flush(const Lines& lines);

  dev_t dev() const { return dev_; }
  ino_t ino() const { return ino_; }
  // The name the file was opened by: its path tag, also after a rename.
  const std::string& tag_path() const { return tag_path_; }
  // Where the file is found now (it may have been renamed to another matching name).
  const std::string& path() const { return path_; }
  void set_path(std::string path) { path_ = std::move(path); }
  // The offset of the first byte not yet handed over: where a later reader resumes.
  int64_t resume_offset() const { return offset_ - static_cast<int64_t>(partial_.size()); }

  bool rotated = false;  // no longer at its path: read until it stays quiet, then closed
  std::chrono::steady_clock::time_point last_data;
  int watch = -1;  // inotify watch descriptor
  uint64_t id = 0;  // the input's key for its delivery tracking

 private:
  Follower() = default;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::string tag_path_;
  std::string path_;
  int64_t offset_ = 0;
  std::string partial_;
  bool skipping_ = false;  // inside an overlong line, or a line begun before the start offset
  size_t overlong_ = 0;
};

}  // namespace sluice::inputs::tail
