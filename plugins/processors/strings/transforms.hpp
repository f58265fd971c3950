// The string operations of the strings processor, each as Telegraf's strings processor (Go's
// strings package) does it, except that case changes cover ASCII letters only and `left`
// counts characters rather than bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::processors::strings {

enum class OpKind {
  kLowercase,
  kUppercase,
  kTitlecase,
  kTrim,
  kTrimLeft,
  kTrimRight,
  kTrimPrefix,
  kTrimSuffix,
  kReplace,
  kLeft,
  kBase64Decode,
  kValidUtf8,
};

struct Op {
  OpKind kind = OpKind::kLowercase;
  std::string text;   // cutset, prefix, suffix, old, or the valid_utf8 replacement
  std::string text2;  // new
  size_t width = 0;   // left

  // Writes the result to `out` and returns true, or returns false when the value stays as it is
  // (then `out` holds nothing useful).
  bool apply(std::string_view in, std::string& out) const;
};

// Decodes standard base64 with padding (Go's StdEncoding; CR and LF are skipped); false when the
// text is not valid base64.
bool base64_decode(std::string_view in, std::string& out);
bool is_valid_utf8(std::string_view s);

}  // namespace sluice::processors::strings
