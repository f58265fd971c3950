// Glob patterns as Telegraf's filters use them: `*` any run, `?` one character, `[abc]`,
// `[a-z]`, `[!a-z]` classes, and `{a,b}` alternatives.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::core {

class GlobSet {
 public:
  GlobSet() = default;
  explicit GlobSet(const std::vector<std::string>& patterns);

  bool empty() const { return exact_.empty() && prefixes_.empty() && patterns_.empty(); }
  bool matches(std::string_view text) const;

 private:
  // Most patterns are plain names or "prefix*": those skip the general matcher.
  std::vector<std::string> exact_;
  std::vector<std::string> prefixes_;
  std::vector<std::string> patterns_;
};

// Matches one pattern without braces against text.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace sluice::core
