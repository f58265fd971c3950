// File-system globs for inputs that read files by pattern (file, and the like): the patterns of
// core/glob.hpp per path component (`*`, `?`, `[a-z]`, `{a,b}`), plus `**` for any number of
// directories, as Telegraf's globpath.
#pragma once

#include <string>
#include <vector>

namespace sluice::core {

// Whether `pattern` has glob characters (else it names one path).
bool is_path_glob(const std::string& pattern);

// The paths of the files (anything but directories) that `pattern` matches, sorted. A pattern
// without glob characters is returned as it is, existing or not, so that the caller reports why
// it cannot be read. Names starting with '.' match only a component that starts with '.'.
// `**` does not follow symbolic links to directories (no loops).
std::vector<std::string> expand_path_glob(const std::string& pattern);

}  // namespace sluice::core
