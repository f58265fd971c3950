// The numeric fields of one metric of a series (or of several with the same timestamp), as the
// derivative aggregator keeps them: both of its modes compute differences between such events.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aggregators/series_index.hpp"

namespace sluice::aggregators::derivative {

struct Event {
  int64_t time = 0;
  std::vector<std::pair<std::string, double>> fields;

  // Adds the metric's numeric fields; a field already present takes the metric's value.
  void upsert(const Metric& m) {
    for (const FieldRef f : m.fields()) {
      double x;
      if (!numeric_value(f.value, x)) continue;
      auto it = std::find_if(fields.begin(), fields.end(),
                             [&](const auto& p) { return p.first == f.key; });
      if (it != fields.end()) {
        it->second = x;
      } else {
        fields.emplace_back(f.key, x);
      }
    }
  }
  const double* find(std::string_view key) const {
    for (const auto& [k, v] : fields) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  // Becomes the metric's event, reusing this one's storage: a new last metric arrives with
  // nearly every add, and its field names are usually the same as before.
  void assign(const Metric& m) {
    time = m.time();
    size_t n = 0;
    for (const FieldRef f : m.fields()) {
      double x;
      if (!numeric_value(f.value, x)) continue;
      if (n < fields.size()) {
        fields[n].first.assign(f.key);
        fields[n].second = x;
      } else {
        fields.emplace_back(f.key, x);
      }
      ++n;
    }
    fields.resize(n);
  }
};

// Appends to `out` the derivative of every field of `from` also in `to`, per `denominator`,
// as `<field><suffix>`; the field named `variable` is left out.
inline void append_derivatives(const Event& from, const Event& to, double denominator,
                               const std::string& variable, const std::string& suffix,
                               Metric& out) {
  for (const auto& [key, start] : from.fields) {
    if (key == variable) continue;
    if (const double* end = to.find(key))
      out.append_field(key + suffix, (*end - start) / denominator);
  }
}

}  // namespace sluice::aggregators::derivative
