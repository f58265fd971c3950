// The line-protocol parser: text in, metrics out. One pass over the input, no copies of tokens
// that need no unescaping, and no allocation per line once its buffers have grown.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "lineproto/metric_view.hpp"
#include "lineproto/precision.hpp"
#include "sluice/metric.hpp"

namespace sluice::lineproto {

// Where and why a line was rejected. Line and column are 1-based; the column counts bytes.
struct ParseError {
  size_t line = 0;
  size_t column = 0;
  std::string reason;

  // "line 3, column 7: expected '=' after tag key"
  std::string message() const;
};

struct ParserOptions {
  // The unit of the timestamps in the input.
  Precision precision = Precision::kNanosecond;
  // The time, in nanoseconds, of lines without a timestamp; rounded down to the precision.
  int64_t default_time = 0;
  // Lines longer than this many bytes (without the line break) are rejected; 0 = no limit.
  size_t max_line_bytes = 0;
};

// Parses line protocol. The accepted syntax is InfluxDB's line protocol as pinned down by
// InfluxData's conformance corpus: see escape.hpp for tokens and escapes, number.hpp for numbers.
// Notably: blank lines, leading spaces and '#' comment lines are skipped; lines end at "\n",
// "\r\n", or a "\r" at the very end of the input; a string value may span lines; tags may come
// in any order (they are sorted) but a key may not repeat, nor may a field key; every name, key and
// string must be valid UTF-8; a timestamp is an optional '-' and digits, never '+'.
//
// A Parser keeps scratch buffers between calls, so reuse one per thread; it is not thread-safe,
// and a visitor must not call back into the Parser that is calling it.
class Parser {
 public:
  explicit Parser(ParserOptions options = {});
  ~Parser();
  Parser(Parser&&) noexcept;
  Parser& operator=(Parser&&) noexcept;

  const ParserOptions& options() const { return options_; }
  void set_options(const ParserOptions& options) { options_ = options; }

  // Parses every line of `input`, appending each valid metric to `out` and each bad line's error
  // to `errors` (if not null); a bad line never stops the rest. Returns the number of metrics
  // appended.
  size_t parse(std::string_view input, Batch& out, std::vector<ParseError>* errors = nullptr);

  // Zero-copy form: calls visitor(const MetricView&) for each valid line, in order, with views
  // that stay valid only during that call. Returns the number of valid lines.
  template <typename Visitor>
  size_t visit(std::string_view input, Visitor&& visitor,
               std::vector<ParseError>* errors = nullptr) {
    using V = std::remove_reference_t<Visitor>;
    void* context = const_cast<void*>(static_cast<const void*>(std::addressof(visitor)));
    return run(
        input, context, [](void* c, const MetricView& metric) { (*static_cast<V*>(c))(metric); },
        errors);
  }

 private:
  using Sink = void (*)(void* context, const MetricView& metric);

  size_t run(std::string_view input, void* context, Sink sink, std::vector<ParseError>* errors);
  bool parse_entry(const char*& cursor, const char* end, MetricView& view);
  bool fail(const char* at, const char* resume, std::string reason);
  bool fail(const char* at, std::string reason) { return fail(at, at, std::move(reason)); }

  // Unescaping writes into the scratch buffer; growing it moves the views that point into it.
  char* reserve_scratch(size_t bytes);
  template <uint8_t kEscapable>
  std::string_view unescape(const char* begin, const char* end);
  std::string_view unescape_string(const char* begin, const char* end);

  bool add_tag(const TagView& tag, const char* key_start);
  const char* sort_tags();
  bool field_key_taken(std::string_view key);
  bool key_in_table(std::string_view key, uint64_t hash, size_t count);

  ParserOptions options_;
  int64_t unit_ns_ = 1;
  int64_t default_time_ = 0;

  // The entry being parsed.
  std::string_view name_;
  std::string_view pending_key_;  // a key whose value is being read
  std::vector<TagView> tags_;     // the first tag_count_ are this entry's
  std::vector<FieldView> fields_;
  size_t tag_count_ = 0;
  size_t field_count_ = 0;
  bool tags_sorted_ = true;
  std::vector<const char*> tag_starts_;  // where each tag's key starts, for error positions
  std::vector<uint32_t> tag_order_;      // scratch of sort_tags()
  std::vector<TagView> sorted_tags_;
  size_t newlines_ = 0;  // inside string values
  const char* content_end_ = nullptr;

  std::unique_ptr<char[]> scratch_;
  size_t scratch_size_ = 0;
  size_t scratch_capacity_ = 0;

  // For the check of repeated field keys: the hash of each key, a filter of their bits, and for
  // very wide lines a table of field indexes.
  std::vector<uint64_t> key_hashes_;
  std::array<uint64_t, 16> key_filter_{};
  std::vector<uint32_t> key_table_;

  const char* error_at_ = nullptr;
  const char* error_resume_ = nullptr;
  std::string error_reason_;
};

}  // namespace sluice::lineproto
