#include "parsers/prometheus/text_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace sluice::parsers::prometheus {
namespace {

// What a sample is within its family.
enum class Role { kValue, kBucket, kSum, kCount, kQuantile };

struct Family {
  std::string name;
  ValueType type = ValueType::kUntyped;
};

struct Sample {
  std::string name;
  std::vector<Tag> labels;  // sorted; without le (buckets) or quantile (summaries)
  double bound = 0;         // le or quantile
  double value = 0;
  std::optional<int64_t> time_ms;
};

// A failure at a byte of the line (0-based).
struct LineError {
  size_t offset;
  std::string reason;
};

bool is_name_start(char c, bool metric) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}
bool is_name_char(char c, bool metric) {
  return is_name_start(c, metric) || (c >= '0' && c <= '9');
}

// Reads one line token by token, remembering where it is for error columns.
class Cursor {
 public:
  explicit Cursor(std::string_view line) : line_(line) {}

  size_t pos() const { return pos_; }
  bool done() const { return pos_ >= line_.size(); }
  char peek() const { return done() ? '\0' : line_[pos_]; }
  void advance() { ++pos_; }
  // Skips blanks; true when there was at least one.
  bool skip_blanks() {
    size_t start = pos_;
    while (!done() && (line_[pos_] == ' ' || line_[pos_] == '\t')) ++pos_;
    return pos_ > start;
  }
  std::string_view name(bool metric) {
    size_t start = pos_;
    if (done() || !is_name_start(line_[pos_], metric)) return {};
    while (!done() && is_name_char(line_[pos_], metric)) ++pos_;
    return line_.substr(start, pos_ - start);
  }
  // Up to the next blank or the end.
  std::string_view word() {
    size_t start = pos_;
    while (!done() && line_[pos_] != ' ' && line_[pos_] != '\t') ++pos_;
    return line_.substr(start, pos_ - start);
  }
  std::string_view rest() const { return done() ? std::string_view() : line_.substr(pos_); }

 private:
  std::string_view line_;
  size_t pos_ = 0;
};

// Go's ParseFloat as the exposition format uses it: decimals, exponents, NaN and [+-]Inf.
std::optional<double> parse_float(std::string_view text) {
  if (text.empty()) return std::nullopt;
  bool negative = false;
  std::string_view body = text;
  if (body.front() == '+' || body.front() == '-') {
    negative = body.front() == '-';
    body.remove_prefix(1);
    if (body.empty() || body.front() == '+' || body.front() == '-') return std::nullopt;
  }
  double value = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), value);
  if (ec != std::errc() || end != body.data() + body.size()) {
    // from_chars leaves the value alone when it is out of range; strtod gives what Go's
    // ParseFloat does: infinity for an overflow, 0 (or the nearest subnormal) for an underflow.
    if (ec == std::errc::result_out_of_range && end == body.data() + body.size()) {
      value = std::strtod(std::string(body).c_str(), nullptr);
    } else {
      return std::nullopt;
    }
  }
  return negative ? -value : value;
}

// The shortest text that reads back as `v`, as Go's FormatFloat(v, 'g', -1, 64) writes field
// names and le/quantile tags: 0.5, 1e+06, +Inf.
std::string format_bound(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? end : buf);
}

std::optional<ValueType> type_of(std::string_view word) {
  if (word == "counter") return ValueType::kCounter;
  if (word == "gauge") return ValueType::kGauge;
  if (word == "histogram") return ValueType::kHistogram;
  if (word == "summary") return ValueType::kSummary;
  if (word == "untyped") return ValueType::kUntyped;
  return std::nullopt;
}

// Reads `{name="value",...}` after the metric name into `labels`, sorted by name.
std::optional<LineError> read_labels(Cursor& c, std::vector<Tag>& labels) {
  c.advance();  // '{'
  while (true) {
    c.skip_blanks();
    if (c.peek() == '}') {
      c.advance();
      break;
    }
    size_t at = c.pos();
    std::string_view key = c.name(false);
    if (key.empty()) return LineError{at, "expected a label name"};
    c.skip_blanks();
    if (c.peek() != '=') return LineError{c.pos(), "expected '=' after label " + std::string(key)};
    c.advance();
    c.skip_blanks();
    if (c.peek() != '"') return LineError{c.pos(), "expected '\"' to open the label value"};
    c.advance();
    std::string value;
    while (true) {
      if (c.done()) return LineError{c.pos(), "label value without its closing '\"'"};
      char ch = c.peek();
      if (ch == '"') {
        c.advance();
        break;
      }
      if (ch == '\\') {
        size_t esc = c.pos();
        c.advance();
        char next = c.peek();
        if (next == '\\' || next == '"') {
          value += next;
        } else if (next == 'n') {
          value += '\n';
        } else {
          return LineError{esc, "invalid escape in label value (only \\\\, \\\" and \\n)"};
        }
        c.advance();
        continue;
      }
      value += ch;
      c.advance();
    }
    for (const Tag& t : labels) {
      if (t.key == key) return LineError{at, "label " + std::string(key) + " given twice"};
    }
    labels.push_back(Tag{std::string(key), std::move(value)});
    c.skip_blanks();
    if (c.peek() == ',') {
      c.advance();
      continue;
    }
    if (c.peek() == '}') {
      c.advance();
      break;
    }
    return LineError{c.pos(), "expected ',' or '}' after a label"};
  }
  std::sort(labels.begin(), labels.end(), [](const Tag& a, const Tag& b) { return a.key < b.key; });
  return std::nullopt;
}

// One histogram or summary (a family and a set of labels): its samples gathered.
struct Group {
  size_t family = 0;
  std::vector<Tag> labels;
  std::optional<int64_t> time_ms;
  std::optional<double> sum;
  std::optional<double> count;
  std::vector<std::pair<double, double>> points;  // (le or quantile, value)
};

class MessageParser {
 public:
  MessageParser(const TextParserOptions& options, int64_t now, Batch& out,
                std::vector<ParseError>& errors)
      : options_(options), now_(now), out_(out), errors_(errors) {}

  void run(std::string_view data) {
    size_t line_no = 0;
    size_t start = 0;
    while (start < data.size()) {
      size_t nl = data.find('\n', start);
      if (nl == std::string_view::npos) nl = data.size();
      std::string_view line = data.substr(start, nl - start);
      start = nl + 1;
      ++line_no;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (auto e = read_line(line)) {
        errors_.push_back(ParseError{line_no, e->offset + 1, std::move(e->reason)});
      }
    }
    finish();
  }

 private:
  std::optional<LineError> read_line(std::string_view line) {
    Cursor c(line);
    c.skip_blanks();
    if (c.done()) return std::nullopt;
    if (c.peek() == '#') return read_comment(c);
    return read_sample(c);
  }

  std::optional<LineError> read_comment(Cursor& c) {
    c.advance();
    if (!c.skip_blanks()) return std::nullopt;  // "#text": a plain comment
    std::string_view keyword = c.word();
    if (keyword != "TYPE") return std::nullopt;  // HELP and other comments carry no data
    c.skip_blanks();
    size_t at = c.pos();
    std::string_view name = c.name(true);
    if (name.empty()) return LineError{at, "expected a metric name after TYPE"};
    if (!c.skip_blanks()) return LineError{c.pos(), "expected a type after the metric name"};
    at = c.pos();
    std::string_view word = c.word();
    auto type = type_of(word);
    if (!type) {
      return LineError{at, "unknown metric type \"" + std::string(word) +
                               "\" (counter, gauge, histogram, summary or untyped)"};
    }
    c.skip_blanks();
    if (!c.done()) return LineError{c.pos(), "unexpected text after the type"};
    auto [it, added] = family_index_.try_emplace(std::string(name), families_.size());
    if (added) {
      families_.push_back(Family{std::string(name), *type});
    } else {
      families_[it->second].type = *type;
    }
    return std::nullopt;
  }

  std::optional<LineError> read_sample(Cursor& c) {
    Sample s;
    size_t name_at = c.pos();
    std::string_view name = c.name(true);
    if (name.empty()) return LineError{name_at, "expected a metric name"};
    s.name.assign(name);
    bool blank = c.skip_blanks();
    if (c.peek() == '{') {
      if (auto e = read_labels(c, s.labels)) return e;
      blank = c.skip_blanks();
    }
    if (!blank || c.done()) return LineError{c.pos(), "expected a blank and the value"};
    size_t at = c.pos();
    std::string_view word = c.word();
    auto value = parse_float(word);
    if (!value) return LineError{at, "invalid value \"" + std::string(word) + "\""};
    s.value = *value;
    c.skip_blanks();
    if (!c.done()) {
      at = c.pos();
      word = c.word();
      int64_t ms = 0;
      auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), ms);
      if (ec != std::errc() || end != word.data() + word.size()) {
        return LineError{at, "invalid timestamp \"" + std::string(word) + "\" (milliseconds)"};
      }
      // Nanoseconds must fit in 64 bits.
      if (ms > std::numeric_limits<int64_t>::max() / 1'000'000 ||
          ms < std::numeric_limits<int64_t>::min() / 1'000'000) {
        return LineError{at, "timestamp out of range"};
      }
      s.time_ms = ms;
      c.skip_blanks();
      if (!c.done()) return LineError{c.pos(), "unexpected text after the timestamp"};
    }
    // Prometheus treats an empty label value as no label.
    std::erase_if(s.labels, [](const Tag& t) { return t.value.empty(); });
    return place(std::move(s), name_at);
  }

  // The family of a sample: its own name's TYPE, or a histogram's or summary's for the
  // _bucket, _sum and _count suffixes; undeclared names are untyped.
  std::pair<size_t, Role> resolve(const std::string& name) {
    if (auto it = family_index_.find(name); it != family_index_.end()) {
      return {it->second,
              families_[it->second].type == ValueType::kSummary ? Role::kQuantile : Role::kValue};
    }
    for (auto [suffix, role] : {std::pair<std::string_view, Role>{"_bucket", Role::kBucket},
                                {"_sum", Role::kSum},
                                {"_count", Role::kCount}}) {
      if (!name.ends_with(suffix)) continue;
      auto it = family_index_.find(name.substr(0, name.size() - suffix.size()));
      if (it == family_index_.end()) continue;
      ValueType type = families_[it->second].type;
      if (type == ValueType::kHistogram || (type == ValueType::kSummary && role != Role::kBucket)) {
        return {it->second, role};
      }
    }
    family_index_.emplace(name, families_.size());
    families_.push_back(Family{name, ValueType::kUntyped});
    return {families_.size() - 1, Role::kValue};
  }

  std::optional<LineError> place(Sample s, size_t name_at) {
    auto [family, role] = resolve(s.name);
    const Family& f = families_[family];
    if (role == Role::kValue && f.type == ValueType::kHistogram) {
      return LineError{name_at, "a histogram's samples are " + f.name + "_bucket, " + f.name +
                                    "_sum and " + f.name + "_count"};
    }
    if (role == Role::kValue) {
      entries_.push_back(Entry{std::move(s), family, false, 0});
      return std::nullopt;
    }
    if (role == Role::kBucket || role == Role::kQuantile) {
      std::string_view key = role == Role::kBucket ? "le" : "quantile";
      auto it = std::find_if(s.labels.begin(), s.labels.end(),
                             [&](const Tag& t) { return t.key == key; });
      if (it == s.labels.end()) {
        return LineError{name_at,
                         "sample of " + f.name + " without its " + std::string(key) + " label"};
      }
      auto bound = parse_float(it->value);
      if (!bound) {
        return LineError{name_at, "invalid " + std::string(key) + " \"" + it->value + "\""};
      }
      s.bound = *bound;
      s.labels.erase(it);
    }
    Group& g = group_of(family, s.labels);
    if (s.time_ms && !g.time_ms) g.time_ms = s.time_ms;
    switch (role) {
      case Role::kSum:
        g.sum = s.value;
        break;
      case Role::kCount:
        g.count = s.value;
        break;
      default:
        g.points.emplace_back(s.bound, s.value);
        break;
    }
    return std::nullopt;
  }

  Group& group_of(size_t family, const std::vector<Tag>& labels) {
    // The key buffer is reused: most samples belong to a group already seen.
    key_.assign(std::to_string(family));
    for (const Tag& t : labels) {
      key_ += '\0';
      key_ += t.key;
      key_ += '\0';
      key_ += t.value;
    }
    if (auto it = group_index_.find(key_); it != group_index_.end()) return groups_[it->second];
    group_index_.emplace(key_, groups_.size());
    groups_.push_back(Group{family, labels, std::nullopt, std::nullopt, std::nullopt, {}});
    entries_.push_back(Entry{Sample{}, family, true, groups_.size() - 1});
    return groups_.back();
  }

  int64_t time_of(const std::optional<int64_t>& ms) const {
    if (!ms || options_.ignore_timestamp) return now_;
    return *ms * 1'000'000;
  }

  static void set_tags(Metric& m, const std::vector<Tag>& labels) {
    size_t chars = 0;
    for (const Tag& t : labels) chars += t.key.size() + t.value.size();
    m.reserve(labels.size() + 1, 1, chars + 24);
    for (const Tag& t : labels) m.append_sorted_tag(t.key, t.value);
  }

  void finish() {
    for (Entry& e : entries_) {
      if (e.is_group) {
        emit_group(groups_[e.group]);
      } else {
        emit_value(e.sample, families_[e.family].type);
      }
    }
  }

  // The sample is used up: its strings move into the metric.
  void emit_value(Sample& s, ValueType type) {
    bool v1 = options_.metric_version == 1;
    std::string field;
    if (v1) {
      field = type == ValueType::kCounter ? "counter"
              : type == ValueType::kGauge ? "gauge"
                                          : "value";
    }
    Metric m(v1 ? std::move(s.name) : std::string("prometheus"), time_of(s.time_ms), type);
    if (!v1) field = std::move(s.name);
    size_t chars = field.size();
    for (const Tag& t : s.labels) chars += t.key.size() + t.value.size();
    m.reserve(s.labels.size(), 1, chars);
    for (const Tag& t : s.labels) m.append_sorted_tag(t.key, t.value);
    m.append_field(field, s.value);
    out_.push_back(std::move(m));
  }

  void emit_group(const Group& g) {
    const Family& f = families_[g.family];
    int64_t time = time_of(g.time_ms);
    bool histogram = f.type == ValueType::kHistogram;
    if (options_.metric_version == 1) {
      Metric m(f.name, time, f.type);
      set_tags(m, g.labels);
      for (const auto& [bound, value] : g.points) m.set_field(format_bound(bound), value);
      if (g.count) m.set_field("count", *g.count);
      if (g.sum) m.set_field("sum", *g.sum);
      if (!m.fields().empty()) out_.push_back(std::move(m));
      return;
    }
    if (g.count || g.sum) {
      Metric m("prometheus", time, f.type);
      set_tags(m, g.labels);
      if (g.count) m.append_field(f.name + "_count", *g.count);
      if (g.sum) m.append_field(f.name + "_sum", *g.sum);
      out_.push_back(std::move(m));
    }
    const std::string field = histogram ? f.name + "_bucket" : f.name;
    for (const auto& [bound, value] : g.points) {
      Metric m("prometheus", time, f.type);
      set_tags(m, g.labels);
      m.set_tag(histogram ? "le" : "quantile", format_bound(bound));
      m.append_field(field, value);
      out_.push_back(std::move(m));
    }
  }

  // A metric to emit, in the order of first appearance: one sample or one group.
  struct Entry {
    Sample sample;
    size_t family;
    bool is_group;
    size_t group;
  };

  const TextParserOptions& options_;
  int64_t now_;
  Batch& out_;
  std::vector<ParseError>& errors_;
  std::vector<Family> families_;
  std::unordered_map<std::string, size_t> family_index_;
  std::vector<Group> groups_;
  std::unordered_map<std::string, size_t> group_index_;
  std::vector<Entry> entries_;
  std::string key_;
};

}  // namespace

void TextParser::parse(std::string_view data, int64_t now, Batch& out,
                       std::vector<ParseError>& errors) {
  MessageParser(options_, now, out, errors).run(data);
}

}  // namespace sluice::parsers::prometheus
