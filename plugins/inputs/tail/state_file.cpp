#include "state_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sluice::inputs::tail {
namespace {

constexpr std::string_view kHeader = "sluice-tail-state 1";

uint64_t fnv1a(const std::string& s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Splits off the text up to the next space.
std::string_view next_field(std::string_view& line) {
  size_t space = line.find(' ');
  std::string_view field = line.substr(0, space);
  line.remove_prefix(space == std::string_view::npos ? line.size() : space + 1);
  return field;
}

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::string state_file_name(const std::string& alias, const std::vector<std::string>& files) {
  if (!alias.empty()) {
    std::string name = "tail-";
    // Only characters that are safe in a file name; the alias is unique among inputs anyway.
    for (char c : alias) name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    return name + ".state";
  }
  uint64_t h = 14695981039346656037ULL;
  for (const std::string& f : files) h = fnv1a(f + '\n', h);
  char hex[17];
  snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string("tail-") + hex + ".state";
}

std::optional<std::vector<SavedFile>> read_state(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::vector<SavedFile>{};
    error = "cannot read " + path + ": " + strerror(errno);
    return std::nullopt;
  }
  std::string line;
  if (!std::getline(in, line) || line != kHeader) {
    error = path + " is not a tail state file (its first line is not \"" + std::string(kHeader) +
            "\")";
    return std::nullopt;
  }
  std::vector<SavedFile> files;
  // Bounded: a state file holds one line per followed file.
  for (int number = 2; number < 10'000'000 && std::getline(in, line); ++number) {
    std::string_view rest = line;
    SavedFile f;
    bool ok = parse_number(next_field(rest), f.dev) && parse_number(next_field(rest), f.ino) &&
              parse_number(next_field(rest), f.offset) && f.offset >= 0 && !rest.empty();
    if (!ok) {
      error = path + ":" + std::to_string(number) + ": expected \"DEVICE INODE OFFSET PATH\"";
      return std::nullopt;
    }
    f.path = std::string(rest);
    files.push_back(std::move(f));
  }
  return files;
}

bool write_state(const std::string& path, const std::vector<SavedFile>& files, std::string& error) {
  std::ostringstream text;
  text << kHeader << '\n';
  for (const SavedFile& f : files) {
    if (f.path.find('\n') != std::string::npos) continue;  // cannot be written on one line
    text << f.dev << ' ' << f.ino << ' ' << f.offset << ' ' << f.path << '\n';
  }
  // A name of its own per write, so that two writers never share a temporary file.
  static std::atomic<uint64_t> counter{0};
  std::string temp = path + ".tmp." + std::to_string(getpid()) + "." +
                     std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = "cannot write " + temp + ": " + strerror(errno);
    return false;
  }
  bool ok = write_all(fd, text.str()) && fsync(fd) == 0;
  int saved_errno = errno;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    if (ok) saved_errno = errno;
    error = "cannot write " + path + ": " + strerror(saved_errno);
    ::unlink(temp.c_str());
    return false;
  }
  std::string dir = path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);  // the rename itself survives a power loss
    ::close(dfd);
  }
  return true;
}

}  // namespace sluice::inputs::tail
