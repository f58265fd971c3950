#include "processors/strings/transforms.hpp"

#include <array>
#include <cstdint>

#include "lineproto/utf8.hpp"

namespace sluice::processors::strings {

namespace {

// The length of the UTF-8 character at s[i], or 0 when the byte there does not start a valid
// one.
size_t char_length(std::string_view s, size_t i) {
  auto p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  if (*p < 0x80) return 1;
  return lineproto::detail::utf8_sequence_length(
      p, reinterpret_cast<const unsigned char*>(s.data()) + s.size());
}

uint32_t decode_at(std::string_view s, size_t i, size_t len) {
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[i + k])); };
  switch (len) {
    case 1:
      return b(0);
    case 2:
      return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3:
      return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default:
      return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

// Go's unicode.IsSpace.
bool is_space(uint32_t c) {
  switch (c) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

bool in_cutset(uint32_t c, std::string_view cutset) {
  if (cutset.empty()) return is_space(c);
  for (size_t i = 0; i < cutset.size();) {
    size_t len = char_length(cutset, i);
    if (len == 0) {
      ++i;
      continue;
    }
    if (decode_at(cutset, i, len) == c) return true;
    i += len;
  }
  return false;
}

// The character ending just before `end`: its start, or end - 1 for an invalid byte.
size_t char_start_before(std::string_view s, size_t end) {
  size_t start = end - 1;
  size_t limit = end >= 4 ? end - 4 : 0;
  while (start > limit && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  if (char_length(s, start) == end - start) return start;
  return end - 1;
}

bool is_letter_or_digit(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len = char_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool base64_decode(std::string_view in, std::string& out) {
  static const std::array<int8_t, 256> kTable = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i)
      t[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
    return t;
  }();
  std::string clean;
  clean.reserve(in.size());
  for (char c : in) {
    if (c != '\r' && c != '\n') clean += c;
  }
  if (clean.size() % 4 != 0) return false;
  out.clear();
  out.reserve(clean.size() / 4 * 3);
  for (size_t i = 0; i < clean.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = clean[i + static_cast<size_t>(k)];
      if (c == '=') {
        // Padding only at the very end, and only in the last two places.
        if (i + 4 != clean.size() || k < 2) return false;
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;
      v[k] = kTable[static_cast<unsigned char>(c)];
      if (v[k] < 0) return false;
    }
    uint32_t n = (static_cast<uint32_t>(v[0]) << 18) | (static_cast<uint32_t>(v[1]) << 12) |
                 (static_cast<uint32_t>(v[2]) << 6) | static_cast<uint32_t>(v[3]);
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
    // Go's strict decoding is not used by Telegraf, so unused low bits are not checked.
  }
  return true;
}

bool Op::apply(std::string_view in, std::string& out) const {
  switch (kind) {
    case OpKind::kLowercase:
    case OpKind::kUppercase: {
      bool lower = kind == OpKind::kLowercase;
      size_t i = 0;
      for (; i < in.size(); ++i) {
        char c = in[i];
        if (lower ? (c >= 'A' && c <= 'Z') : (c >= 'a' && c <= 'z')) break;
      }
      if (i == in.size()) return false;
      out.assign(in);
      for (; i < out.size(); ++i) {
        char& c = out[i];
        if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (!lower && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      }
      return true;
    }
    case OpKind::kTitlecase: {
      out.assign(in);
      bool changed = false;
      unsigned char prev = ' ';
      for (char& c : out) {
        if (!is_letter_or_digit(prev) && c >= 'a' && c <= 'z') {
          c = static_cast<char>(c - 'a' + 'A');
          changed = true;
        }
        prev = static_cast<unsigned char>(c);
      }
      return changed;
    }
    case OpKind::kTrim:
    case OpKind::kTrimLeft:
    case OpKind::kTrimRight: {
      size_t begin = 0, end = in.size();
      if (kind != OpKind::kTrimRight) {
        while (begin < end) {
          size_t len = char_length(in, begin);
          uint32_t c = len == 0 ? 0xFFFD : decode_at(in, begin, len);
          if (!in_cutset(c, text)) break;
          begin += len == 0 ? 1 : len;
        }
      }
      if (kind != OpKind::kTrimLeft) {
        while (end > begin) {
          size_t start = char_start_before(in, end);
          size_t len = char_length(in, start);
          uint32_t c = len != end - start ? 0xFFFD : decode_at(in, start, len);
          if (!in_cutset(c, text)) break;
          end = start;
        }
      }
      if (begin == 0 && end == in.size()) return false;
      out.assign(in.substr(begin, end - begin));
      return true;
    }
    case OpKind::kTrimPrefix:
      if (text.empty() || in.substr(0, text.size()) != text) return false;
      out.assign(in.substr(text.size()));
      return true;
    case OpKind::kTrimSuffix:
      if (text.empty() || in.size() < text.size() || in.substr(in.size() - text.size()) != text) {
        return false;
      }
      out.assign(in.substr(0, in.size() - text.size()));
      return true;
    case OpKind::kReplace: {
      size_t at = in.find(text);
      if (at == std::string_view::npos) return false;
      out.clear();
      size_t from = 0;
      while (at != std::string_view::npos) {
        out.append(in.substr(from, at - from));
        out.append(text2);
        from = at + text.size();
        at = in.find(text, from);
      }
      out.append(in.substr(from));
      return true;
    }
    case OpKind::kLeft: {
      size_t i = 0, count = 0;
      while (i < in.size() && count < width) {
        size_t len = char_length(in, i);
        i += len == 0 ? 1 : len;
        ++count;
      }
      if (i >= in.size()) return false;
      out.assign(in.substr(0, i));
      return true;
    }
    case OpKind::kBase64Decode: {
      std::string decoded;
      if (!base64_decode(in, decoded) || !is_valid_utf8(decoded)) return false;
      if (decoded == in) return false;
      out = std::move(decoded);
      return true;
    }
    case OpKind::kValidUtf8: {
      if (is_valid_utf8(in)) return false;
      out.clear();
      bool in_invalid_run = false;
      for (size_t i = 0; i < in.size();) {
        size_t len = char_length(in, i);
        if (len == 0) {
          // One replacement for each run of invalid bytes, as Go's strings.ToValidUTF8.
          if (!in_invalid_run) out.append(text);
          in_invalid_run = true;
          ++i;
          continue;
        }
        in_invalid_run = false;
        out.append(in.substr(i, len));
        i += len;
      }
      return true;
    }
  }
  return false;
}

}  // namespace sluice::processors::strings
