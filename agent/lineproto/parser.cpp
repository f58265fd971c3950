#include "lineproto/parser.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cstring>
#include <functional>

#include "lineproto/escape.hpp"
#include "lineproto/number.hpp"
#include "lineproto/utf8.hpp"

namespace sluice::lineproto {

using detail::byte_class;

std::string ParseError::message() const {
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + reason;
}

namespace {

// Lines with up to this many fields check for repeated keys with a bit filter; wider ones with a
// hash table.
constexpr size_t kFilteredFields = 256;
// Lines with up to this many fields compare each key with the earlier ones directly.
constexpr size_t kScannedFields = 8;
static_assert(kScannedFields >= 1 && kScannedFields < kFilteredFields);

inline bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

// Keys of one line mostly differ in their first or last byte (host, region; usage_user,
// usage_idle): looking at those first spares a call to memcmp per pair compared.
inline bool same_key(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || (a.front() == b.front() && a.back() == b.back())) &&
         a == b;
}

// <0, 0 or >0 as a sorts before, with or after b.
inline int key_order(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a.front() != b.front()) {
    return static_cast<unsigned char>(a.front()) < static_cast<unsigned char>(b.front()) ? -1 : 1;
  }
  return a.compare(b);
}

// Whether a line ends at p: end of input, "\n", "\r\n", or "\r" as the input's last byte.
inline bool is_eol(const char* p, const char* end) {
  return p == end || *p == '\n' || (*p == '\r' && (p + 1 == end || p[1] == '\n'));
}

// Steps over the line end at p (is_eol(p) holds).
inline const char* skip_eol(const char* p, const char* end) {
  if (p == end) return p;
  if (*p == '\n') return p + 1;
  return p + 1 == end ? end : p + 2;
}

#if defined(__SSE2__)
// The bytes of the 16 at p that end a token of this kind or are a backslash, as a bit mask;
// `high` gets the bits of the bytes with the high bit set.
template <uint8_t kEnds>
inline unsigned special_bytes16(const char* p, unsigned& high) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  __m128i m =
      _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), _mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
  if constexpr ((kEnds & detail::kEndsKey) != 0) {
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('=')));
  }
  m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
  m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
  // ASCII control bytes: x <= 0x1f as unsigned, i.e. min(x, 0x1f) == x.
  m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x));
  high = static_cast<unsigned>(_mm_movemask_epi8(x));
  return static_cast<unsigned>(_mm_movemask_epi8(m));
}
#endif

// The end of a number or boolean value: the first ',', ' ', '\r' or '\n' from p on, or `end`.
// Values are short, and a byte-by-byte loop would mispredict its exit on nearly every one.
inline const char* find_value_end(const char* p, const char* end) {
#if defined(__SSE2__)
  if (end - p >= 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i m =
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), _mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\r')));
    const auto ends = static_cast<unsigned>(_mm_movemask_epi8(m));
    if (ends != 0) return p + __builtin_ctz(ends);
    p += 16;
  }
#endif
  while (p < end && !(byte_class(*p) & detail::kEndsValue)) ++p;
  return p;
}

// Scans a token up to its first unescaped end byte. A backslash escapes the next byte only when
// that byte is escapable here; otherwise the backslash is an ordinary character. Sets `escaped`
// when the token needs unescaping, and `high` when it has a non-ASCII byte (to be validated).
// Takes 16 bytes at a time where the input allows, since keys make up most of a wide line.
template <uint8_t kEnds, uint8_t kEscapable>
inline const char* scan_token(const char* p, const char* end, bool& escaped, bool& high) {
  constexpr uint8_t kSpecial = kEnds | detail::kBackslash;
  unsigned seen = 0;
  for (;;) {
#if defined(__SSE2__)
    if (end - p >= 16) {
      unsigned high_bits = 0;
      const unsigned special = special_bytes16<kEnds>(p, high_bits);
      if (special == 0) {
        seen |= high_bits;
        p += 16;
        continue;
      }
      const int at = __builtin_ctz(special);
      seen |= high_bits & ((1u << at) - 1);
      p += at;
    } else
#endif
    {
      while (p < end && !(byte_class(*p) & kSpecial)) seen |= static_cast<unsigned char>(*p++) >> 7;
      if (p == end) break;
    }
    // At a byte that ends the token, or a backslash.
    if (*p != '\\') break;
    if (p + 1 < end && (byte_class(p[1]) & kEscapable)) {
      escaped = true;
      p += 2;
    } else {
      ++p;
    }
  }
  high = seen != 0;
  return p;
}

// Reads a well-formed timestamp (an optional '-' and 1 to 19 digits, within int64, followed by
// a space, a line end or the end of input) eight digits at a time. Anything else is left to the
// careful path, which also explains what is wrong.
inline bool read_plain_timestamp(const char*& cursor, const char* end, int64_t& units) {
  const char* p = cursor;
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  const char* digits = p;
  uint64_t value = 0;
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    if (!detail::is_eight_digits(word)) break;
    value = value * 100'000'000 + detail::eight_digits_value(word);
    p += 8;
  }
  while (p < end && is_digit(*p)) value = value * 10 + static_cast<uint64_t>(*p++ - '0');
  const auto count = p - digits;
  if (count == 0 || count > 19) return false;
  if (p < end && *p != ' ' && *p != '\r' && *p != '\n') return false;
  if (value > (negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1)) return false;
  units = negative ? static_cast<int64_t>(0 - value) : static_cast<int64_t>(value);
  cursor = p;
  return true;
}

inline bool parse_bool(std::string_view text, bool& out) {
  if (text == "t" || text == "T" || text == "true" || text == "True" || text == "TRUE") {
    out = true;
    return true;
  }
  if (text == "f" || text == "F" || text == "false" || text == "False" || text == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

// A byte as an error message shows it.
std::string describe(const char* p, const char* end) {
  if (p == end) return "end of input";
  const auto c = static_cast<unsigned char>(*p);
  switch (c) {
    case '\t':
      return "'\\t'";
    case '\n':
      return "'\\n'";
    case '\r':
      return "'\\r'";
    case ' ':
      return "white space";
    default:
      break;
  }
  if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("'\\x") + kHex[c >> 4] + kHex[c & 15] + "'";
}

// A token as an error message quotes it: control and non-ASCII bytes as \xNN, long ones cut.
std::string quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  constexpr size_t kMaxShown = 64;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  if (text.size() > kMaxShown) out += "...";
  out += '"';
  return out;
}

// A hash of a field key for the duplicate check, over all of its bytes so that no family of
// keys shares one hash by construction; equal hashes are compared in full anyway.
inline uint64_t hash_key(std::string_view key) {
  const char* p = key.data();
  size_t n = key.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  h = (h ^ tail) * 0x94D049BB133111EBULL;
  return h ^ (h >> 32);
}

}  // namespace

Parser::Parser(ParserOptions options) : options_(options) {}
Parser::~Parser() = default;
Parser::Parser(Parser&&) noexcept = default;
Parser& Parser::operator=(Parser&&) noexcept = default;

size_t Parser::parse(std::string_view input, Batch& out, std::vector<ParseError>* errors) {
  return visit(
      input, [&out](const MetricView& view) { view.append_to(out); }, errors);
}

bool Parser::fail(const char* at, const char* resume, std::string reason) {
  error_at_ = at;
  error_resume_ = resume;
  error_reason_ = std::move(reason);
  return false;
}

char* Parser::reserve_scratch(size_t bytes) {
  if (scratch_size_ + bytes > scratch_capacity_) {
    const size_t capacity = std::max({scratch_capacity_ * 2, scratch_size_ + bytes, size_t{256}});
    auto grown = std::make_unique<char[]>(capacity);
    const char* old_begin = scratch_.get();
    if (scratch_size_ > 0) std::memcpy(grown.get(), old_begin, scratch_size_);
    // Views of this entry that point into the old buffer move along with their bytes.
    const char* old_end = old_begin + scratch_size_;
    auto rebase = [&](std::string_view& view) {
      if (view.empty() || old_begin == nullptr) return;
      std::less<const char*> before;
      if (!before(view.data(), old_begin) && before(view.data(), old_end)) {
        view = std::string_view(grown.get() + (view.data() - old_begin), view.size());
      }
    };
    rebase(name_);
    rebase(pending_key_);
    for (size_t i = 0; i < tag_count_; ++i) {
      TagView& tag = tags_[i];
      rebase(tag.key);
      rebase(tag.value);
    }
    for (size_t i = 0; i < field_count_; ++i) {
      FieldView& field = fields_[i];
      rebase(field.key);
      rebase(field.string_value);
    }
    scratch_ = std::move(grown);
    scratch_capacity_ = capacity;
  }
  return scratch_.get() + scratch_size_;
}

template <uint8_t kEscapable>
std::string_view Parser::unescape(const char* begin, const char* end) {
  char* const out = reserve_scratch(static_cast<size_t>(end - begin));
  char* w = out;
  while (begin < end) {
    if (*begin == '\\' && begin + 1 < end && (byte_class(begin[1]) & kEscapable)) {
      *w++ = begin[1];
      begin += 2;
    } else {
      *w++ = *begin++;
    }
  }
  const auto size = static_cast<size_t>(w - out);
  scratch_size_ += size;
  return {out, size};
}

std::string_view Parser::unescape_string(const char* begin, const char* end) {
  char* const out = reserve_scratch(static_cast<size_t>(end - begin));
  char* w = out;
  while (begin < end) {
    if (*begin == '\\' && begin + 1 < end && (begin[1] == '"' || begin[1] == '\\')) {
      *w++ = begin[1];
      begin += 2;
    } else {
      *w++ = *begin++;
    }
  }
  const auto size = static_cast<size_t>(w - out);
  scratch_size_ += size;
  return {out, size};
}

// Appends a tag. Input usually comes sorted, which costs one comparison per tag and finds a
// repeated key at once; otherwise sort_tags() sorts at the end. False for a repeated key.
bool Parser::add_tag(const TagView& tag, const char* key_start) {
  // The vectors only grow; tag_count_ and field_count_ say how much of them this entry uses.
  if (tag_count_ == tags_.size()) {
    tags_.resize(2 * tag_count_ + 8);
    tag_starts_.resize(tags_.size());
  }
  if (tag_count_ > 0 && tags_sorted_) {
    const int order = key_order(tags_[tag_count_ - 1].key, tag.key);
    if (order == 0) return false;
    tags_sorted_ = order < 0;
  }
  tags_[tag_count_] = tag;
  tag_starts_[tag_count_] = key_start;
  ++tag_count_;
  return true;
}

// Sorts the tags that came out of order; on a repeated key returns where its later occurrence
// starts, else nullptr. O(n log n), so that no line can make this quadratic.
const char* Parser::sort_tags() {
  tag_order_.resize(tag_count_);
  for (size_t i = 0; i < tag_count_; ++i) tag_order_[i] = static_cast<uint32_t>(i);
  std::sort(tag_order_.begin(), tag_order_.end(),
            [this](uint32_t a, uint32_t b) { return tags_[a].key < tags_[b].key; });
  for (size_t i = 1; i < tag_count_; ++i) {
    const uint32_t a = tag_order_[i - 1];
    const uint32_t b = tag_order_[i];
    if (tags_[a].key == tags_[b].key) {
      pending_key_ = tags_[b].key;
      return std::max(tag_starts_[a], tag_starts_[b]);
    }
  }
  sorted_tags_.resize(tag_count_);
  for (size_t i = 0; i < tag_count_; ++i) sorted_tags_[i] = tags_[tag_order_[i]];
  std::copy(sorted_tags_.begin(), sorted_tags_.end(), tags_.begin());
  return nullptr;
}

// Whether `key` is the key of a field already read; if not, it is recorded as the next field's.
// The first kScannedFields keys are compared with the earlier ones directly: on a short line a
// few length checks cost less than hashing every key. From then on, up to kFilteredFields fields,
// each key's hash sets one bit of a 1024-bit filter: a key whose bit is clear is new without any
// comparison, and only a key whose bit is already set is compared with the earlier keys of equal
// hash. So a line of 60 fields costs 60 hashes rather than 1800 comparisons. Past that, where
// the filter fills up, an open-addressing table keeps the cost linear however wide the line.
bool Parser::field_key_taken(std::string_view key) {
  const size_t count = field_count_;
  if (count < kScannedFields) {
    for (size_t i = 0; i < count; ++i) {
      if (same_key(fields_[i].key, key)) return true;
    }
    return false;
  }
  if (key_hashes_.size() <= count) key_hashes_.resize(2 * count + 16);
  const uint64_t hash = hash_key(key);
  key_hashes_[count] = hash;
  if (count >= kFilteredFields) return key_in_table(key, hash, count);

  auto bit = [](uint64_t h) { return h >> 54; };  // 10 bits
  if (count == kScannedFields) {
    // The first hashed key: hash the scanned ones too, and start the filter with them.
    key_filter_.fill(0);
    for (size_t i = 0; i < count; ++i) {
      key_hashes_[i] = hash_key(fields_[i].key);
      key_filter_[bit(key_hashes_[i]) / 64] |= uint64_t{1} << (bit(key_hashes_[i]) % 64);
    }
  }
  uint64_t& word = key_filter_[bit(hash) / 64];
  const uint64_t mask = uint64_t{1} << (bit(hash) % 64);
  if (word & mask) {
    for (size_t i = 0; i < count; ++i) {
      if (key_hashes_[i] == hash && fields_[i].key == key) return true;
    }
  }
  word |= mask;
  return false;
}

// The table holds field index + 1 per slot (0 = empty), at most half full; it is rebuilt from
// key_hashes_ when a line first needs it and whenever it must grow.
bool Parser::key_in_table(std::string_view key, uint64_t hash, size_t count) {
  if (count == kFilteredFields || key_table_.size() < 2 * (count + 1)) {
    size_t size = 2 * kFilteredFields;
    while (size < 4 * (count + 1)) size *= 2;
    key_table_.assign(size, 0);
    for (size_t i = 0; i < count; ++i) {
      size_t slot = key_hashes_[i] & (size - 1);
      while (key_table_[slot] != 0) slot = (slot + 1) & (size - 1);
      key_table_[slot] = static_cast<uint32_t>(i + 1);
    }
  }
  const size_t mask = key_table_.size() - 1;
  size_t slot = hash & mask;
  while (key_table_[slot] != 0) {
    const size_t i = key_table_[slot] - 1;
    if (key_hashes_[i] == hash && fields_[i].key == key) return true;
    slot = (slot + 1) & mask;
  }
  key_table_[slot] = static_cast<uint32_t>(count + 1);
  return false;
}

bool Parser::parse_entry(const char*& cursor, const char* const end, MetricView& view) {
  using detail::kEndsKey;
  using detail::kEndsMeasurement;
  using detail::kEscapableInKey;
  using detail::kEscapableInName;

  const char* p = cursor;
  const char* start = p;
  bool escaped = false;
  bool high = false;
  scratch_size_ = 0;
  tag_count_ = 0;
  tags_sorted_ = true;
  field_count_ = 0;
  newlines_ = 0;

  // Measurement.
  p = scan_token<kEndsMeasurement, kEscapableInName>(p, end, escaped, high);
  if (p == start) {
    return fail(p, "invalid character " + describe(p, end) + " at start of measurement");
  }
  if (high && !detail::is_valid_utf8(start, p)) return fail(start, "invalid UTF-8 in measurement");
  name_ = escaped ? unescape<kEscapableInName>(start, p) : std::string_view(start, p - start);

  // Tags, each after a ','.
  while (true) {
    if (p == end) return fail(p, "expected fields, found end of input");
    if (*p == ' ') break;
    if (*p != ',') {
      return fail(p, "expected ',' or ' ' after measurement or tag, found " + describe(p, end));
    }
    ++p;
    start = p;
    escaped = false;
    p = scan_token<kEndsKey, kEscapableInKey>(p, end, escaped, high);
    if (p == start) return fail(p, "expected tag key after ',', found " + describe(p, end));
    if (p == end || *p != '=') {
      return fail(p, "expected '=' after tag key " + quote({start, size_t(p - start)}) +
                         ", found " + describe(p, end));
    }
    if (high && !detail::is_valid_utf8(start, p)) return fail(start, "invalid UTF-8 in tag key");
    const char* key_start = start;
    // The key stays in registers; pending_key_ keeps a copy that moves along if unescaping the
    // value grows the scratch buffer. Reading the member back just after writing it would stall
    // on store forwarding.
    std::string_view key =
        escaped ? unescape<kEscapableInKey>(start, p) : std::string_view(start, p - start);
    pending_key_ = key;
    ++p;
    start = p;
    escaped = false;
    p = scan_token<kEndsKey, kEscapableInKey>(p, end, escaped, high);
    if (p == start) {
      return fail(
          p, "expected value for tag key " + quote(pending_key_) + ", found " + describe(p, end));
    }
    if (high && !detail::is_valid_utf8(start, p)) return fail(start, "invalid UTF-8 in tag value");
    std::string_view value = std::string_view(start, p - start);
    if (escaped) {
      value = unescape<kEscapableInKey>(start, p);
      key = pending_key_;
    }
    if (!add_tag(TagView{key, value}, key_start)) {
      return fail(key_start, p, "duplicate tag key " + quote(pending_key_));
    }
  }
  if (!tags_sorted_) {
    if (const char* repeated = sort_tags()) {
      return fail(repeated, p, "duplicate tag key " + quote(pending_key_));
    }
  }

  // Fields, after one or more spaces, separated by ','.
  while (p < end && *p == ' ') ++p;
  while (true) {
    start = p;
    escaped = false;
    p = scan_token<kEndsKey, kEscapableInKey>(p, end, escaped, high);
    if (p == start) return fail(p, "expected field key, found " + describe(p, end));
    if (p == end || *p != '=') {
      return fail(p, "expected '=' after field key " + quote({start, size_t(p - start)}) +
                         ", found " + describe(p, end));
    }
    if (high && !detail::is_valid_utf8(start, p)) return fail(start, "invalid UTF-8 in field key");
    const char* key_start = start;
    pending_key_ =
        escaped ? unescape<kEscapableInKey>(start, p) : std::string_view(start, p - start);
    ++p;
    if (p == end) {
      return fail(p,
                  "expected value for field key " + quote(pending_key_) + ", found end of input");
    }

    // Built in place: a copy of a FieldView assembled on the stack from narrower stores would
    // stall on store forwarding. It counts once field_count_ includes it.
    if (field_count_ == fields_.size()) fields_.resize(2 * field_count_ + 8);
    FieldView& field = fields_[field_count_];
    field.string_value = {};
    const char c = *p;
    if (c == '"') {
      const char* open_quote = p;
      start = ++p;
      escaped = false;
      while (true) {
        while (p < end && !(byte_class(*p) & detail::kStringSpecial)) ++p;
        if (p == end) {
          return fail(open_quote, p,
                      "unterminated string value for field key " + quote(pending_key_));
        }
        if (*p == '"') break;
        if (*p == '\n') {
          ++newlines_;
          ++p;
        } else if (p + 1 < end && (p[1] == '"' || p[1] == '\\')) {
          escaped = true;
          p += 2;
        } else {
          ++p;
        }
      }
      if (!detail::is_valid_text(start, p)) {
        return fail(start, p + 1, "invalid UTF-8 in string value");
      }
      field.type = FieldType::kString;
      field.string_value = escaped ? unescape_string(start, p) : std::string_view(start, p - start);
      ++p;
    } else if (c == 't' || c == 'T' || c == 'f' || c == 'F') {
      start = p;
      p = find_value_end(p, end);
      field.type = FieldType::kBool;
      if (!parse_bool({start, size_t(p - start)}, field.bool_value)) {
        return fail(start, "invalid boolean " + quote({start, size_t(p - start)}));
      }
    } else if (is_digit(c) || c == '-' || c == '.') {
      start = p;
      p = find_value_end(p, end);
      const std::string_view text(start, p - start);
      NumberStatus status;
      const char* kind;
      if (p[-1] == 'i') {
        field.type = FieldType::kInt;
        status = parse_int64(start, p - 1, field.int_value);
        kind = "integer";
      } else if (p[-1] == 'u') {
        field.type = FieldType::kUint;
        status = parse_uint64(start, p - 1, field.uint_value);
        kind = "unsigned integer";
      } else {
        field.type = FieldType::kFloat;
        status = parse_float(start, p, field.float_value);
        kind = "float";
      }
      if (status == NumberStatus::kSyntax) {
        return fail(start, std::string("invalid ") + kind + " " + quote(text));
      }
      if (status == NumberStatus::kOutOfRange) {
        return fail(start, std::string(kind) + " out of range " + quote(text));
      }
    } else {
      return fail(
          p, "invalid value for field key " + quote(pending_key_) + ", found " + describe(p, end));
    }
    field.key = pending_key_;
    if (field_key_taken(field.key)) {
      return fail(key_start, p, "duplicate field key " + quote(field.key));
    }
    ++field_count_;

    if (p == end) break;
    if (*p == ',') {
      ++p;
      continue;
    }
    if (*p != ' ' && *p != '\r' && *p != '\n') {
      return fail(p, "unexpected character " + describe(p, end) + " after field value");
    }
    break;
  }

  // Optional timestamp.
  while (p < end && *p == ' ') ++p;
  int64_t time = default_time_;
  if (!is_eol(p, end)) {
    start = p;
    int64_t units = 0;
    if (!read_plain_timestamp(p, end, units)) {
      while (p < end && (is_digit(*p) || *p == '-')) ++p;
      if (p < end && *p != ' ' && *p != '\r' && *p != '\n') {
        const char* line_end = static_cast<const char*>(std::memchr(p, '\n', end - p));
        return fail(start, "invalid timestamp " +
                               quote({start, size_t((line_end ? line_end : end) - start)}));
      }
      const NumberStatus status = parse_int64(start, p, units);
      if (status == NumberStatus::kSyntax) {
        return fail(start, "invalid timestamp " + quote({start, size_t(p - start)}));
      }
      if (status == NumberStatus::kOutOfRange) {
        return fail(start, "timestamp out of range " + quote({start, size_t(p - start)}));
      }
    }
    if (__builtin_mul_overflow(units, unit_ns_, &time)) {
      return fail(start,
                  "timestamp out of range for the precision " + quote({start, size_t(p - start)}));
    }
    while (p < end && *p == ' ') ++p;
    if (!is_eol(p, end)) {
      return fail(p, "unexpected text after timestamp, found " + describe(p, end));
    }
  }

  content_end_ = p;
  cursor = skip_eol(p, end);
  view.name = name_;
  view.tags = {tags_.data(), tag_count_};
  view.fields = {fields_.data(), field_count_};
  view.time = time;
  return true;
}

size_t Parser::run(std::string_view input, void* context, Sink sink,
                   std::vector<ParseError>* errors) {
  unit_ns_ = precision_nanoseconds(options_.precision);
  default_time_ = truncate_to_precision(options_.default_time, options_.precision);

  const char* p = input.data();
  const char* const end = p + input.size();
  const char* line_begin = p;  // the first byte of the current physical line
  size_t line = 1;
  size_t count = 0;

  auto report = [&](const char* at, std::string reason) {
    if (errors == nullptr) return;
    const auto before = static_cast<size_t>(std::count(line_begin, at, '\n'));
    const char* column_begin = line_begin;
    if (before > 0) {
      const char* q = at;
      while (q[-1] != '\n') --q;
      column_begin = q;
    }
    errors->push_back(
        ParseError{line + before, static_cast<size_t>(at - column_begin) + 1, std::move(reason)});
  };
  // Skips to the line after `from`, counting the lines passed.
  auto skip_line = [&](const char* from) {
    const char* newline = static_cast<const char*>(std::memchr(from, '\n', end - from));
    const char* next = newline ? newline + 1 : end;
    line += static_cast<size_t>(std::count(line_begin, next, '\n'));
    p = next;
    line_begin = next;
  };

  while (p < end) {
    // Blank lines, leading spaces and comments.
    while (p < end && *p == ' ') ++p;
    if (p == end) break;
    if (*p == '\n' || (*p == '\r' && is_eol(p, end))) {
      p = skip_eol(p, end);
      ++line;
      line_begin = p;
      continue;
    }
    if (*p == '#') {
      // A comment may hold any byte but an ASCII control byte.
      const char* q = p + 1;
      while (q < end && !(byte_class(*q) & detail::kControl)) ++q;
      if (is_eol(q, end)) {
        p = skip_eol(q, end);
        ++line;
        line_begin = p;
      } else {
        report(q, "invalid character " + describe(q, end) + " in comment");
        skip_line(q);
      }
      continue;
    }

    MetricView view;
    const char* entry_line_begin = line_begin;
    if (parse_entry(p, end, view)) {
      const auto length = static_cast<size_t>(content_end_ - entry_line_begin);
      if (options_.max_line_bytes != 0 && length > options_.max_line_bytes) {
        report(entry_line_begin + options_.max_line_bytes,
               "line of " + std::to_string(length) + " bytes is longer than the limit of " +
                   std::to_string(options_.max_line_bytes));
      } else {
        view.line = line;
        sink(context, view);
        ++count;
      }
      line += newlines_ + (content_end_ != end ? 1 : 0);
      line_begin = p;
    } else {
      report(error_at_, std::move(error_reason_));
      skip_line(std::max(error_at_, error_resume_));
    }
  }
  return count;
}

}  // namespace sluice::lineproto
