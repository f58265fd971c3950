#include "core/series_key.hpp"

namespace sluice::core {

std::string series_key(const Metric& metric) {
  size_t size = metric.name().size();
  for (const TagRef t : metric.tags()) size += 2 + t.key.size() + t.value.size();
  std::string key;
  key.reserve(size);
  key += metric.name();
  for (const TagRef t : metric.tags()) {
    key += '\0';
    key += t.key;
    key += '\0';
    key += t.value;
  }
  return key;
}

Metric metric_of_series(std::string_view key, int64_t time, ValueType type) {
  size_t end = key.find('\0');
  Metric m(std::string(key.substr(0, end)), time, type);
  size_t tags = 0;
  for (char c : key) tags += c == '\0';
  m.reserve(tags / 2, 0, key.size());
  while (end != std::string_view::npos) {
    size_t key_start = end + 1;
    size_t key_end = key.find('\0', key_start);
    if (key_end == std::string_view::npos) break;  // not a key written by series_key
    size_t value_start = key_end + 1;
    end = key.find('\0', value_start);
    std::string_view value = key.substr(
        value_start, end == std::string_view::npos ? std::string_view::npos : end - value_start);
    m.append_sorted_tag(key.substr(key_start, key_end - key_start), value);
  }
  return m;
}

}  // namespace sluice::core
