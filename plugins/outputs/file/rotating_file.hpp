// A file appended to, rotated by age or size: the current file is renamed with a timestamp
// (metrics.out -> metrics.2026-01-02T03-04-05.123456789Z.out) and only the newest archives kept.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace sluice::outputs::file {

struct RotationPolicy {
  int64_t interval_ns = 0;  // 0: never by age
  uint64_t max_size = 0;    // 0: never by size
  int64_t max_archives = 5;  // -1: keep all
};

class RotatingFile {
 public:
  RotatingFile(std::string path, RotationPolicy policy);
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // Opens (appending) if needed. Returns an error message, or "" on success.
  std::string open(int64_t now);
  // Appends and flushes; rotates first when due. Returns an error message, or "".
  std::string write(const std::string& data, int64_t now);
  void close();
  const std::string& path() const { return path_; }

 private:
  std::string rotate(int64_t now);
  void prune_archives() const;

  std::string path_;
  RotationPolicy policy_;
  FILE* file_ = nullptr;
  bool is_standard_ = false;  // stdout/stderr: never rotated or closed
  uint64_t size_ = 0;
  int64_t opened_at_ = 0;
};

}  // namespace sluice::outputs::file
