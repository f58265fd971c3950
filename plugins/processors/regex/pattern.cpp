#include "processors/regex/pattern.hpp"

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace sluice::processors::regex {

namespace {

bool is_ere_special(char c) { return std::strchr(".[]()*+?{}|^$\\", c) != nullptr; }

void append_literal(std::string& out, char c) {
  if (is_ere_special(c)) out += '\\';
  out += c;
}

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

[[noreturn]] void unsupported(const std::string& what) {
  throw std::invalid_argument(what + " is not supported");
}

// Reads \xHH or \x{H...} after the 'x'; returns the text it stands for.
std::string read_hex(std::string_view p, size_t& i) {
  uint32_t cp = 0;
  if (i < p.size() && p[i] == '{') {
    size_t close = p.find('}', i);
    if (close == std::string_view::npos || close == i + 1)
      throw std::invalid_argument("bad \\x{...}");
    for (size_t k = i + 1; k < close; ++k) {
      if (!std::isxdigit(static_cast<unsigned char>(p[k])))
        throw std::invalid_argument("bad \\x{...}");
      cp = cp * 16 + static_cast<uint32_t>(std::stoi(std::string(1, p[k]), nullptr, 16));
    }
    i = close + 1;
  } else {
    if (i + 2 > p.size() || !std::isxdigit(static_cast<unsigned char>(p[i])) ||
        !std::isxdigit(static_cast<unsigned char>(p[i + 1]))) {
      throw std::invalid_argument("bad \\x escape");
    }
    cp = static_cast<uint32_t>(std::stoi(std::string(p.substr(i, 2)), nullptr, 16));
    i += 2;
  }
  std::string out;
  append_utf8(out, cp);
  return out;
}

// A bracket expression of RE2 starting after its '[' at p[i]; leaves i after its ']'.
std::string translate_bracket(std::string_view p, size_t& i) {
  bool negate = false;
  if (i < p.size() && p[i] == '^') {
    negate = true;
    ++i;
  }
  bool close_bracket = false, dash = false, caret = false;
  std::string items;
  auto add_char = [&](char c) {
    if (c == ']') {
      close_bracket = true;
    } else if (c == '-') {
      dash = true;
    } else if (c == '^') {
      caret = true;
    } else {
      items += c;
    }
  };
  bool first = true;
  while (true) {
    if (i >= p.size()) throw std::invalid_argument("missing ]");
    char c = p[i];
    if (c == ']' && !first) {
      ++i;
      break;
    }
    first = false;
    if (c == '[' && i + 1 < p.size() && p[i + 1] == ':') {
      size_t close = p.find(":]", i + 2);
      if (close == std::string_view::npos) throw std::invalid_argument("bad [: class");
      items += p.substr(i, close + 2 - i);
      i = close + 2;
      continue;
    }
    std::string single;  // the literal this element stands for, when it is one
    if (c == '\\') {
      if (i + 1 >= p.size()) throw std::invalid_argument("trailing \\");
      char e = p[i + 1];
      i += 2;
      switch (e) {
        case 'd':
          items += "[:digit:]";
          continue;
        case 'w':
          items += "[:alnum:]_";
          continue;
        case 's':
          items += "[:space:]";
          continue;
        case 'n':
          single = "\n";
          break;
        case 't':
          single = "\t";
          break;
        case 'r':
          single = "\r";
          break;
        case 'f':
          single = "\f";
          break;
        case 'v':
          single = "\v";
          break;
        case 'x':
          single = read_hex(p, i);
          break;
        default:
          if (std::isalnum(static_cast<unsigned char>(e))) {
            unsupported(std::string("\\") + e + " inside brackets");
          }
          single = std::string(1, e);
      }
    } else {
      single = std::string(1, c);
      ++i;
    }
    // A range a-b (the '-' not last).
    if (single.size() == 1 && i + 1 < p.size() && p[i] == '-' && p[i + 1] != ']') {
      char hi = p[i + 1];
      i += 2;
      if (hi == '\\') {
        if (i >= p.size()) throw std::invalid_argument("trailing \\");
        hi = p[i++];
      }
      items += single;
      items += '-';
      items += hi;
      continue;
    }
    if (single.size() == 1) {
      add_char(single[0]);
    } else {
      items += single;
    }
  }
  std::string out = "[";
  if (negate) out += '^';
  if (close_bracket) out += ']';
  out += items;
  if (caret) {
    if (!negate && !close_bracket && items.empty()) {
      // "[^]" would read as a negation: a lone caret is better written outside brackets.
      if (!dash) return "\\^";
      out += "-^]";
      return out;
    }
    out += '^';
  }
  if (dash) out += '-';
  out += ']';
  return out;
}

}  // namespace

Pattern::Pattern(std::string_view p) {
  int flags = REG_EXTENDED;
  size_t i = 0;
  // Leading flags, e.g. (?i) or (?is).
  if (p.substr(0, 2) == "(?") {
    size_t close = p.find(')');
    std::string_view f = close == std::string_view::npos ? "" : p.substr(2, close - 2);
    if (!f.empty() && f.find_first_not_of("ism") == std::string_view::npos) {
      if (f.find('i') != std::string_view::npos) flags |= REG_ICASE;
      if (f.find('m') != std::string_view::npos) flags |= REG_NEWLINE;
      i = close + 1;
    }
  }
  size_t posix_groups = 0;
  group_map_.push_back(0);
  while (i < p.size()) {
    char c = p[i];
    switch (c) {
      case '\\': {
        if (i + 1 >= p.size()) throw std::invalid_argument("trailing \\");
        char e = p[i + 1];
        i += 2;
        switch (e) {
          case 'd':
            posix_ += "[0-9]";
            break;
          case 'D':
            posix_ += "[^0-9]";
            break;
          case 'w':
            posix_ += "[[:alnum:]_]";
            break;
          case 'W':
            posix_ += "[^[:alnum:]_]";
            break;
          case 's':
            posix_ += "[[:space:]]";
            break;
          case 'S':
            posix_ += "[^[:space:]]";
            break;
          case 'A':
            posix_ += '^';
            break;
          case 'z':
            posix_ += '$';
            break;
          case 'b':
            posix_ += "\\b";
            break;
          case 'B':
            posix_ += "\\B";
            break;
          case 'n':
            posix_ += '\n';
            break;
          case 't':
            posix_ += '\t';
            break;
          case 'r':
            posix_ += '\r';
            break;
          case 'f':
            posix_ += '\f';
            break;
          case 'v':
            posix_ += '\v';
            break;
          case 'x':
            for (char b : read_hex(p, i)) append_literal(posix_, b);
            break;
          default:
            if (std::isalnum(static_cast<unsigned char>(e))) {
              unsupported(std::string("the escape \\") + e);
            }
            append_literal(posix_, e);
        }
        break;
      }
      case '[':
        ++i;
        posix_ += translate_bracket(p, i);
        break;
      case '(': {
        ++i;
        if (i < p.size() && p[i] == '?') {
          std::string_view rest = p.substr(i + 1);
          if (rest.substr(0, 1) == ":") {
            i += 2;
            ++posix_groups;  // numbered by POSIX, but not an RE2 group
          } else if (rest.substr(0, 2) == "P<" || (rest.substr(0, 1) == "<" && rest.size() > 1 &&
                                                   rest[1] != '=' && rest[1] != '!')) {
            size_t start = i + 1 + (rest[0] == 'P' ? 2 : 1);
            size_t close = p.find('>', start);
            if (close == std::string_view::npos || close == start) {
              throw std::invalid_argument("bad group name");
            }
            std::string name(p.substr(start, close - start));
            for (char n : name) {
              if (!is_name_char(n)) throw std::invalid_argument("bad group name \"" + name + "\"");
            }
            ++posix_groups;
            group_map_.push_back(posix_groups);
            names_.emplace_back(std::move(name), group_map_.size() - 1);
            i = close + 1;
          } else {
            unsupported("the group (?" + std::string(rest.substr(0, 2)) + "...");
          }
        } else {
          ++posix_groups;
          group_map_.push_back(posix_groups);
        }
        posix_ += '(';
        break;
      }
      case '*':
      case '+':
      case '?':
        posix_ += c;
        ++i;
        if (i < p.size() && p[i] == '?')
          unsupported("the lazy quantifier " + std::string(1, c) + "?");
        if (i < p.size() && p[i] == '+') unsupported("the possessive quantifier");
        break;
      case '{': {
        // A repetition {n}, {n,} or {n,m}; anything else is a literal brace, as in RE2.
        size_t close = p.find('}', i);
        std::string_view body =
            close == std::string_view::npos ? "" : p.substr(i + 1, close - i - 1);
        size_t comma = body.find(',');
        auto digits = [](std::string_view s) {
          return s.find_first_not_of("0123456789") == std::string_view::npos;
        };
        bool repetition = !body.empty() && std::isdigit(static_cast<unsigned char>(body[0])) &&
                          digits(body.substr(0, comma)) &&
                          (comma == std::string_view::npos || digits(body.substr(comma + 1)));
        if (repetition) {
          posix_ += p.substr(i, close - i + 1);
          i = close + 1;
          if (i < p.size() && p[i] == '?') unsupported("the lazy quantifier {n,m}?");
        } else {
          posix_ += "\\{";
          ++i;
        }
        break;
      }
      case '}':
        posix_ += "\\}";
        ++i;
        break;
      default:
        posix_ += c;
        ++i;
    }
  }
  int rc = regcomp(&compiled_, posix_.c_str(), flags);
  if (rc != 0) {
    char buf[256];
    regerror(rc, &compiled_, buf, sizeof(buf));
    regfree(&compiled_);
    throw std::invalid_argument(buf);
  }
  compiled_ok_ = true;
  groups_.resize(compiled_.re_nsub + 1);
}

Pattern::~Pattern() {
  if (compiled_ok_) regfree(&compiled_);
}

bool Pattern::find(std::string_view text, size_t from) const {
  groups_[0].rm_so = static_cast<regoff_t>(from);
  groups_[0].rm_eo = static_cast<regoff_t>(text.size());
  int eflags = REG_STARTEND | (from > 0 ? REG_NOTBOL : 0);
  // With REG_STARTEND the text needs no terminating NUL; offsets stay relative to its start.
  const char* data = text.data() != nullptr ? text.data() : "";
  return regexec(&compiled_, data, groups_.size(), groups_.data(), eflags) == 0;
}

bool Pattern::matches(std::string_view text) const { return find(text, 0); }

std::optional<size_t> Pattern::group_index(std::string_view name) const {
  if (!name.empty() && name.find_first_not_of("0123456789") == std::string_view::npos) {
    size_t n = 0;
    for (char c : name) {
      n = n * 10 + static_cast<size_t>(c - '0');
      if (n >= group_map_.size()) return std::nullopt;
    }
    return n;
  }
  for (const auto& [n, index] : names_) {
    if (n == name) return index;
  }
  return std::nullopt;
}

void Pattern::expand(std::string_view text, std::string_view r, std::string& out) const {
  for (size_t i = 0; i < r.size(); ++i) {
    if (r[i] != '$') {
      out += r[i];
      continue;
    }
    if (i + 1 < r.size() && r[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string_view name;
    size_t next = i + 1;
    if (next < r.size() && r[next] == '{') {
      size_t close = r.find('}', next);
      if (close != std::string_view::npos && close > next + 1) {
        name = r.substr(next + 1, close - next - 1);
        bool valid = true;
        for (char c : name) valid = valid && is_name_char(c);
        if (valid)
          next = close + 1;
        else
          name = {};
      }
    } else {
      size_t end = next;
      while (end < r.size() && is_name_char(r[end])) ++end;
      name = r.substr(next, end - next);
      next = end;
    }
    if (name.empty()) {
      out += '$';  // not a reference: a literal '$', as Go treats it
      continue;
    }
    if (auto g = group_index(name)) {
      const regmatch_t& m = groups_[group_map_[*g]];
      if (m.rm_so >= 0)
        out.append(
            text.substr(static_cast<size_t>(m.rm_so), static_cast<size_t>(m.rm_eo - m.rm_so)));
    }
    i = next - 1;
  }
}

bool Pattern::replace_all(std::string_view text, std::string_view replacement,
                          std::string& out) const {
  size_t pos = 0;
  size_t copied = 0;
  long last_end = -1;
  bool any = false;
  std::string result;
  while (pos <= text.size() && find(text, pos)) {
    size_t so = static_cast<size_t>(groups_[0].rm_so);
    size_t eo = static_cast<size_t>(groups_[0].rm_eo);
    if (so == eo && static_cast<long>(so) == last_end) {
      // An empty match right after the previous match is skipped, as in Go.
    } else {
      if (!any) result.reserve(text.size() + replacement.size());
      any = true;
      result.append(text.substr(copied, so - copied));
      expand(text, replacement, result);
      copied = eo;
      last_end = static_cast<long>(eo);
    }
    if (eo > so) {
      pos = eo;
    } else {
      // Step over one whole UTF-8 character after an empty match.
      size_t step = 1;
      while (so + step < text.size() &&
             (static_cast<unsigned char>(text[so + step]) & 0xC0) == 0x80) {
        ++step;
      }
      pos = so + step;
    }
  }
  if (!any) return false;
  result.append(text.substr(copied));
  out = std::move(result);
  return true;
}

}  // namespace sluice::processors::regex
