#include "rotating_file.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <vector>

namespace sluice::outputs::file {
namespace {

namespace fs = std::filesystem;

std::string errno_text() { return std::strerror(errno); }

// "2026-01-02T03-04-05.123456789Z": sorts by time, and is valid in every file system.
std::string stamp(int64_t now) {
  time_t seconds = static_cast<time_t>(now / 1'000'000'000);
  struct tm tm_utc {};
  gmtime_r(&seconds, &tm_utc);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H-%M-%S", &tm_utc);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ",
                static_cast<long long>(now % 1'000'000'000));
  return buf;
}

}  // namespace

RotatingFile::RotatingFile(std::string path, RotationPolicy policy)
    : path_(std::move(path)), policy_(policy) {
  if (path_ == "stdout") file_ = stdout, is_standard_ = true;
  if (path_ == "stderr") file_ = stderr, is_standard_ = true;
}

RotatingFile::~RotatingFile() { close(); }

std::string RotatingFile::open(int64_t now) {
  if (file_ != nullptr) return "";
  file_ = std::fopen(path_.c_str(), "ae");
  if (file_ == nullptr) return "cannot open " + path_ + ": " + errno_text();
  std::error_code ec;
  size_ = fs::file_size(path_, ec);
  if (ec) size_ = 0;
  opened_at_ = now;
  return "";
}

std::string RotatingFile::write(const std::string& data, int64_t now) {
  if (!is_standard_) {
    bool too_old = policy_.interval_ns > 0 && file_ != nullptr &&
                   now - opened_at_ >= policy_.interval_ns;
    bool too_big = policy_.max_size > 0 && size_ > 0 && size_ + data.size() > policy_.max_size;
    if (too_old || too_big) {
      if (std::string error = rotate(now); !error.empty()) return error;
    }
    if (std::string error = open(now); !error.empty()) return error;
  }
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size() || std::fflush(file_) != 0) {
    std::string error = "cannot write " + path_ + ": " + errno_text();
    clearerr(file_);
    return error;
  }
  size_ += data.size();
  return "";
}

std::string RotatingFile::rotate(int64_t now) {
  close();
  fs::path p(path_);
  fs::path archive = p.parent_path() / (p.stem().string() + "." + stamp(now) + p.extension().string());
  std::error_code ec;
  fs::rename(p, archive, ec);
  if (ec && fs::exists(p)) return "cannot rotate " + path_ + ": " + ec.message();
  prune_archives();
  return "";
}

void RotatingFile::prune_archives() const {
  if (policy_.max_archives < 0) return;
  fs::path p(path_);
  std::string prefix = p.stem().string() + ".";
  std::string suffix = p.extension().string();
  std::vector<fs::path> archives;
  std::error_code ec;
  fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (entry.path() != p && name.starts_with(prefix) && name.ends_with(suffix) &&
        name.size() > prefix.size() + suffix.size() && name.find('Z') != std::string::npos) {
      archives.push_back(entry.path());
    }
  }
  std::sort(archives.begin(), archives.end());  // the stamp sorts oldest first
  while (static_cast<int64_t>(archives.size()) > policy_.max_archives) {
    fs::remove(archives.front(), ec);
    archives.erase(archives.begin());
  }
}

void RotatingFile::close() {
  if (file_ != nullptr && !is_standard_) std::fclose(file_);
  if (!is_standard_) file_ = nullptr;
}

}  // namespace sluice::outputs::file
