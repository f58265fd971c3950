#include "core/path_glob.hpp"

#include <algorithm>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "core/glob.hpp"

namespace sluice::core {
namespace {

namespace fs = std::filesystem;

bool has_meta(std::string_view s) { return s.find_first_of("*?[{") != std::string_view::npos; }

std::vector<std::string> split_components(const std::string& pattern) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= pattern.size()) {
    size_t slash = pattern.find('/', start);
    if (slash == std::string::npos) slash = pattern.size();
    if (slash > start) parts.push_back(pattern.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

class Walker {
 public:
  explicit Walker(std::vector<std::string> parts) : parts_(std::move(parts)) {}

  // Matches parts_[i..] below the directory `dir`.
  void walk(const fs::path& dir, size_t i) {
    std::error_code ec;
    if (i == parts_.size()) {
      if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) found_.push_back(dir.string());
      return;
    }
    const std::string& part = parts_[i];
    if (part == "**") {
      walk(dir, i + 1);  // no directory at all
      for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec) && !hidden(*it, part)) walk(it->path(), i);
      }
      return;
    }
    if (!has_meta(part)) {
      walk(dir / part, i + 1);
      return;
    }
    GlobSet matcher({part});
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (hidden(*it, part) || !matcher.matches(name)) continue;
      walk(it->path(), i + 1);
    }
  }

  std::vector<std::string> take() {
    std::sort(found_.begin(), found_.end());
    found_.erase(std::unique(found_.begin(), found_.end()), found_.end());
    return std::move(found_);
  }

 private:
  static bool hidden(const fs::directory_entry& entry, const std::string& part) {
    return entry.path().filename().string().starts_with('.') && !part.starts_with('.');
  }

  std::vector<std::string> parts_;
  std::vector<std::string> found_;
};

}  // namespace

bool is_path_glob(const std::string& pattern) { return has_meta(pattern); }

std::vector<std::string> expand_path_glob(const std::string& pattern) {
  if (!is_path_glob(pattern)) return {pattern};
  Walker walker(split_components(pattern));
  walker.walk(pattern.starts_with('/') ? fs::path("/") : fs::path("."), 0);
  std::vector<std::string> found = walker.take();
  // Relative patterns give relative paths, without the "./" the walk starts from.
  if (!pattern.starts_with('/')) {
    for (std::string& f : found) {
      if (f.starts_with("./")) f.erase(0, 2);
    }
  }
  return found;
}

}  // namespace sluice::core
