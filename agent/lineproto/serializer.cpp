#include "lineproto/serializer.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <variant>
#include <vector>

#include "lineproto/escape.hpp"
#include "lineproto/number.hpp"
#include "lineproto/utf8.hpp"

namespace sluice::lineproto {
namespace {

using detail::write_class;

// Appends into `out` through a raw cursor: the string is grown ahead by an estimate of the
// metric's size and cut back at the end, so that small pieces cost no capacity checks of
// std::string each.
class Writer {
 public:
  Writer(std::string& out, size_t estimate) : out_(out), start_(out.size()) {
    out_.resize(start_ + estimate);
    cursor_ = out_.data() + start_;
    limit_ = out_.data() + out_.size();
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() { out_.resize(offset()); }

  // Room for n more bytes at the cursor.
  [[gnu::always_inline]] char* room(size_t n) {
    if (static_cast<size_t>(limit_ - cursor_) < n) grow(n);
    return cursor_;
  }
  void advance_to(char* p) { cursor_ = p; }
  void put(char c) {
    *room(1) = c;
    ++cursor_;
  }
  void put(const char* data, size_t n) {
    std::memcpy(room(n), data, n);
    cursor_ += n;
  }

  size_t offset() const { return static_cast<size_t>(cursor_ - out_.data()); }
  void rewind(size_t offset) { cursor_ = out_.data() + offset; }
  char* at(size_t offset) { return out_.data() + offset; }

 private:
  // Grows by at least what this writer has taken so far, never by what was in `out` before.
  [[gnu::noinline]] void grow(size_t n) {
    const size_t used = offset();
    out_.resize(used + std::max(n, out_.size() - start_));
    cursor_ = out_.data() + used;
    limit_ = out_.data() + out_.size();
  }

  std::string& out_;
  size_t start_;
  char* cursor_;
  char* limit_;
};

enum class Token { kName, kKey, kTagValue, kString };

template <Token kToken>
constexpr uint8_t escape_class() {
  if constexpr (kToken == Token::kName) return detail::kWriteEscapeInName;
  if constexpr (kToken == Token::kString) return detail::kWriteEscapeInString;
  return detail::kWriteEscapeInKey;
}

// Whether `text` can be written as a token of this kind and read back unchanged.
template <Token kToken>
bool is_exact(std::string_view text) {
  if constexpr (kToken != Token::kString) {
    if (text.empty() || text.back() == '\\') return false;
    if (kToken == Token::kName && text.front() == '#') return false;
    for (char c : text) {
      if (write_class(c) & detail::kWriteControl) return false;
    }
  }
  return detail::is_valid_text(text.data(), text.data() + text.size());
}

char* write_replacement(char* w) {
  // U+FFFD REPLACEMENT CHARACTER
  *w++ = '\xEF';
  *w++ = '\xBF';
  *w++ = '\xBD';
  return w;
}

#if defined(__SSE2__)
// The bytes of the 16 at p that a token of this kind cannot copy as they are (to escape, ASCII
// control, or part of a multi-byte character), as a bit mask.
template <Token kToken>
inline unsigned unplain_bytes16(__m128i x) {
  __m128i m =
      _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), _mm_cmpeq_epi8(x, _mm_set1_epi8(' ')));
  if constexpr (kToken != Token::kName) {
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('=')));
  }
  m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
  // ASCII control bytes: x <= 0x1f as unsigned, i.e. min(x, 0x1f) == x.
  m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x));
  return static_cast<unsigned>(_mm_movemask_epi8(m)) | static_cast<unsigned>(_mm_movemask_epi8(x));
}
#endif

// Writes a short plain token, checked and copied 16 bytes at once; false (nothing written) for
// any other. The caller guarantees 16 readable bytes from token.data().
template <Token kToken>
[[gnu::always_inline]] inline bool write_short_plain(Writer& out, std::string_view token) {
#if defined(__SSE2__)
  const size_t n = token.size();
  if (n != 0 && n < 16 && token[n - 1] != '\\') {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(token.data()));
    if ((unplain_bytes16<kToken>(x) & ((1u << n) - 1)) == 0) {
      char* w = out.room(16);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(w), x);
      out.advance_to(w + n);
      return true;
    }
  }
#endif
  (void)out;
  (void)token;
  return false;
}

// Writes `text` escaped as a token of this kind, with the lenient rewrites serialize() documents.
// Returns false, having written an unspecified part, when the token is left out instead.
template <Token kToken>
bool write_token(Writer& out, std::string_view text) {
  constexpr uint8_t kEscape = escape_class<kToken>();
  constexpr uint8_t kSpecial =
      kEscape | detail::kWriteHigh | (kToken == Token::kString ? 0 : detail::kWriteControl);
  constexpr bool kLossyAllowed = kToken != Token::kKey;

  const char* s = text.data();
  size_t n = text.size();
  if constexpr (kToken != Token::kString) {
    if (n == 0) return false;
    if (s[n - 1] == '\\') {
      if (!kLossyAllowed) return false;
      while (n > 0 && s[n - 1] == '\\') --n;
      if (n == 0) return false;
    }
  }
  // Plain bytes are copied as they come; the first special one moves to the careful loop.
  char* w = out.room(n);
  size_t i = 0;
  for (; i < n; ++i) {
    if (write_class(s[i]) & kSpecial) break;
    w[i] = s[i];
  }
  if (i == n) {
    out.advance_to(w + n);
    return true;
  }
  out.advance_to(w + i);
  w = out.room(3 * (n - i));
  for (; i < n; ++i) {
    const char c = s[i];
    const uint8_t cls = write_class(c);
    if (!(cls & kSpecial)) {
      *w++ = c;
    } else if (cls & kEscape) {
      *w++ = '\\';
      *w++ = c;
    } else if (cls & detail::kWriteHigh) {
      const size_t length =
          detail::utf8_sequence_length(reinterpret_cast<const unsigned char*>(s + i),
                                       reinterpret_cast<const unsigned char*>(s + n));
      if (length != 0) {
        std::memcpy(w, s + i, length);
        w += length;
        i += length - 1;
      } else if (kLossyAllowed) {
        w = write_replacement(w);
      } else {
        return false;
      }
    } else {  // an ASCII control byte outside a string
      if (!kLossyAllowed) return false;
      char letter = 0;
      switch (c) {
        case '\t':
          letter = 't';
          break;
        case '\n':
          letter = 'n';
          break;
        case '\r':
          letter = 'r';
          break;
        case '\f':
          letter = 'f';
          break;
        default:
          break;
      }
      if (letter != 0) {
        *w++ = '\\';
        *w++ = letter;
      } else {
        w = write_replacement(w);
      }
    }
  }
  out.advance_to(w);
  return true;
}

// Most names and keys are short and plain. A std::string of capacity 15 or more always has 16
// bytes from data() on (its characters and the terminating zero, in its own buffer or the heap
// block), and so does every key and tag value of a Metric, so the 16-byte load stays in bounds.
template <Token kToken>
bool write_string(Writer& out, const std::string& token) {
  if (token.capacity() >= 15 && write_short_plain<kToken>(out, token)) return true;
  return write_token<kToken>(out, token);
}
template <Token kToken>
bool write_metric_text(Writer& out, std::string_view token) {
  return write_short_plain<kToken>(out, token) || write_token<kToken>(out, token);
}

bool write_name(Writer& out, const std::string& name) {
  if (name.empty() || name.front() == '#') return false;
  return write_string<Token::kName>(out, name);
}

// Writes a field value; false when it is left out (a non-finite float).
bool write_value(Writer& out, const FieldValue& value, const SerializeOptions& options) {
  switch (value.index()) {
    case 0: {
      const double v = *std::get_if<double>(&value);
      if (!std::isfinite(v)) return false;
      out.advance_to(format_float(v, out.room(kMaxFloatChars)));
      return true;
    }
    case 1: {
      char* w = format_int64(*std::get_if<int64_t>(&value), out.room(24));
      *w++ = 'i';
      out.advance_to(w);
      return true;
    }
    case 2: {
      const uint64_t v = *std::get_if<uint64_t>(&value);
      char* w = out.room(24);
      if (options.uint_support) {
        w = format_uint64(v, w);
        *w++ = 'u';
      } else {
        constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
        w = format_uint64(std::min(v, kMax), w);
        *w++ = 'i';
      }
      out.advance_to(w);
      return true;
    }
    case 3:
      if (*std::get_if<bool>(&value)) {
        out.put("true", 4);
      } else {
        out.put("false", 5);
      }
      return true;
    case 4:
      out.put('"');
      if (!write_token<Token::kString>(out, *std::get_if<std::string>(&value))) return false;
      out.put('"');
      return true;
    default:
      return false;
  }
}

// The size of the metric's line when nothing needs escaping, plus room for the numbers.
size_t estimate_size(const Metric& metric) {
  size_t size = metric.name().size() + 32;
  for (const TagRef tag : metric.tags()) size += tag.key.size() + tag.value.size() + 2;
  for (const FieldRef field : metric.fields()) {
    size += field.key.size() + 2;
    if (const auto* s = std::get_if<std::string>(&field.value)) {
      size += s->size() + 2;
    } else {
      size += 24;
    }
  }
  return size;
}

// " <timestamp>\n", or "\n" without a timestamp.
size_t make_footer(const Metric& metric, const SerializeOptions& options, char* footer) {
  char* w = footer;
  if (!options.omit_timestamp) {
    *w++ = ' ';
    w = format_int64(to_precision_units(metric.time(), options.precision), w);
  }
  *w++ = '\n';
  return static_cast<size_t>(w - footer);
}

template <typename Fn>
void for_each_field(const Metric& metric, bool sorted, Fn&& fn) {
  const Metric::FieldList fields = metric.fields();
  if (!sorted) {
    for (const FieldRef field : fields) fn(field);
    return;
  }
  constexpr size_t kOnStack = 64;
  std::array<uint32_t, kOnStack> on_stack;
  std::vector<uint32_t> on_heap;
  uint32_t* order = on_stack.data();
  if (fields.size() > kOnStack) {
    on_heap.resize(fields.size());
    order = on_heap.data();
  }
  for (size_t i = 0; i < fields.size(); ++i) order[i] = static_cast<uint32_t>(i);
  std::sort(order, order + fields.size(),
            [&](uint32_t a, uint32_t b) { return fields[a].key < fields[b].key; });
  for (size_t i = 0; i < fields.size(); ++i) fn(fields[order[i]]);
}

// Appends the metric's lines at the writer's cursor; see serialize().
size_t serialize_into(Writer& w, const Metric& metric, const SerializeOptions& options) {
  if (options.strict && unwritable_reason(metric, options)) return 0;
  const size_t start = w.offset();

  // The header: measurement and tags.
  if (!write_name(w, metric.name())) {
    w.rewind(start);
    return 0;
  }
  for (const TagRef tag : metric.tags()) {
    const size_t mark = w.offset();
    w.put(',');
    bool written = write_metric_text<Token::kKey>(w, tag.key);
    if (written) {
      w.put('=');
      written = write_metric_text<Token::kTagValue>(w, tag.value);
    }
    if (!written) w.rewind(mark);
  }
  const size_t header_length = w.offset() - start;

  char footer[32];
  const size_t footer_length = make_footer(metric, options, footer);
  const size_t max = options.max_line_bytes;

  size_t lines = 0;
  size_t line_start = start;
  bool line_has_field = false;
  for_each_field(metric, options.sort_fields, [&](const FieldRef& field) {
    const size_t mark = w.offset();
    w.put(line_has_field ? ',' : ' ');
    if (!write_metric_text<Token::kKey>(w, field.key)) {
      w.rewind(mark);
      return;
    }
    w.put('=');
    if (!write_value(w, field.value, options)) {
      w.rewind(mark);
      return;
    }
    if (max != 0 && w.offset() - line_start + footer_length > max) {
      const size_t pair_length = w.offset() - mark - 1;
      if (header_length + 1 + pair_length + footer_length > max) {
        w.rewind(mark);  // fits on no line
        return;
      }
      // Finish this line and move the pair to a new one: the separator before the pair becomes
      // footer + header + ' '.
      const size_t inserted = footer_length + header_length;
      w.room(inserted);
      char* pair = w.at(mark + 1);
      std::memmove(pair + inserted, pair, pair_length);
      std::memcpy(w.at(mark), footer, footer_length);
      std::memcpy(w.at(mark + footer_length), w.at(start), header_length);
      *w.at(mark + inserted) = ' ';
      w.rewind(mark + inserted + 1 + pair_length);
      line_start = mark + footer_length;
      ++lines;
    }
    line_has_field = true;
  });
  if (!line_has_field) {
    w.rewind(start);
    return 0;
  }
  w.put(footer, footer_length);
  return lines + 1;
}

}  // namespace

size_t serialize(const Metric& metric, std::string& out, const SerializeOptions& options) {
  Writer w(out, estimate_size(metric));
  return serialize_into(w, metric, options);
}

size_t serialize_batch(std::span<const Metric> metrics, std::string& out,
                       const SerializeOptions& options) {
  if (metrics.empty()) return 0;
  // One writer for the batch, its room guessed from the first metric (a batch's metrics tend
  // to look alike) and grown if need be: sizing each metric first would read all of it twice.
  Writer w(out, (estimate_size(metrics.front()) + 16) * metrics.size());
  size_t lines = 0;
  for (const Metric& metric : metrics) lines += serialize_into(w, metric, options);
  return lines;
}

std::optional<std::string> unwritable_reason(const Metric& metric,
                                             const SerializeOptions& options) {
  auto quoted = [](std::string_view text) {
    std::string q = "\"";
    q.append(text.substr(0, 64));
    if (text.size() > 64) q += "...";
    q += '"';
    return q;
  };
  if (!is_exact<Token::kName>(metric.name())) return "invalid measurement " + quoted(metric.name());
  for (const TagRef tag : metric.tags()) {
    if (!is_exact<Token::kKey>(tag.key)) return "invalid tag key " + quoted(tag.key);
    if (!is_exact<Token::kTagValue>(tag.value)) {
      return "invalid tag value " + quoted(tag.key) + "=" + quoted(tag.value);
    }
  }
  if (metric.fields().empty()) return std::string("no fields");
  for (const FieldRef field : metric.fields()) {
    if (!is_exact<Token::kKey>(field.key)) return "invalid field key " + quoted(field.key);
    if (const auto* v = std::get_if<double>(&field.value); v && !std::isfinite(*v)) {
      return "field " + quoted(field.key) + " is " + (std::isnan(*v) ? "NaN" : "infinite");
    }
    if (const auto* s = std::get_if<std::string>(&field.value);
        s && !is_exact<Token::kString>(*s)) {
      return "invalid UTF-8 in string field " + quoted(field.key);
    }
  }
  if (options.max_line_bytes != 0) {
    // Every field must fit on a line of its own.
    std::string scratch;
    SerializeOptions single = options;
    single.max_line_bytes = 0;
    single.strict = false;
    Metric one(metric.name(), metric.time());
    for (const TagRef tag : metric.tags()) one.append_sorted_tag(tag.key, tag.value);
    for (const FieldRef field : metric.fields()) {
      one.clear_fields();
      one.append_field(field.key, field.value);
      scratch.clear();
      serialize(one, scratch, single);
      if (scratch.size() > options.max_line_bytes) {
        return "field " + quoted(field.key) + " does not fit in a line of " +
               std::to_string(options.max_line_bytes) + " bytes";
      }
    }
  }
  return std::nullopt;
}

}  // namespace sluice::lineproto
