// Conversions between the C++ metric model (metric.hpp) and the C ABI's metric views
// (plugin_abi.h). Header-only, so that the agent and every plugin library compile their own copy:
// no C++ object ever crosses the boundary, only the C views these functions make and read.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sluice/metric.hpp"
#include "sluice/plugin_abi.h"

namespace sluice::abi {

inline sluice_str to_str(std::string_view s) { return sluice_str{s.data(), s.size()}; }

inline std::string_view to_view(sluice_str s) {
  return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.size);
}

// Equality of short strings without a call to memcmp: keys and tag values are mostly a few
// bytes, and comparing them is most of what a plugin's processor pays per metric.
inline bool equal(std::string_view a, std::string_view b) {
  size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8 && n <= 16) {
    uint64_t p0, q0, p1, q1;
    std::memcpy(&p0, p, 8);
    std::memcpy(&q0, q, 8);
    std::memcpy(&p1, p + n - 8, 8);
    std::memcpy(&q1, q + n - 8, 8);
    return p0 == q0 && p1 == q1;
  }
  if (n >= 4 && n < 8) {
    uint32_t p0, q0, p1, q1;
    std::memcpy(&p0, p, 4);
    std::memcpy(&q0, q, 4);
    std::memcpy(&p1, p + n - 4, 4);
    std::memcpy(&q1, q + n - 4, 4);
    return p0 == q0 && p1 == q1;
  }
  if (n < 4) {
    for (size_t i = 0; i < n; ++i) {
      if (p[i] != q[i]) return false;
    }
    return true;
  }
  return std::memcmp(p, q, n) == 0;
}

inline ValueType value_type(uint32_t type) {
  return type <= SLUICE_VALUE_HISTOGRAM ? static_cast<ValueType>(type) : ValueType::kUntyped;
}

// Fills the view of a field value in place (a temporary copied in would stall on the partial
// writes of its union); borrows a string value.
inline void fill_value(sluice_field& out, const FieldValue& v) {
  out.type = static_cast<uint32_t>(v.index());  // the variant's order is the C order
  if (const double* d = std::get_if<double>(&v)) {
    out.value.f64 = *d;
  } else if (const int64_t* i = std::get_if<int64_t>(&v)) {
    out.value.i64 = *i;
  } else if (const uint64_t* u = std::get_if<uint64_t>(&v)) {
    out.value.u64 = *u;
  } else if (const bool* b = std::get_if<bool>(&v)) {
    out.value.u64 = 0;
    out.value.boolean = *b ? 1 : 0;
  } else {
    out.value.string = to_str(*std::get_if<std::string>(&v));
  }
}

inline void fill_field(sluice_field& out, const FieldRef& f) {
  out.key = to_str(f.key);
  fill_value(out, f.value);
}

// The value of a field view; false for a type this header does not know.
inline bool field_value(const sluice_field& f, FieldValue& out) {
  switch (f.type) {
    case SLUICE_FIELD_FLOAT:
      if (double* d = std::get_if<double>(&out)) {
        *d = f.value.f64;
      } else {
        out = f.value.f64;
      }
      return true;
    case SLUICE_FIELD_INT:
      out = f.value.i64;
      return true;
    case SLUICE_FIELD_UINT:
      out = f.value.u64;
      return true;
    case SLUICE_FIELD_BOOL:
      out = f.value.boolean != 0;
      return true;
    case SLUICE_FIELD_STRING: {
      std::string_view s = to_view(f.value.string);
      if (std::string* existing = std::get_if<std::string>(&out)) {
        existing->assign(s);  // keeps the string's storage
      } else {
        out = std::string(s);
      }
      return true;
    }
    default:
      return false;
  }
}

// A new metric from a view, by the rules for views given to the host: tags in any order, a
// later duplicate key wins. Fields of unknown types are left out.
inline Metric metric_from_view(const sluice_metric& v) {
  Metric m(std::string(to_view(v.name)), v.time_ns, value_type(v.value_type));
  size_t chars = 0;
  for (size_t i = 0; i < v.tag_count; ++i) chars += v.tags[i].key.size + v.tags[i].value.size;
  for (size_t i = 0; i < v.field_count; ++i) chars += v.fields[i].key.size;
  m.reserve(v.tag_count, v.field_count, chars);
  bool sorted = true;
  for (size_t i = 0; i < v.tag_count; ++i) {
    std::string_view key = to_view(v.tags[i].key);
    if (i > 0 && !(to_view(v.tags[i - 1].key) < key)) sorted = false;
    m.append_sorted_tag(key, to_view(v.tags[i].value));
  }
  if (!sorted) m.sort_tags();
  FieldValue value;
  for (size_t i = 0; i < v.field_count; ++i) {
    if (field_value(v.fields[i], value)) m.set_field(to_view(v.fields[i].key), std::move(value));
  }
  return m;
}

// Overwrites `m` with the view, reusing m's storage where it can: a metric reused for the same
// series mostly compares equal and copies only values. The view's tags must be sorted with
// unique keys, as the host sends them.
inline void assign_from_view(Metric& m, const sluice_metric& v) {
  std::string_view name = to_view(v.name);
  if (!equal(m.name(), name)) m.set_name(std::string(name));
  m.set_time(v.time_ns);
  m.set_type(value_type(v.value_type));
  bool same_keys = m.tags().size() == v.tag_count;
  for (size_t i = 0; same_keys && i < v.tag_count; ++i) {
    same_keys = equal(m.tags()[i].key, to_view(v.tags[i].key));
  }
  if (same_keys) {
    for (size_t i = 0; i < v.tag_count; ++i) {
      std::string_view value = to_view(v.tags[i].value);
      if (!equal(m.tags()[i].value, value)) m.set_tag(to_view(v.tags[i].key), value);
    }
  } else {
    m.clear_tags();
    for (size_t i = 0; i < v.tag_count; ++i) {
      m.append_sorted_tag(to_view(v.tags[i].key), to_view(v.tags[i].value));
    }
  }
  // Values are overwritten in place while the keys are the same, in the same order, and of
  // known types; otherwise the fields are rebuilt (the metric's block keeps its room).
  Metric::MutableFieldList fields = m.mutable_fields();
  bool in_place = fields.size() == v.field_count;
  for (size_t i = 0; in_place && i < v.field_count; ++i) {
    in_place =
        equal(fields[i].key, to_view(v.fields[i].key)) && field_value(v.fields[i], fields[i].value);
  }
  if (in_place) return;
  m.clear_fields();
  FieldValue value;
  for (size_t i = 0; i < v.field_count; ++i) {
    if (field_value(v.fields[i], value)) m.append_field(to_view(v.fields[i].key), std::move(value));
  }
}

// True when `m` holds exactly what the view shows (floats compared bit for bit).
inline bool same(const Metric& m, const sluice_metric& v) {
  if (m.fields().size() != v.field_count || m.tags().size() != v.tag_count ||
      m.time() != v.time_ns || static_cast<uint32_t>(m.type()) != v.value_type ||
      !equal(m.name(), to_view(v.name))) {
    return false;
  }
  for (size_t i = 0; i < v.tag_count; ++i) {
    const TagRef t = m.tags()[i];
    if (!equal(t.key, to_view(v.tags[i].key)) || !equal(t.value, to_view(v.tags[i].value))) {
      return false;
    }
  }
  for (size_t i = 0; i < v.field_count; ++i) {
    const FieldRef f = m.fields()[i];
    const sluice_field& g = v.fields[i];
    if (f.value.index() != g.type || !equal(f.key, to_view(g.key))) return false;
    switch (g.type) {
      case SLUICE_FIELD_FLOAT:
        if (std::bit_cast<uint64_t>(std::get<double>(f.value)) !=
            std::bit_cast<uint64_t>(g.value.f64)) {
          return false;
        }
        break;
      case SLUICE_FIELD_INT:
        if (std::get<int64_t>(f.value) != g.value.i64) return false;
        break;
      case SLUICE_FIELD_UINT:
        if (std::get<uint64_t>(f.value) != g.value.u64) return false;
        break;
      case SLUICE_FIELD_BOOL:
        if (std::get<bool>(f.value) != (g.value.boolean != 0)) return false;
        break;
      default:
        if (!equal(std::get<std::string>(f.value), to_view(g.value.string))) return false;
        break;
    }
  }
  return true;
}

// Calls fn(const sluice_metric&) with a view of `m`. The view lives on the stack for metrics
// of typical size, so that this allocates nothing and may run on any thread.
template <typename Fn>
void with_view(const Metric& m, Fn&& fn) {
  constexpr size_t kInline = 32;
  sluice_tag tag_buffer[kInline];
  sluice_field field_buffer[kInline];
  std::vector<sluice_tag> tag_heap;
  std::vector<sluice_field> field_heap;
  sluice_tag* tags = tag_buffer;
  sluice_field* fields = field_buffer;
  if (m.tags().size() > kInline) {
    tag_heap.resize(m.tags().size());
    tags = tag_heap.data();
  }
  if (m.fields().size() > kInline) {
    field_heap.resize(m.fields().size());
    fields = field_heap.data();
  }
  for (size_t i = 0; i < m.tags().size(); ++i) {
    tags[i] = sluice_tag{to_str(m.tags()[i].key), to_str(m.tags()[i].value)};
  }
  for (size_t i = 0; i < m.fields().size(); ++i) fill_field(fields[i], m.fields()[i]);
  sluice_metric v{};
  v.struct_size = sizeof(sluice_metric);
  v.value_type = static_cast<uint32_t>(m.type());
  v.name = to_str(m.name());
  v.time_ns = m.time();
  v.tags = tags;
  v.tag_count = m.tags().size();
  v.fields = fields;
  v.field_count = m.fields().size();
  fn(static_cast<const sluice_metric&>(v));
}

// Views of many metrics in storage reused from call to call (one builder per thread).
class ViewBuilder {
 public:
  // Views of every metric of `batch`, valid until the next call or until a metric changes.
  const sluice_metric* const* views(std::span<const Metric> batch) {
    size_t tag_total = 0, field_total = 0;
    for (const Metric& m : batch) {
      tag_total += m.tags().size();
      field_total += m.fields().size();
    }
    metrics_.resize(batch.size());
    pointers_.resize(batch.size());
    tags_.resize(tag_total);
    fields_.resize(field_total);
    size_t t = 0, f = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      const Metric& m = batch[i];
      sluice_metric& v = metrics_[i];
      v.struct_size = sizeof(sluice_metric);
      v.value_type = static_cast<uint32_t>(m.type());
      v.name = to_str(m.name());
      v.time_ns = m.time();
      v.tags = tags_.data() + t;
      v.tag_count = m.tags().size();
      for (const TagRef tag : m.tags()) {
        tags_[t].key = to_str(tag.key);
        tags_[t].value = to_str(tag.value);
        ++t;
      }
      v.fields = fields_.data() + f;
      v.field_count = m.fields().size();
      for (const FieldRef field : m.fields()) fill_field(fields_[f++], field);
      pointers_[i] = &v;
    }
    return pointers_.data();
  }
  const sluice_metric* view(const Metric& m) { return views(std::span<const Metric>(&m, 1))[0]; }

 private:
  std::vector<sluice_metric> metrics_;
  std::vector<const sluice_metric*> pointers_;
  std::vector<sluice_tag> tags_;
  std::vector<sluice_field> fields_;
};

}  // namespace sluice::abi
