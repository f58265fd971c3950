#include "aggregators/histogram/histogram_config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace sluice::aggregators::histogram {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "a, b,c" -> {"a", "b", "c"}; surrounding brackets are allowed ("[0, 10]"), so a list
// copied from a Telegraf config reads too.
std::vector<std::string> split_list(std::string_view text) {
  text = trim(text);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  std::vector<std::string> items;
  while (!trim(text).empty()) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    if (item.size() >= 2 && (item.front() == '"' || item.front() == '\'') &&
        item.back() == item.front()) {
      item = item.substr(1, item.size() - 2);
    }
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

std::string entry_name(size_t index) { return "entry " + std::to_string(index + 1); }

}  // namespace

const std::vector<double>* HistogramConfig::buckets_for(std::string_view measurement,
                                                        std::string_view field) const {
  const std::vector<double>* found = nullptr;
  for (const HistogramEntry& e : entries_) {
    if (e.measurement != measurement) continue;
    if (!e.fields.empty() && std::find(e.fields.begin(), e.fields.end(), field) == e.fields.end()) {
      continue;
    }
    found = &e.buckets;
  }
  return found;
}

HistogramConfig parse_config(const std::vector<StringMap>& maps) {
  std::vector<HistogramEntry> entries;
  for (size_t i = 0; i < maps.size(); ++i) {
    HistogramEntry entry;
    bool has_measurement = false, has_buckets = false;
    for (const auto& [key, value] : maps[i]) {
      if (key == "measurement_name" || key == "measurement") {
        entry.measurement = value;
        has_measurement = true;
      } else if (key == "fields") {
        entry.fields = split_list(value);
      } else if (key == "buckets") {
        has_buckets = true;
        for (const std::string& text : split_list(value)) {
          double bound = 0;
          auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), bound);
          if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(bound)) {
            throw OptionError(
                "config", entry_name(i) + ": bucket bound \"" + text + "\" is not a finite number");
          }
          entry.buckets.push_back(bound);
        }
      } else {
        throw OptionError("config", entry_name(i) + ": unknown key \"" + key +
                                        "\"; expected measurement_name, fields or buckets");
      }
    }
    if (!has_measurement || entry.measurement.empty()) {
      throw OptionError("config", entry_name(i) + ": needs measurement_name");
    }
    if (!has_buckets || entry.buckets.empty()) {
      throw OptionError("config", entry_name(i) + ": needs buckets, e.g. \"0,10,50,100\"");
    }
    std::sort(entry.buckets.begin(), entry.buckets.end());
    entry.buckets.erase(std::unique(entry.buckets.begin(), entry.buckets.end()),
                        entry.buckets.end());
    entries.push_back(std::move(entry));
  }
  return HistogramConfig(std::move(entries));
}

}  // namespace sluice::aggregators::histogram
