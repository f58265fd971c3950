// Regular expressions written as Go's RE2 syntax (as Telegraf's regex options are), run by the
// C library's POSIX extended regex engine. The pattern is translated first: \d \w \s and their
// negations, escapes inside brackets, (?:...) and named groups (?P<name>...) / (?<name>...),
// the flags (?i), (?s) and (?m) at the start, \A and \z. What POSIX cannot express (lazy
// quantifiers, look-around, \p{...} classes, other inline flags) is refused when the pattern
// is compiled. Matching is POSIX's leftmost-longest rather than RE2's leftmost-first, which
// differs only for alternations where an earlier branch matches a shorter text.
#pragma once

#include <regex.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::processors::regex {

class Pattern {
 public:
  // Throws std::invalid_argument with the reason when the pattern cannot be used.
  explicit Pattern(std::string_view re2_pattern);
  ~Pattern();
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  bool matches(std::string_view text) const;
  // Replaces every non-overlapping match as Go's Regexp.ReplaceAllString does; `replacement`
  // may refer to groups as $1, ${1}, $name or ${name}, and $$ is a '$'. Returns false (and
  // leaves `out` alone) when nothing matched.
  bool replace_all(std::string_view text, std::string_view replacement, std::string& out) const;

  // The POSIX form the pattern was translated to (for tests and error messages).
  const std::string& posix() const { return posix_; }

 private:
  // Finds a match in text starting at `from`; groups_[0] is the whole match.
  bool find(std::string_view text, size_t from) const;
  void expand(std::string_view text, std::string_view replacement, std::string& out) const;
  std::optional<size_t> group_index(std::string_view name) const;

  std::string posix_;
  regex_t compiled_{};
  bool compiled_ok_ = false;
  // For each RE2 group (1-based; [0] is the whole match) the POSIX group that holds it.
  std::vector<size_t> group_map_;
  std::vector<std::pair<std::string, size_t>> names_;  // name -> RE2 group
  mutable std::vector<regmatch_t> groups_;
};

}  // namespace sluice::processors::regex
