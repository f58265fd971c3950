// The tail input's state file: per followed file its path, device, inode and the offset up to
// which every line was delivered, so that a restart (or a reboot) resumes there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::inputs::tail {

struct SavedFile {
  std::string path;
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t offset = 0;
};

// The name of the state file of one tail input: by its alias, else by a hash of its globs, so
// that two tail inputs never share one.
std::string state_file_name(const std::string& alias, const std::vector<std::string>& files);

// Reads a state file. A missing file is an empty list; a file that cannot be read or is not a
// state file gives nullopt and `error`.
std::optional<std::vector<SavedFile>> read_state(const std::string& path, std::string& error);

// Replaces the state file atomically: a temporary file in the same folder, fsync, rename, then
// fsync of the folder, so a crash or power loss leaves the old file or the new one.
bool write_state(const std::string& path, const std::vector<SavedFile>& files, std::string& error);

}  // namespace sluice::inputs::tail
