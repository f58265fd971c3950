// Expands file globs on the file system: `*`, `?`, `[a-z]` within one path component (see
// core/glob.hpp), and `**` for any number of directories, as Telegraf's tail and file inputs.
#pragma once

#include <string>
#include <vector>

namespace sluice::inputs::tail {

// The regular files matching `pattern`, sorted. A pattern without wildcards is returned as is
// when it names a regular file.
std::vector<std::string> expand_file_glob(const std::string& pattern);

// The longest leading folder of `pattern` without wildcards ("/var/log" for
// "/var/log/*/app.log"), where new matching files appear.
std::string glob_root(const std::string& pattern);

}  // namespace sluice::inputs::tail
