#include "line_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace sluice::inputs::statsd {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view s, double& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

// A double as int64, clamped to its range (a cast of a value out of range is undefined).
int64_t saturate(double v) {
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return static_cast<int64_t>(v);
}

bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool parse_int(std::string_view s, int64_t& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

void put_tag(std::vector<Tag>& tags, std::string_view key, std::string_view value) {
  for (Tag& t : tags) {
    if (t.key == key) {
      t.value.assign(value);
      return;
    }
  }
  tags.push_back({std::string(key), std::string(value)});
}

// DataDog tags "a:b,c" (a tag without a value is "true", as InfluxDB has no empty tags).
void parse_datadog_tags(std::string_view text, std::vector<Tag>& tags) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(start, comma == text.npos ? text.npos : comma - start);
    if (!item.empty()) {
      size_t colon = item.find(':');
      if (colon == std::string_view::npos) {
        put_tag(tags, item, "true");
      } else if (colon > 0) {
        put_tag(tags, item.substr(0, colon), item.substr(colon + 1));
      }
    }
    if (comma == text.npos) break;
    start = comma + 1;
  }
}

const char* type_tag(Kind kind) {
  switch (kind) {
    case Kind::kCounter:
      return "counter";
    case Kind::kGauge:
      return "gauge";
    case Kind::kSet:
      return "set";
    case Kind::kTiming:
      return "timing";
    case Kind::kHistogram:
      return "histogram";
    case Kind::kDistribution:
      return "distribution";
  }
  return "";
}

}  // namespace

std::string series_key(const Sample& sample) {
  std::string key = sample.measurement;
  for (const Tag& t : sample.tags) {
    key.push_back('\0');
    key += t.key;
    key.push_back('\0');
    key += t.value;
  }
  return key;
}

std::string LineParser::parse(std::string_view line, std::vector<Sample>& out) {
  line = trim(line);
  line_tags_.clear();
  std::string stripped;
  if (options_.datadog_extensions) {
    // DataDog puts its extensions in extra "|" segments: "#tags" anywhere, and at the end the
    // container id "c:..." and the timestamp "T...". They are taken out before the statsd part.
    std::vector<std::string_view> segments;
    size_t start = 0;
    while (true) {
      size_t bar = line.find('|', start);
      segments.push_back(line.substr(start, bar == line.npos ? line.npos : bar - start));
      if (bar == line.npos) break;
      start = bar + 1;
    }
    size_t end = segments.size();
    while (end > 2) {
      std::string_view s = segments[end - 1];
      if (s.starts_with("c:")) {
        if (options_.keep_container_tag) put_tag(line_tags_, "container", s.substr(2));
      } else if (!(s.size() > 1 && s[0] == 'T' && all_digits(s.substr(1))) && !s.starts_with("#")) {
        break;
      } else if (s.starts_with("#")) {
        parse_datadog_tags(s.substr(1), line_tags_);
      }
      --end;
    }
    for (size_t i = 0; i < end; ++i) {
      if (i > 0 && segments[i].starts_with("#")) {
        parse_datadog_tags(segments[i].substr(1), line_tags_);
        continue;
      }
      if (!stripped.empty() || i > 0) stripped.push_back('|');
      stripped += segments[i];
    }
    line = stripped;
    if (line.starts_with("_e{") || line.starts_with("_sc|")) {
      return "DataDog events and service checks are not metrics; they are not read";
    }
  }

  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return "no ':' between the name and the value";
  std::string_view bucket = line.substr(0, colon);
  if (bucket.empty()) return "the name before ':' is empty";

  // Tags written into the name, as in line protocol: "users.current,service=payroll".
  std::string_view name = bucket;
  std::vector<Tag> bucket_tags;
  if (size_t comma = bucket.find(','); comma != std::string_view::npos) {
    name = bucket.substr(0, comma);
    std::string_view rest = bucket.substr(comma + 1);
    while (!rest.empty()) {
      size_t next = rest.find(',');
      std::string_view kv = rest.substr(0, next);
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return "tag \"" + std::string(kv) + "\" in the name is not key=value";
      }
      put_tag(bucket_tags, kv.substr(0, eq), kv.substr(eq + 1));
      if (next == std::string_view::npos) break;
      rest.remove_prefix(next + 1);
    }
  }
  if (name.empty()) return "the name before ',' is empty";

  NameParts parts = templates_.apply(name);
  pending_.clear();
  std::string_view values = line.substr(colon + 1);
  size_t index = 0;
  while (true) {
    ++index;
    size_t next = values.find(':');
    std::string_view bit = values.substr(0, next);
    std::string where = index == 1 && next == std::string_view::npos
                            ? std::string()
                            : " (value " + std::to_string(index) + ")";
    size_t bar = bit.find('|');
    if (bar == std::string_view::npos) return "no '|type' after the value" + where;
    std::string_view value = bit.substr(0, bar);
    std::string_view rest = bit.substr(bar + 1);
    size_t bar2 = rest.find('|');
    std::string_view type = rest.substr(0, bar2);
    Sample s;
    if (type == "c") {
      s.kind = Kind::kCounter;
    } else if (type == "g") {
      s.kind = Kind::kGauge;
    } else if (type == "s") {
      s.kind = Kind::kSet;
    } else if (type == "ms") {
      s.kind = Kind::kTiming;
    } else if (type == "h") {
      s.kind = Kind::kHistogram;
    } else if (type == "d") {
      s.kind = Kind::kDistribution;
    } else {
      return "unknown metric type \"" + std::string(type) + "\" (c, g, s, ms, h or d)" + where;
    }
    if (bar2 != std::string_view::npos) {
      std::string_view extra = rest.substr(bar2 + 1);
      if (extra.find('|') != std::string_view::npos) {
        return "unexpected \"" + std::string(extra.substr(extra.find('|'))) + "\"" + where;
      }
      if (extra.size() < 2 || extra[0] != '@' || !parse_double(extra.substr(1), s.rate) ||
          s.rate <= 0 || s.rate > 1) {
        return "sample rate \"" + std::string(extra) + "\" is not @ and a number in (0, 1]" + where;
      }
    }
    if (value.empty()) return "the value is empty" + where;
    bool sign = value.front() == '+' || value.front() == '-';
    if (sign && s.kind != Kind::kGauge && s.kind != Kind::kCounter) {
      return "+/- values are only for gauges and counters" + where;
    }
    switch (s.kind) {
      case Kind::kCounter: {
        double d = 0;
        if (!parse_double(value, d)) {
          return "counter value \"" + std::string(value) + "\" is not a number" + where;
        }
        int64_t i = 0;
        if (!parse_int(value, i)) i = saturate(d);
        s.count = s.rate < 1 ? saturate(static_cast<double>(i) / s.rate) : i;
        s.value = d / s.rate;
        break;
      }
      case Kind::kSet:
        s.member.assign(value);
        break;
      default:
        if (!parse_double(value, s.value)) {
          return "value \"" + std::string(value) + "\" is not a number" + where;
        }
        s.additive = sign && s.kind == Kind::kGauge;
        break;
    }
    s.measurement = parts.measurement;
    s.field = parts.field.empty() ? "value" : parts.field;
    s.tags = parts.tags;
    for (const Tag& t : bucket_tags) put_tag(s.tags, t.key, t.value);
    put_tag(s.tags, "metric_type", type_tag(s.kind));
    for (const Tag& t : line_tags_) put_tag(s.tags, t.key, t.value);
    std::sort(s.tags.begin(), s.tags.end(),
              [](const Tag& a, const Tag& b) { return a.key < b.key; });
    pending_.push_back(std::move(s));
    if (next == std::string_view::npos) break;
    values.remove_prefix(next + 1);
  }
  for (Sample& s : pending_) out.push_back(std::move(s));
  return "";
}

}  // namespace sluice::inputs::statsd
