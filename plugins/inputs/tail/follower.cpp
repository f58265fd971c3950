#include "follower.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace sluice::inputs::tail {
namespace {

// A line longer than this is dropped (up to its line break) so memory stays bounded.
constexpr size_t kMaxLine = 4 << 20;
constexpr size_t kChunk = 256 << 10;

}  // namespace

std::unique_ptr<Follower> Follower::open(const std::string& path, int64_t offset, bool skip_partial,
                                         std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    error = "cannot open " + path + ": " + strerror(errno);
    return nullptr;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    error = path + " is not a regular file";
    close(fd);
    return nullptr;
  }
  std::unique_ptr<Follower> f(new Follower());
  f->fd_ = fd;
  f->dev_ = st.st_dev;
  f->ino_ = st.st_ino;
  f->tag_path_ = f->path_ = path;
  f->offset_ = std::min<int64_t>(offset, st.st_size);
  f->last_data = std::chrono::steady_clock::now();
  if (f->offset_ > 0 && skip_partial) {
    char c = 0;
    f->skipping_ = pread(fd, &c, 1, f->offset_ - 1) == 1 && c != '\n';
  }
  return f;
}

Follower::~Follower() {
  if (fd_ >= 0) close(fd_);
}

bool Follower::check_truncation() {
  struct stat st {};
  if (fstat(fd_, &st) != 0 || st.st_size >= offset_) return false;
  // copytruncate: what was not read before the truncation is gone; start again.
  offset_ = 0;
  partial_.clear();
  skipping_ = false;
  return true;
}

size_t Follower::read(size_t budget, const Lines& lines) {
  size_t total = 0;
  // One buffer for every file: they are all read by the same thread.
  static thread_local std::vector<char> buffer(kChunk);
  while (total < budget) {
    ssize_t n = pread(fd_, buffer.data(), buffer.size(), offset_);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    offset_ += n;
    total += static_cast<size_t>(n);
    std::string_view data(buffer.data(), static_cast<size_t>(n));
    if (skipping_) {
      size_t nl = data.find('\n');
      if (nl == std::string_view::npos) continue;
      data.remove_prefix(nl + 1);
      skipping_ = false;
    }
    size_t last = data.rfind('\n');
    // `data` ends at offset_: the lines handed over end where the text after them starts.
    int64_t end = offset_ - static_cast<int64_t>(data.size() - (last + 1));
    if (last == std::string_view::npos) {
      partial_.append(data);
    } else if (partial_.empty()) {
      lines(data.substr(0, last + 1), end);  // no copy when no line was left over
      partial_.assign(data.substr(last + 1));
    } else {
      partial_.append(data.substr(0, last + 1));
      lines(partial_, end);
      partial_.assign(data.substr(last + 1));
    }
    if (partial_.size() > kMaxLine) {
      partial_.clear();
      skipping_ = true;
      ++overlong_;
    }
  }
  if (total > 0) last_data = std::chrono::steady_clock::now();
  return total;
}

void Follower::flush(const Lines& lines) {
  if (!partial_.empty() && !skipping_) lines(partial_, offset_);
  partial_.clear();
}

}  // namespace sluice::inputs::tail
