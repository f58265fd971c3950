#include "custom_query.hpp"

#include <charconv>
#include <ctime>

namespace sluice::inputs::postgresql {
namespace {

std::vector<std::string> split_names(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

bool read_int(std::string_view s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::vector<CustomQuery> read_custom_queries(const std::vector<StringMap>& entries) {
  std::vector<CustomQuery> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    CustomQuery q;
    std::string where = "entry " + std::to_string(i + 1) + ": ";
    for (const auto& [key, value] : entries[i]) {
      if (key == "sqlquery") {
        q.sqlquery = value;
      } else if (key == "measurement") {
        q.measurement = value;
      } else if (key == "tagvalue") {
        q.tag_columns = split_names(value);
      } else if (key == "withdbname") {
        if (value != "true" && value != "false") {
          throw OptionError("query", where + "withdbname is true or false, not \"" + value + "\"");
        }
        q.withdbname = value == "true";
      } else if (key == "timestamp") {
        q.timestamp = value;
      } else if (key == "min_version" || key == "version") {
        if (!read_int(value, q.min_version)) {
          throw OptionError("query", where + key + " is a server_version_num such as 150000");
        }
      } else if (key == "max_version") {
        if (!read_int(value, q.max_version)) {
          throw OptionError("query", where + key + " is a server_version_num such as 160000");
        }
      } else {
        throw OptionError("query", where + "unknown key \"" + key +
                                       "\" (sqlquery, measurement, tagvalue, withdbname, "
                                       "timestamp, min_version, max_version)");
      }
    }
    if (q.sqlquery.empty()) throw OptionError("query", where + "sqlquery is missing");
    if (q.measurement.empty()) throw OptionError("query", where + "measurement is empty");
    out.push_back(std::move(q));
  }
  return out;
}

std::optional<int64_t> parse_pg_timestamp(std::string_view s) {
  // YYYY-MM-DD HH:MM:SS[.ffffff][+-HH[:MM[:SS]]]
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':') {
    return std::nullopt;
  }
  int year, mon, day, hour, min, sec;
  if (!read_int(s.substr(0, 4), year) || !read_int(s.substr(5, 2), mon) ||
      !read_int(s.substr(8, 2), day) || !read_int(s.substr(11, 2), hour) ||
      !read_int(s.substr(14, 2), min) || !read_int(s.substr(17, 2), sec)) {
    return std::nullopt;
  }
  size_t i = 19;
  int64_t frac_ns = 0;
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100'000'000;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      frac_ns += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1;
    std::string_view z = s.substr(i + 1);
    int h = 0, m = 0, sc = 0;
    if (z.size() < 2 || !read_int(z.substr(0, 2), h)) return std::nullopt;
    if (z.size() >= 5 && z[2] == ':' && !read_int(z.substr(3, 2), m)) return std::nullopt;
    if (z.size() >= 8 && z[5] == ':' && !read_int(z.substr(6, 2), sc)) return std::nullopt;
    offset = sign * (h * 3600 + m * 60 + sc);
  } else if (i != s.size()) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  int64_t seconds = static_cast<int64_t>(timegm(&tm)) - offset;
  // Nanoseconds since 1970 in an int64 reach from 1677 to 2262.
  if (seconds < -9'223'372'035 || seconds > 9'223'372'035) return std::nullopt;
  return seconds * 1'000'000'000 + frac_ns;
}

void rows_to_metrics(const Result& result, const std::string& measurement,
                     const std::vector<std::string>& tag_columns, const std::string& timestamp,
                     const std::string& server, const std::string& default_db, Batch& out) {
  const Column* datname = result.find("datname");
  for (size_t row = 0; row < result.rows; ++row) {
    Metric m(measurement, 0);
    m.set_tag("server", server);
    std::string db = default_db;
    if (datname != nullptr) {
      // A NULL datname is the row of objects shared by every database (PostgreSQL 12+).
      db = datname->text[row] ? *datname->text[row] : "postgres_global";
    }
    m.set_tag("db", db);
    for (const Column& c : result.columns) {
      if (c.name == "stats_reset") continue;
      if (!timestamp.empty() && c.name == timestamp) {
        if (c.text[row]) {
          if (auto t = parse_pg_timestamp(*c.text[row])) m.set_time(*t);
        }
        continue;
      }
      bool is_tag = false;
      for (const std::string& t : tag_columns) is_tag = is_tag || t == c.name;
      if (is_tag) {
        if (c.text[row]) m.set_tag(c.name, *c.text[row]);
        continue;
      }
      if (c.values[row]) m.set_field(c.name, *c.values[row]);
    }
    if (!m.fields().empty()) out.push_back(std::move(m));
  }
}

}  // namespace sluice::inputs::postgresql
