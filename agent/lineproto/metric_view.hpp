// A parsed line that has not become a Metric yet: views into the parser's input (or into the
// parser's scratch buffer where unescaping changed a token). Valid only during the visitor call
// that receives it; copy what must outlive it, or call to_metric().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sluice/metric.hpp"

namespace sluice::lineproto {

// The type of a field value. The order matches the alternatives of sluice::FieldValue.
enum class FieldType : uint8_t { kFloat, kInt, kUint, kBool, kString };

struct TagView {
  std::string_view key;
  std::string_view value;
};

struct FieldView {
  std::string_view key;
  FieldType type = FieldType::kFloat;
  union {
    double float_value = 0;
    int64_t int_value;
    uint64_t uint_value;
    bool bool_value;
  };
  std::string_view string_value;  // set when type is kString

  // The value in the metric model's form; copies a string value.
  FieldValue to_value() const {
    switch (type) {
      case FieldType::kFloat:
        return float_value;
      case FieldType::kInt:
        return int_value;
      case FieldType::kUint:
        return uint_value;
      case FieldType::kBool:
        return bool_value;
      case FieldType::kString:
        return std::string(string_value);
    }
    return float_value;
  }
};

struct MetricView {
  std::string_view name;
  std::span<const TagView> tags;      // sorted by key, keys unique
  std::span<const FieldView> fields;  // in line order, keys unique, at least one
  int64_t time = 0;                   // nanoseconds since the Unix epoch
  size_t line = 0;                    // the 1-based line where the entry starts

  const FieldView* field(std::string_view key) const {
    for (const FieldView& f : fields) {
      if (f.key == key) return &f;
    }
    return nullptr;
  }

  // Copies the view into a Metric of the model.
  Metric to_metric() const {
    Metric metric;
    fill(metric);
    return metric;
  }
  // Copies the view into a new Metric at the end of `out`, each byte once (no temporaries).
  void append_to(Batch& out) const { fill(out.emplace_back()); }

 private:
  void fill(Metric& metric) const {
    metric.set_name(name);
    metric.set_time(time);
    size_t chars = 0;
    for (const TagView& t : tags) chars += t.key.size() + t.value.size();
    for (const FieldView& f : fields) chars += f.key.size();
    metric.reserve(tags.size(), fields.size(), chars);  // one allocation
    for (const TagView& t : tags) metric.append_sorted_tag(t.key, t.value);
    for (const FieldView& f : fields) metric.append_field(f.key, f.to_value());
  }
};

}  // namespace sluice::lineproto
