// The metric model shared by the agent and every plugin.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace sluice {

// What a metric's values mean to a consumer such as Prometheus.
enum class ValueType : uint8_t { kUntyped, kCounter, kGauge, kSummary, kHistogram };

// A field value. The alternatives' order is part of the model: index() is the type tag.
using FieldValue = std::variant<double, int64_t, uint64_t, bool, std::string>;

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};

struct Field {
  std::string key;
  FieldValue value;
  bool operator==(const Field&) const = default;
};

// A std::string to move from, or anything that reads as a string_view.
template <typename S>
concept StringLike = std::is_convertible_v<S, std::string_view>;

// The tracking of a message from a source that must know when its metrics are delivered (a
// consumer that commits offsets or acknowledges a broker's message only then). Defined by the
// agent (core/delivery.hpp); a metric only carries it along, and copies share it.
class DeliveryGroup;
using DeliveryHandle = std::shared_ptr<DeliveryGroup>;

// One observation: a name, tags kept sorted by key, fields in insertion order (keys unique),
// a timestamp in nanoseconds since the Unix epoch, and a value type.
class Metric {
 public:
  Metric() = default;
  Metric(std::string name, int64_t time_ns, ValueType type = ValueType::kUntyped)
      : name_(std::move(name)), time_ns_(time_ns), type_(type) {}

  const std::string& name() const { return name_; }
  void set_name(StringLike auto&& name) {
    ++revision_;
    put_string(name_, std::forward<decltype(name)>(name));
  }

  int64_t time() const { return time_ns_; }
  void set_time(int64_t time_ns) {
    ++revision_;
    time_ns_ = time_ns;
  }

  ValueType type() const { return type_; }
  void set_type(ValueType type) {
    ++revision_;
    type_ = type;
  }

  const std::vector<Tag>& tags() const { return tags_; }
  const std::vector<Field>& fields() const { return fields_; }

  // Tags: inserting keeps the order sorted; an existing key gets the new value.
  void set_tag(std::string_view key, std::string_view value) {
    ++revision_;
    auto it = tag_lower_bound(key);
    if (it != tags_.end() && it->key == key) {
      it->value.assign(value);
    } else {
      tags_.insert(it, Tag{std::string(key), std::string(value)});
    }
  }
  std::optional<std::string_view> tag(std::string_view key) const {
    auto it = tag_lower_bound(key);
    if (it != tags_.end() && it->key == key) return std::string_view(it->value);
    return std::nullopt;
  }
  bool has_tag(std::string_view key) const { return tag(key).has_value(); }
  bool remove_tag(std::string_view key) {
    ++revision_;
    auto it = tag_lower_bound(key);
    if (it == tags_.end() || it->key != key) return false;
    tags_.erase(it);
    return true;
  }
  // Removes every tag for which keep(tag) is false.
  template <typename Pred>
  void retain_tags(Pred keep) {
    ++revision_;
    std::erase_if(tags_, [&](const Tag& t) { return !keep(t); });
  }
  // Appends a tag without the sorted-order search. The caller guarantees that `key` sorts after
  // every tag already present (parsers of sorted input use this); otherwise use set_tag.
  void append_sorted_tag(StringLike auto&& key, StringLike auto&& value) {
    ++revision_;
    Tag& tag = tags_.emplace_back();
    put_string(tag.key, std::forward<decltype(key)>(key));
    put_string(tag.value, std::forward<decltype(value)>(value));
  }
  void reserve_tags(size_t n) { tags_.reserve(n); }
  void sort_tags() {
    ++revision_;
    std::stable_sort(tags_.begin(), tags_.end(),
                     [](const Tag& a, const Tag& b) { return a.key < b.key; });
    // A later duplicate wins, as with set_tag.
    auto last = std::unique(tags_.rbegin(), tags_.rend(),
                            [](const Tag& a, const Tag& b) { return a.key == b.key; });
    tags_.erase(tags_.begin(), last.base());
  }

  // Fields: an existing key gets the new value, a new key is appended.
  void set_field(std::string_view key, FieldValue value) {
    ++revision_;
    if (Field* f = find_field(key)) {
      f->value = std::move(value);
    } else {
      fields_.push_back(Field{std::string(key), std::move(value)});
    }
  }
  // Appends without looking for an existing key; the caller guarantees the key is new.
  void append_field(StringLike auto&& key, FieldValue value) {
    ++revision_;
    Field& field = fields_.emplace_back();
    put_string(field.key, std::forward<decltype(key)>(key));
    field.value = std::move(value);
  }
  void reserve_fields(size_t n) { fields_.reserve(n); }
  const FieldValue* field(std::string_view key) const {
    for (const Field& f : fields_) {
      if (f.key == key) return &f.value;
    }
    return nullptr;
  }
  // Counts as a change: the caller may write through the pointer.
  Field* find_field(std::string_view key) {
    ++revision_;
    for (Field& f : fields_) {
      if (f.key == key) return &f;
    }
    return nullptr;
  }
  bool remove_field(std::string_view key) {
    ++revision_;
    auto it = std::find_if(fields_.begin(), fields_.end(),
                           [&](const Field& f) { return f.key == key; });
    if (it == fields_.end()) return false;
    fields_.erase(it);
    return true;
  }
  template <typename Pred>
  void retain_fields(Pred keep) {
    ++revision_;
    std::erase_if(fields_, [&](const Field& f) { return !keep(f); });
  }
  // Counts as a change: the caller may write through the reference.
  std::vector<Field>& mutable_fields() {
    ++revision_;
    return fields_;
  }

  // Grows with every call that may change the content (set_*, remove_*, append_*, find_field,
  // mutable_fields...); copies and moves carry it along. Lets a stage that handed metrics to
  // code it does not control tell, without comparing, that one came back untouched.
  uint32_t revision() const { return revision_; }

  // The delivery group of a tracked metric (null for most metrics).
  const DeliveryHandle& delivery() const { return delivery_; }
  void set_delivery(DeliveryHandle delivery) { delivery_ = std::move(delivery); }

  // Equal content; the delivery group is not content.
  bool operator==(const Metric& other) const {
    return name_ == other.name_ && tags_ == other.tags_ && fields_ == other.fields_ &&
           time_ns_ == other.time_ns_ && type_ == other.type_;
  }

 private:
  std::vector<Tag>::iterator tag_lower_bound(std::string_view key) {
    return std::lower_bound(tags_.begin(), tags_.end(), key,
                            [](const Tag& t, std::string_view k) { return t.key < k; });
  }
  std::vector<Tag>::const_iterator tag_lower_bound(std::string_view key) const {
    return std::lower_bound(tags_.begin(), tags_.end(), key,
                            [](const Tag& t, std::string_view k) { return t.key < k; });
  }

  // Moves a std::string rvalue in; copies anything else once, straight into `to` (parsers that
  // build millions of metrics a second from a buffer would pay for a temporary string).
  template <typename S>
  static void put_string(std::string& to, S&& from) {
    if constexpr (std::is_same_v<S, std::string>) {
      to = std::move(from);
    } else if (to.empty()) {
      to.append(std::string_view(from));  // into a new string: a plain copy, cheaper than assign
    } else {
      to.assign(std::string_view(from));
    }
  }

  std::string name_;
  std::vector<Tag> tags_;
  std::vector<Field> fields_;
  int64_t time_ns_ = 0;
  ValueType type_ = ValueType::kUntyped;
  uint32_t revision_ = 0;  // sits in type_'s padding: no bigger metric
  DeliveryHandle delivery_;
};

// Metrics move between stages in batches, by ownership.
using Batch = std::vector<Metric>;

}  // namespace sluice
