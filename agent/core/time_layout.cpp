#include "core/time_layout.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace sluice::core {

// ---------------------------------------------------------------------------------------------
// Calendar arithmetic on seconds since the epoch.

namespace {

constexpr int64_t kNsPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days(year(static_cast<int>(y)) / month(m) / day(d)).time_since_epoch().count();
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

struct Civil {
  int64_t year = 1970;
  unsigned month = 1, day = 1;
  int yday = 1;     // 1-based
  int weekday = 4;  // 0 = Sunday
  int hour = 0, minute = 0, second = 0;
};

Civil civil_from_seconds(int64_t s) {
  using namespace std::chrono;
  int64_t days = floor_div(s, kSecondsPerDay);
  int64_t rem = s - days * kSecondsPerDay;
  sys_days sd{std::chrono::days(days)};
  year_month_day ymd{sd};
  Civil c;
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<unsigned>(ymd.month());
  c.day = static_cast<unsigned>(ymd.day());
  c.yday = static_cast<int>(days - days_from_civil(c.year, 1, 1)) + 1;
  c.weekday = static_cast<int>(weekday(sd).c_encoding());
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  return c;
}

// ---------------------------------------------------------------------------------------------
// The POSIX TZ rule at the end of a TZif file, for times after its last transition.

struct RuleDate {
  char kind = 'M';  // 'J' (1..365, no Feb 29), 'n' (0..365), 'M' (month.week.weekday)
  int a = 0, b = 0, c = 0;
  int64_t time = 7200;  // local seconds after midnight
};

struct PosixRule {
  std::string std_name, dst_name;
  int32_t std_offset = 0, dst_offset = 0;  // east of UTC
  bool has_dst = false;
  RuleDate start, end;
};

bool read_rule_name(std::string_view& s, std::string& name) {
  if (!s.empty() && s.front() == '<') {
    size_t close = s.find('>');
    if (close == std::string_view::npos) return false;
    name = std::string(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    return true;
  }
  size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  if (n < 3) return false;
  name = std::string(s.substr(0, n));
  s.remove_prefix(n);
  return true;
}

bool read_int(std::string_view& s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc()) return false;
  s.remove_prefix(static_cast<size_t>(p - s.data()));
  return true;
}

// [+-]hh[:mm[:ss]] in seconds.
bool read_clock(std::string_view& s, int64_t& out) {
  int sign = 1;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int h = 0, m = 0, sec = 0;
  if (!read_int(s, h)) return false;
  if (!s.empty() && s.front() == ':') {
    s.remove_prefix(1);
    if (!read_int(s, m)) return false;
    if (!s.empty() && s.front() == ':') {
      s.remove_prefix(1);
      if (!read_int(s, sec)) return false;
    }
  }
  out = sign * (int64_t{h} * 3600 + m * 60 + sec);
  return true;
}

bool read_rule_date(std::string_view& s, RuleDate& d) {
  if (s.empty()) return false;
  if (s.front() == 'M') {
    s.remove_prefix(1);
    d.kind = 'M';
    if (!read_int(s, d.a) || s.empty() || s.front() != '.') return false;
    s.remove_prefix(1);
    if (!read_int(s, d.b) || s.empty() || s.front() != '.') return false;
    s.remove_prefix(1);
    if (!read_int(s, d.c)) return false;
    if (d.a < 1 || d.a > 12 || d.b < 1 || d.b > 5 || d.c < 0 || d.c > 6) return false;
  } else if (s.front() == 'J') {
    s.remove_prefix(1);
    d.kind = 'J';
    if (!read_int(s, d.a) || d.a < 1 || d.a > 365) return false;
  } else {
    d.kind = 'n';
    if (!read_int(s, d.a) || d.a < 0 || d.a > 365) return false;
  }
  d.time = 7200;
  if (!s.empty() && s.front() == '/') {
    s.remove_prefix(1);
    if (!read_clock(s, d.time)) return false;
  }
  return true;
}

std::optional<PosixRule> parse_posix_rule(std::string_view s) {
  PosixRule r;
  int64_t offset = 0;
  if (!read_rule_name(s, r.std_name) || !read_clock(s, offset)) return std::nullopt;
  r.std_offset = static_cast<int32_t>(-offset);  // POSIX counts west of UTC
  if (s.empty()) return r;
  if (!read_rule_name(s, r.dst_name)) return std::nullopt;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (!s.empty() && s.front() != ',') {
    if (!read_clock(s, offset)) return std::nullopt;
    r.dst_offset = static_cast<int32_t>(-offset);
  }
  if (s.empty()) {
    // No dates: the US rules, as POSIX leaves it to the implementation.
    r.start = {'M', 3, 2, 0, 7200};
    r.end = {'M', 11, 1, 0, 7200};
    return r;
  }
  if (s.front() != ',') return std::nullopt;
  s.remove_prefix(1);
  if (!read_rule_date(s, r.start) || s.empty() || s.front() != ',') return std::nullopt;
  s.remove_prefix(1);
  if (!read_rule_date(s, r.end) || !s.empty()) return std::nullopt;
  return r;
}

// The UTC instant of a rule date in year y, its local time read with `offset`.
int64_t rule_instant(const RuleDate& d, int64_t y, int32_t offset) {
  int64_t day = 0;
  if (d.kind == 'J') {
    day = days_from_civil(y, 1, 1) + d.a - 1 + (is_leap(y) && d.a >= 60 ? 1 : 0);
  } else if (d.kind == 'n') {
    day = days_from_civil(y, 1, 1) + d.a;
  } else {
    int64_t first = days_from_civil(y, static_cast<unsigned>(d.a), 1);
    int wd = static_cast<int>(((first % 7) + 7 + 4) % 7);  // 1970-01-01 was a Thursday
    int dom = 1 + (d.c - wd + 7) % 7 + (d.b - 1) * 7;
    int dim = static_cast<int>(days_in_month(y, static_cast<unsigned>(d.a)));
    while (dom > dim) dom -= 7;
    day = first + dom - 1;
  }
  return day * kSecondsPerDay + d.time - offset;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TimeZone

struct TimeZone::Data {
  std::string name;
  struct Type {
    int32_t offset = 0;
    bool dst = false;
    std::string abbreviation;
  };
  std::vector<int64_t> transitions;
  std::vector<uint8_t> transition_types;
  std::vector<Type> types;
  std::optional<PosixRule> rule;
  size_t first_type = 0;  // for times before the first transition
};

namespace {

std::shared_ptr<const TimeZone::Data> utc_data() {
  static const auto kUtc = [] {
    auto d = std::make_shared<TimeZone::Data>();
    d->name = "UTC";
    d->types.push_back({0, false, "UTC"});
    return d;
  }();
  return kUtc;
}

int64_t read_be(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// Reads a TZif file (RFC 8536), preferring its 64-bit data.
bool parse_tzif(const std::string& bytes, TimeZone::Data& out) {
  auto u = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t size = bytes.size();
  auto header = [&](size_t at, std::array<int64_t, 6>& counts) {
    if (at + 44 > size || std::memcmp(u + at, "TZif", 4) != 0) return false;
    for (int i = 0; i < 6; ++i) counts[i] = read_be(u + at + 20 + i * 4, 4);
    return true;
  };
  // counts: isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  std::array<int64_t, 6> c{};
  if (!header(0, c)) return false;
  char version = static_cast<char>(u[4]);
  size_t at = 44;
  int time_bytes = 4;
  auto block_size = [&](int tb) {
    return static_cast<size_t>(c[3] * tb + c[3] + c[4] * 6 + c[5] + c[2] * (tb + 4) + c[1] + c[0]);
  };
  if (version >= '2') {
    at += block_size(4);
    if (!header(at, c)) return false;
    at += 44;
    time_bytes = 8;
  }
  if (c[4] <= 0 || at + block_size(time_bytes) > size) return false;
  for (int64_t i = 0; i < c[3]; ++i)
    out.transitions.push_back(read_be(u + at + i * time_bytes, time_bytes));
  at += static_cast<size_t>(c[3] * time_bytes);
  for (int64_t i = 0; i < c[3]; ++i) {
    if (u[at + i] >= c[4]) return false;
    out.transition_types.push_back(u[at + i]);
  }
  at += static_cast<size_t>(c[3]);
  size_t types_at = at;
  size_t chars_at = at + static_cast<size_t>(c[4] * 6);
  for (int64_t i = 0; i < c[4]; ++i) {
    const unsigned char* p = u + types_at + i * 6;
    TimeZone::Data::Type t;
    t.offset = static_cast<int32_t>(read_be(p, 4));
    t.dst = p[4] != 0;
    size_t idx = p[5];
    if (idx < static_cast<size_t>(c[5])) {
      const char* s = bytes.data() + chars_at + idx;
      t.abbreviation.assign(s, strnlen(s, static_cast<size_t>(c[5]) - idx));
    }
    out.types.push_back(std::move(t));
  }
  at += block_size(time_bytes) - static_cast<size_t>(c[3] * time_bytes + c[3]);
  if (time_bytes == 8 && at < size && bytes[at] == '\n') {
    size_t end = bytes.find('\n', at + 1);
    if (end != std::string::npos && end > at + 1) {
      out.rule = parse_posix_rule(std::string_view(bytes).substr(at + 1, end - at - 1));
    }
  }
  out.first_type = 0;
  for (size_t i = 0; i < out.types.size(); ++i) {
    if (!out.types[i].dst) {
      out.first_type = i;
      break;
    }
  }
  return true;
}

bool read_whole_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

}  // namespace

TimeZone::TimeZone() : data_(utc_data()) {}

std::optional<TimeZone> TimeZone::load(std::string_view name, std::string* error) {
  if (name.empty() || name == "UTC" || name == "Etc/UTC") return TimeZone();
  std::string path;
  if (name == "Local") {
    const char* tz = std::getenv("TZ");
    if (tz == nullptr) {
      path = "/etc/localtime";
    } else {
      std::string_view t = tz;
      if (!t.empty() && t.front() == ':') t.remove_prefix(1);
      if (t.empty() || t == "UTC") return TimeZone();
      name = t;
    }
  }
  if (path.empty()) {
    if (name.front() == '/') {
      path = std::string(name);
    } else {
      if (name.find("..") != std::string_view::npos) {
        if (error) *error = "invalid time zone name \"" + std::string(name) + "\"";
        return std::nullopt;
      }
      const char* dir = std::getenv("TZDIR");
      path = std::string(dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo") + "/" +
             std::string(name);
    }
  }
  std::string bytes;
  auto data = std::make_shared<Data>();
  data->name = std::string(name);
  if (!read_whole_file(path, bytes)) {
    if (error) *error = "unknown time zone \"" + std::string(name) + "\" (no file " + path + ")";
    return std::nullopt;
  }
  if (!parse_tzif(bytes, *data)) {
    if (error) *error = "cannot read time zone file " + path;
    return std::nullopt;
  }
  TimeZone zone;
  zone.data_ = std::move(data);
  return zone;
}

const std::string& TimeZone::name() const { return data_->name; }

TimeZone::Offset TimeZone::at(int64_t t) const {
  const Data& d = *data_;
  auto type_offset = [&](size_t i) { return Offset{d.types[i].offset, d.types[i].abbreviation}; };
  if (d.transitions.empty() || t < d.transitions.front()) {
    if (d.transitions.empty() && d.rule) {
      // fall through to the rule
    } else {
      return type_offset(d.first_type);
    }
  }
  if (d.rule && (d.transitions.empty() || t >= d.transitions.back())) {
    const PosixRule& r = *d.rule;
    if (!r.has_dst) return Offset{r.std_offset, r.std_name};
    int64_t y = civil_from_seconds(t + r.std_offset).year;
    int64_t start = rule_instant(r.start, y, r.std_offset);
    int64_t end = rule_instant(r.end, y, r.dst_offset);
    bool dst = start < end ? (t >= start && t < end) : (t >= start || t < end);
    return dst ? Offset{r.dst_offset, r.dst_name} : Offset{r.std_offset, r.std_name};
  }
  auto it = std::upper_bound(d.transitions.begin(), d.transitions.end(), t);
  size_t index = static_cast<size_t>(std::distance(d.transitions.begin(), it)) - 1;
  return type_offset(d.transition_types[index]);
}

int32_t TimeZone::offset_for_local(int64_t local) const {
  // Guess with the offset at `local` read as UTC, then correct once; a time in a gap keeps the
  // first guess.
  int32_t first = at(local).seconds;
  int32_t second = at(local - first).seconds;
  if (second == first) return first;
  return at(local - second).seconds == second ? second : first;
}

// ---------------------------------------------------------------------------------------------
// Layouts

enum class TimeLayout::Token : uint8_t {
  kLiteral,
  kLongMonth,              // January
  kMonth,                  // Jan
  kNumMonth,               // 1
  kZeroMonth,              // 01
  kLongWeekDay,            // Monday
  kWeekDay,                // Mon
  kDay,                    // 2
  kUnderDay,               // _2
  kZeroDay,                // 02
  kUnderYearDay,           // __2
  kZeroYearDay,            // 002
  kHour,                   // 15
  kHour12,                 // 3
  kZeroHour12,             // 03
  kMinute,                 // 4
  kZeroMinute,             // 04
  kSecond,                 // 5
  kZeroSecond,             // 05
  kLongYear,               // 2006
  kYear,                   // 06
  kPM,                     // PM
  kpm,                     // pm
  kTZ,                     // MST
  kISO8601TZ,              // Z0700
  kISO8601SecondsTZ,       // Z070000
  kISO8601ShortTZ,         // Z07
  kISO8601ColonTZ,         // Z07:00
  kISO8601ColonSecondsTZ,  // Z07:00:00
  kNumTZ,                  // -0700
  kNumSecondsTz,           // -070000
  kNumShortTZ,             // -07
  kNumColonTZ,             // -07:00
  kNumColonSecondsTZ,      // -07:00:00
  kFracSecond0,            // .000 (fixed digits)
  kFracSecond9,            // .999 (trailing zeros dropped)
};

namespace {

using Token = TimeLayout::Token;
using Chunk = TimeLayout::Chunk;

constexpr std::array<std::string_view, 12> kLongMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

bool starts_with(std::string_view s, size_t i, std::string_view p) {
  return s.substr(i, p.size()) == p;
}

bool is_digit_at(std::string_view s, size_t i) {
  return i < s.size() && s[i] >= '0' && s[i] <= '9';
}

// Finds the element at position i of a layout: its token and length, or kLiteral and 1.
std::pair<Token, size_t> element_at(std::string_view l, size_t i, int& digits) {
  struct Entry {
    std::string_view text;
    Token token;
  };
  // Longer spellings first where one is a prefix of another.
  static const Entry kEntries[] = {
      {"January", Token::kLongMonth},
      {"Jan", Token::kMonth},
      {"Monday", Token::kLongWeekDay},
      {"Mon", Token::kWeekDay},
      {"MST", Token::kTZ},
      {"01", Token::kZeroMonth},
      {"02", Token::kZeroDay},
      {"03", Token::kZeroHour12},
      {"04", Token::kZeroMinute},
      {"05", Token::kZeroSecond},
      {"06", Token::kYear},
      {"002", Token::kZeroYearDay},
      {"15", Token::kHour},
      {"1", Token::kNumMonth},
      {"2006", Token::kLongYear},
      {"2", Token::kDay},
      {"__2", Token::kUnderYearDay},
      {"_2", Token::kUnderDay},
      {"3", Token::kHour12},
      {"4", Token::kMinute},
      {"5", Token::kSecond},
      {"PM", Token::kPM},
      {"pm", Token::kpm},
      {"-07:00:00", Token::kNumColonSecondsTZ},
      {"-070000", Token::kNumSecondsTz},
      {"-07:00", Token::kNumColonTZ},
      {"-0700", Token::kNumTZ},
      {"-07", Token::kNumShortTZ},
      {"Z07:00:00", Token::kISO8601ColonSecondsTZ},
      {"Z070000", Token::kISO8601SecondsTZ},
      {"Z07:00", Token::kISO8601ColonTZ},
      {"Z0700", Token::kISO8601TZ},
      {"Z07", Token::kISO8601ShortTZ},
  };
  // "002" must win over "02" at the same place, and "2006" over "2": check in this order.
  if (starts_with(l, i, "002")) return {Token::kZeroYearDay, 3};
  for (const Entry& e : kEntries) {
    if (starts_with(l, i, e.text)) return {e.token, e.text.size()};
  }
  if ((l[i] == '.' || l[i] == ',') && i + 1 < l.size() && (l[i + 1] == '0' || l[i + 1] == '9')) {
    char ch = l[i + 1];
    size_t j = i + 1;
    while (j < l.size() && l[j] == ch) ++j;
    if (!is_digit_at(l, j)) {
      digits = static_cast<int>(j - (i + 1));
      return {ch == '0' ? Token::kFracSecond0 : Token::kFracSecond9, j - i};
    }
  }
  return {Token::kLiteral, 1};
}

std::string_view named_layout(std::string_view name) {
  struct Named {
    std::string_view name, layout;
  };
  static const Named kNamed[] = {
      {"ANSIC", "Mon Jan _2 15:04:05 2006"},
      {"UnixDate", "Mon Jan _2 15:04:05 MST 2006"},
      {"RubyDate", "Mon Jan 02 15:04:05 -0700 2006"},
      {"RFC822", "02 Jan 06 15:04 MST"},
      {"RFC822Z", "02 Jan 06 15:04 -0700"},
      {"RFC850", "Monday, 02-Jan-06 15:04:05 MST"},
      {"RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"},
      {"RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"},
      {"RFC3339", "2006-01-02T15:04:05Z07:00"},
      {"RFC3339Nano", "2006-01-02T15:04:05.999999999Z07:00"},
      {"Kitchen", "3:04PM"},
      {"Stamp", "Jan _2 15:04:05"},
      {"StampMilli", "Jan _2 15:04:05.000"},
      {"StampMicro", "Jan _2 15:04:05.000000"},
      {"StampNano", "Jan _2 15:04:05.000000000"},
      {"DateTime", "2006-01-02 15:04:05"},
      {"DateOnly", "2006-01-02"},
      {"TimeOnly", "15:04:05"},
  };
  for (const Named& n : kNamed) {
    if (n.name == name) return n.layout;
  }
  return {};
}

void append_int(std::string& out, int64_t v, int width, char pad = '0') {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v < 0 ? -v : v);
  (void)ec;
  int len = static_cast<int>(p - buf);
  if (v < 0) out += '-';
  for (int i = len; i < width; ++i) out += pad;
  out.append(buf, p);
}

void append_offset(std::string& out, int32_t offset, bool colon, bool with_seconds,
                   bool short_form) {
  out += offset < 0 ? '-' : '+';
  int32_t a = offset < 0 ? -offset : offset;
  append_int(out, a / 3600, 2);
  if (short_form && a % 3600 == 0) return;
  if (colon) out += ':';
  append_int(out, a / 60 % 60, 2);
  if (with_seconds) {
    if (colon) out += ':';
    append_int(out, a % 60, 2);
  }
}

// Case-insensitive prefix match of a name list; returns the index or -1 and the length read.
int match_name(std::string_view value, const std::string_view* names, size_t count, size_t len,
               size_t& used) {
  for (size_t i = 0; i < count; ++i) {
    std::string_view n = len == 0 ? names[i] : names[i].substr(0, len);
    if (value.size() < n.size()) continue;
    bool same = true;
    for (size_t k = 0; k < n.size() && same; ++k) {
      same = std::tolower(static_cast<unsigned char>(value[k])) ==
             std::tolower(static_cast<unsigned char>(n[k]));
    }
    if (same) {
      used = n.size();
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Reads 1 or 2 digits (exactly 2 when `fixed`).
bool take_num(std::string_view& v, bool fixed, int& out) {
  if (!is_digit_at(v, 0)) return false;
  if (!is_digit_at(v, 1)) {
    if (fixed) return false;
    out = v[0] - '0';
    v.remove_prefix(1);
    return true;
  }
  out = (v[0] - '0') * 10 + (v[1] - '0');
  v.remove_prefix(2);
  return true;
}

bool take_digits(std::string_view& v, size_t n, int& out) {
  if (v.size() < n) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!is_digit_at(v, i)) return false;
    out = out * 10 + (v[i] - '0');
  }
  v.remove_prefix(n);
  return true;
}

// Reads ".123" style fractions (the separator included) into nanoseconds.
bool take_fraction(std::string_view& v, size_t digits, int64_t& ns) {
  if (v.empty() || (v[0] != '.' && v[0] != ',')) return false;
  size_t n = 1;
  while (is_digit_at(v, n)) ++n;
  if (n == 1 || (digits != 0 && n - 1 != digits)) return false;
  ns = 0;
  for (size_t i = 1; i < n; ++i) {
    if (i <= 9) ns = ns * 10 + (v[i] - '0');
  }
  for (size_t i = n - 1; i < 9; ++i) ns *= 10;
  v.remove_prefix(n);
  return true;
}

bool take_offset(std::string_view& v, Token t, int32_t& offset) {
  bool iso = t == Token::kISO8601TZ || t == Token::kISO8601SecondsTZ ||
             t == Token::kISO8601ShortTZ || t == Token::kISO8601ColonTZ ||
             t == Token::kISO8601ColonSecondsTZ;
  if (iso && !v.empty() && v[0] == 'Z') {
    v.remove_prefix(1);
    offset = 0;
    return true;
  }
  if (v.empty() || (v[0] != '+' && v[0] != '-')) return false;
  int sign = v[0] == '-' ? -1 : 1;
  v.remove_prefix(1);
  int h = 0, m = 0, s = 0;
  if (!take_digits(v, 2, h)) return false;
  bool colon = t == Token::kNumColonTZ || t == Token::kNumColonSecondsTZ ||
               t == Token::kISO8601ColonTZ || t == Token::kISO8601ColonSecondsTZ;
  bool seconds = t == Token::kNumSecondsTz || t == Token::kNumColonSecondsTZ ||
                 t == Token::kISO8601SecondsTZ || t == Token::kISO8601ColonSecondsTZ;
  bool short_form = t == Token::kNumShortTZ || t == Token::kISO8601ShortTZ;
  if (!short_form) {
    if (colon) {
      if (v.empty() || v[0] != ':') return false;
      v.remove_prefix(1);
    }
    if (!take_digits(v, 2, m)) return false;
    if (seconds) {
      if (colon) {
        if (v.empty() || v[0] != ':') return false;
        v.remove_prefix(1);
      }
      if (!take_digits(v, 2, s)) return false;
    }
  }
  offset = sign * (h * 3600 + m * 60 + s);
  return true;
}

// Reads an integer of unix units; "unix" also takes a decimal fraction.
std::optional<int64_t> parse_unix(std::string_view v, int64_t unit_ns) {
  bool negative = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    negative = v[0] == '-';
    v.remove_prefix(1);
  }
  size_t dot = v.find_first_of(".,");
  std::string_view whole = v.substr(0, dot);
  uint64_t units = 0;
  auto [p, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), units);
  if (whole.empty() || ec != std::errc() || p != whole.data() + whole.size()) return std::nullopt;
  if (units > static_cast<uint64_t>(INT64_MAX / unit_ns)) return std::nullopt;
  int64_t ns = static_cast<int64_t>(units) * unit_ns;
  if (dot != std::string_view::npos) {
    std::string_view frac = v.substr(dot + 1);
    int64_t scale = unit_ns;
    int64_t extra = 0;
    for (char c : frac) {
      if (c < '0' || c > '9') return std::nullopt;
      scale /= 10;
      extra += (c - '0') * scale;
    }
    ns += extra;
  }
  return negative ? -ns : ns;
}

}  // namespace

std::optional<TimeLayout> TimeLayout::compile(std::string_view text, std::string* error) {
  TimeLayout layout;
  if (text == "unix") {
    layout.kind_ = Kind::kUnix;
    return layout;
  }
  if (text == "unix_ms") {
    layout.kind_ = Kind::kUnixMs;
    return layout;
  }
  if (text == "unix_us") {
    layout.kind_ = Kind::kUnixUs;
    return layout;
  }
  if (text == "unix_ns") {
    layout.kind_ = Kind::kUnixNs;
    return layout;
  }
  if (std::string_view named = named_layout(text); !named.empty()) text = named;
  if (text.empty()) {
    if (error) *error = "a time format is required";
    return std::nullopt;
  }
  bool has_element = false;
  for (size_t i = 0; i < text.size();) {
    int digits = 0;
    auto [token, len] = element_at(text, i, digits);
    if (token == Token::kLiteral) {
      if (layout.chunks_.empty() || layout.chunks_.back().token != Token::kLiteral) {
        layout.chunks_.push_back({Token::kLiteral, "", 0});
      }
      layout.chunks_.back().literal += text[i];
    } else {
      // A fraction keeps its separator ('.' or ',') in `literal`.
      bool fraction = token == Token::kFracSecond0 || token == Token::kFracSecond9;
      layout.chunks_.push_back({token, fraction ? std::string(1, text[i]) : "", digits});
      has_element = true;
    }
    i += len;
  }
  if (!has_element) {
    if (error) {
      *error = "\"" + std::string(text) +
               "\" is not a time format: write the reference time Mon Jan 2 15:04:05 MST 2006 "
               "as it should look (e.g. 2006-01-02T15:04:05Z07:00), or unix, unix_ms, unix_us, "
               "unix_ns";
    }
    return std::nullopt;
  }
  return layout;
}

int64_t TimeLayout::unix_unit_ns() const {
  switch (kind_) {
    case Kind::kUnix:
      return kNsPerSecond;
    case Kind::kUnixMs:
      return 1'000'000;
    case Kind::kUnixUs:
      return 1'000;
    default:
      return 1;
  }
}

void TimeLayout::format(int64_t time_ns, const TimeZone& zone, std::string& out) const {
  if (is_unix()) {
    append_int(out, floor_div(time_ns, unix_unit_ns()), 0);
    return;
  }
  int64_t seconds = floor_div(time_ns, kNsPerSecond);
  int64_t nanos = time_ns - seconds * kNsPerSecond;
  TimeZone::Offset offset = zone.at(seconds);
  Civil c = civil_from_seconds(seconds + offset.seconds);
  for (const Chunk& chunk : chunks_) {
    switch (chunk.token) {
      case Token::kLiteral:
        out += chunk.literal;
        break;
      case Token::kLongMonth:
        out += kLongMonths[c.month - 1];
        break;
      case Token::kMonth:
        out += kLongMonths[c.month - 1].substr(0, 3);
        break;
      case Token::kNumMonth:
        append_int(out, c.month, 0);
        break;
      case Token::kZeroMonth:
        append_int(out, c.month, 2);
        break;
      case Token::kLongWeekDay:
        out += kLongDays[static_cast<size_t>(c.weekday)];
        break;
      case Token::kWeekDay:
        out += kLongDays[static_cast<size_t>(c.weekday)].substr(0, 3);
        break;
      case Token::kDay:
        append_int(out, c.day, 0);
        break;
      case Token::kUnderDay:
        append_int(out, c.day, 2, ' ');
        break;
      case Token::kZeroDay:
        append_int(out, c.day, 2);
        break;
      case Token::kUnderYearDay:
        append_int(out, c.yday, 3, ' ');
        break;
      case Token::kZeroYearDay:
        append_int(out, c.yday, 3);
        break;
      case Token::kHour:
        append_int(out, c.hour, 2);
        break;
      case Token::kHour12:
        append_int(out, c.hour % 12 == 0 ? 12 : c.hour % 12, 0);
        break;
      case Token::kZeroHour12:
        append_int(out, c.hour % 12 == 0 ? 12 : c.hour % 12, 2);
        break;
      case Token::kMinute:
        append_int(out, c.minute, 0);
        break;
      case Token::kZeroMinute:
        append_int(out, c.minute, 2);
        break;
      case Token::kSecond:
        append_int(out, c.second, 0);
        break;
      case Token::kZeroSecond:
        append_int(out, c.second, 2);
        break;
      case Token::kLongYear:
        append_int(out, c.year, 4);
        break;
      case Token::kYear:
        append_int(out, ((c.year % 100) + 100) % 100, 2);
        break;
      case Token::kPM:
        out += c.hour >= 12 ? "PM" : "AM";
        break;
      case Token::kpm:
        out += c.hour >= 12 ? "pm" : "am";
        break;
      case Token::kTZ:
        if (!offset.abbreviation.empty()) {
          out += offset.abbreviation;
        } else {
          append_offset(out, offset.seconds, false, false, true);
        }
        break;
      case Token::kISO8601TZ:
      case Token::kISO8601SecondsTZ:
      case Token::kISO8601ShortTZ:
      case Token::kISO8601ColonTZ:
      case Token::kISO8601ColonSecondsTZ:
        if (offset.seconds == 0) {
          out += 'Z';
          break;
        }
        [[fallthrough]];
      case Token::kNumTZ:
      case Token::kNumSecondsTz:
      case Token::kNumShortTZ:
      case Token::kNumColonTZ:
      case Token::kNumColonSecondsTZ: {
        Token t = chunk.token;
        bool colon = t == Token::kNumColonTZ || t == Token::kNumColonSecondsTZ ||
                     t == Token::kISO8601ColonTZ || t == Token::kISO8601ColonSecondsTZ;
        bool secs = t == Token::kNumSecondsTz || t == Token::kNumColonSecondsTZ ||
                    t == Token::kISO8601SecondsTZ || t == Token::kISO8601ColonSecondsTZ;
        bool short_form = t == Token::kNumShortTZ || t == Token::kISO8601ShortTZ;
        append_offset(out, offset.seconds, colon, secs, short_form);
        break;
      }
      case Token::kFracSecond0:
      case Token::kFracSecond9: {
        char digits[10];
        int64_t n = nanos;
        for (int i = 8; i >= 0; --i) {
          digits[i] = static_cast<char>('0' + n % 10);
          n /= 10;
        }
        int len = chunk.digits > 9 ? 9 : chunk.digits;
        if (chunk.token == Token::kFracSecond9) {
          while (len > 0 && digits[len - 1] == '0') --len;
          if (len == 0) break;  // no fraction, no separator
        }
        out += chunk.literal;
        out.append(digits, static_cast<size_t>(len));
        break;
      }
    }
  }
}

std::optional<int64_t> TimeLayout::parse(std::string_view v, const TimeZone& zone) const {
  if (is_unix()) return parse_unix(v, unix_unit_ns());
  int64_t year = 1970;  // Go's zero year is 0, but a time with no year is rarely meant that way
  int month = -1, day = -1, yday = -1, hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  int pm = -1;  // -1: no AM/PM element
  std::optional<int32_t> offset;
  for (size_t ci = 0; ci < chunks_.size(); ++ci) {
    const Chunk& chunk = chunks_[ci];
    size_t used = 0;
    int n = 0;
    switch (chunk.token) {
      case Token::kLiteral:
        if (v.substr(0, chunk.literal.size()) != chunk.literal) return std::nullopt;
        v.remove_prefix(chunk.literal.size());
        break;
      case Token::kLongMonth:
      case Token::kMonth: {
        int m = match_name(v, kLongMonths.data(), 12, chunk.token == Token::kMonth ? 3 : 0, used);
        if (m < 0) return std::nullopt;
        month = m + 1;
        v.remove_prefix(used);
        break;
      }
      case Token::kLongWeekDay:
      case Token::kWeekDay: {
        int d = match_name(v, kLongDays.data(), 7, chunk.token == Token::kWeekDay ? 3 : 0, used);
        if (d < 0) return std::nullopt;
        v.remove_prefix(used);
        break;
      }
      case Token::kNumMonth:
      case Token::kZeroMonth:
        if (!take_num(v, chunk.token == Token::kZeroMonth, month) || month < 1 || month > 12) {
          return std::nullopt;
        }
        break;
      case Token::kUnderDay:
        if (!v.empty() && v[0] == ' ') v.remove_prefix(1);
        [[fallthrough]];
      case Token::kDay:
      case Token::kZeroDay:
        if (!take_num(v, chunk.token == Token::kZeroDay, day) || day < 1 || day > 31) {
          return std::nullopt;
        }
        break;
      case Token::kUnderYearDay:
        while (!v.empty() && v[0] == ' ') v.remove_prefix(1);
        [[fallthrough]];
      case Token::kZeroYearDay: {
        size_t len = 0;
        while (len < 3 && is_digit_at(v, len)) ++len;
        if (chunk.token == Token::kZeroYearDay && len != 3) return std::nullopt;
        if (len == 0 || !take_digits(v, len, yday) || yday < 1 || yday > 366) return std::nullopt;
        break;
      }
      case Token::kHour:
        if (!take_num(v, false, hour) || hour > 23) return std::nullopt;
        break;
      case Token::kHour12:
      case Token::kZeroHour12:
        if (!take_num(v, chunk.token == Token::kZeroHour12, hour) || hour > 12) return std::nullopt;
        break;
      case Token::kMinute:
      case Token::kZeroMinute:
        if (!take_num(v, chunk.token == Token::kZeroMinute, minute) || minute > 59) {
          return std::nullopt;
        }
        break;
      case Token::kSecond:
      case Token::kZeroSecond: {
        if (!take_num(v, chunk.token == Token::kZeroSecond, second) || second > 60) {
          return std::nullopt;
        }
        // As Go does, a fraction is read after the seconds even if the layout has none.
        bool next_is_fraction =
            ci + 1 < chunks_.size() && (chunks_[ci + 1].token == Token::kFracSecond0 ||
                                        chunks_[ci + 1].token == Token::kFracSecond9);
        if (!next_is_fraction && v.size() >= 2 && (v[0] == '.' || v[0] == ',') &&
            is_digit_at(v, 1)) {
          if (!take_fraction(v, 0, nanos)) return std::nullopt;
        }
        break;
      }
      case Token::kLongYear:
        if (!take_digits(v, 4, n)) return std::nullopt;
        year = n;
        break;
      case Token::kYear:
        if (!take_digits(v, 2, n)) return std::nullopt;
        year = n >= 69 ? 1900 + n : 2000 + n;
        break;
      case Token::kPM:
      case Token::kpm: {
        if (v.size() < 2) return std::nullopt;
        char a = static_cast<char>(std::toupper(static_cast<unsigned char>(v[0])));
        char b = static_cast<char>(std::toupper(static_cast<unsigned char>(v[1])));
        if (b != 'M' || (a != 'A' && a != 'P')) return std::nullopt;
        pm = a == 'P' ? 1 : 0;
        v.remove_prefix(2);
        break;
      }
      case Token::kTZ: {
        size_t len = 0;
        while (len < v.size() && std::isupper(static_cast<unsigned char>(v[len]))) ++len;
        if (len < 3) {
          // Go also reads numeric zones in place of an abbreviation.
          int32_t o = 0;
          if (!take_offset(v, Token::kNumTZ, o)) return std::nullopt;
          offset = o;
          break;
        }
        std::string_view abbr = v.substr(0, len);
        v.remove_prefix(len);
        if (abbr == "UTC" || abbr == "GMT" || abbr == "Z") offset = 0;
        // Other abbreviations are ambiguous; the zone's own rules decide below.
        break;
      }
      case Token::kFracSecond0:
      case Token::kFracSecond9:
        if (chunk.token == Token::kFracSecond9) {
          // Optional: ".999" also reads nothing.
          if (v.empty() || (v[0] != '.' && v[0] != ',') || !is_digit_at(v, 1)) break;
          if (!take_fraction(v, 0, nanos)) return std::nullopt;
        } else if (!take_fraction(v, static_cast<size_t>(chunk.digits), nanos)) {
          return std::nullopt;
        }
        break;
      default: {
        int32_t o = 0;
        if (!take_offset(v, chunk.token, o)) return std::nullopt;
        offset = o;
        break;
      }
    }
  }
  if (!v.empty()) return std::nullopt;
  if (pm >= 0) {
    if (hour < 1 || hour > 12) return std::nullopt;
    if (pm == 1 && hour < 12) hour += 12;
    if (pm == 0 && hour == 12) hour = 0;
  }
  if (yday > 0 && month < 0) {
    int64_t jan1 = days_from_civil(year, 1, 1);
    Civil c = civil_from_seconds((jan1 + yday - 1) * kSecondsPerDay);
    if (c.year != year) return std::nullopt;
    month = static_cast<int>(c.month);
    day = static_cast<int>(c.day);
  }
  if (month < 0) month = 1;
  if (day < 0) day = 1;
  if (static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) {
    return std::nullopt;
  }
  int64_t local = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) *
                      kSecondsPerDay +
                  hour * 3600 + minute * 60 + second;
  int32_t off = offset ? *offset : zone.offset_for_local(local);
  return (local - off) * kNsPerSecond + nanos;
}

}  // namespace sluice::core
