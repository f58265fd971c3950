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

#include "sluice/metric_block.hpp"

namespace sluice {

// What a metric's values mean to a consumer such as Prometheus.
enum class ValueType : uint8_t { kUntyped, kCounter, kGauge, kSummary, kHistogram };

// A tag or field on its own, outside a metric (tables, expectations, scratch lists).
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

// A metric's tag, as the metric holds it. The views are valid until the metric next changes.
struct TagRef {
  std::string_view key;
  std::string_view value;
  bool operator==(const TagRef&) const = default;
  bool operator==(const Tag& t) const { return key == t.key && value == t.value; }
  Tag to_tag() const { return Tag{std::string(key), std::string(value)}; }
};

// A metric's field, as the metric holds it; valid until the metric next changes. Through a
// MutableFieldRef the value may be changed in place (the key through Metric::rename_field).
template <typename Value>
struct BasicFieldRef {
  std::string_view key;
  Value& value;
  bool operator==(const Field& f) const { return key == f.key && value == f.value; }
  template <typename Other>
  bool operator==(const BasicFieldRef<Other>& f) const {
    return key == f.key && value == f.value;
  }
  Field to_field() const { return Field{std::string(key), value}; }
};
using FieldRef = BasicFieldRef<const FieldValue>;
using MutableFieldRef = BasicFieldRef<FieldValue>;

// Where a range finds its items: pointers into a metric's block, taken once per range.
struct TagSource {
  const detail::TagSlot* slots = nullptr;
  const char* chars = nullptr;
  using Ref = TagRef;
  TagRef operator()(size_t i) const {
    return {{chars + slots[i].key.offset, slots[i].key.size},
            {chars + slots[i].value.offset, slots[i].value.size}};
  }
};
template <typename Value>
struct FieldSource {
  Value* values = nullptr;
  const detail::Chars* keys = nullptr;
  const char* chars = nullptr;
  using Ref = BasicFieldRef<Value>;
  Ref operator()(size_t i) const { return {{chars + keys[i].offset, keys[i].size}, values[i]}; }
};

// A random-access view of a metric's tags or fields, giving each as a Ref by value. Compares
// equal to a vector of Tag or Field with the same content, in order.
template <typename Source>
class ItemRange {
 public:
  using Ref = typename Source::Ref;

  class iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = Ref;
    using difference_type = std::ptrdiff_t;
    using reference = Ref;
    using pointer = void;
    iterator() = default;
    iterator(Source source, size_t i) : source_(source), i_(i) {}
    Ref operator*() const { return source_(i_); }
    Ref operator[](difference_type n) const { return source_(i_ + n); }
    iterator& operator++() { return ++i_, *this; }
    iterator operator++(int) { return {source_, i_++}; }
    iterator& operator--() { return --i_, *this; }
    iterator operator--(int) { return {source_, i_--}; }
    iterator& operator+=(difference_type n) { return i_ += n, *this; }
    iterator& operator-=(difference_type n) { return i_ -= n, *this; }
    iterator operator+(difference_type n) const { return {source_, i_ + n}; }
    friend iterator operator+(difference_type n, const iterator& it) { return it + n; }
    iterator operator-(difference_type n) const { return {source_, i_ - n}; }
    difference_type operator-(const iterator& o) const {
      return static_cast<difference_type>(i_) - static_cast<difference_type>(o.i_);
    }
    bool operator==(const iterator& o) const { return i_ == o.i_; }
    auto operator<=>(const iterator& o) const { return i_ <=> o.i_; }

   private:
    Source source_;
    size_t i_ = 0;
  };

  ItemRange(Source source, size_t size) : source_(source), size_(size) {}
  iterator begin() const { return {source_, 0}; }
  iterator end() const { return {source_, size_}; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Ref operator[](size_t i) const { return source_(i); }
  Ref front() const { return source_(0); }
  Ref back() const { return source_(size_ - 1); }

  template <typename Item>
  bool operator==(const std::vector<Item>& items) const {
    return std::equal(begin(), end(), items.begin(), items.end(),
                      [](const Ref& a, const Item& b) { return a == b; });
  }
  template <typename OtherSource>
  bool operator==(const ItemRange<OtherSource>& other) const {
    return std::equal(begin(), end(), other.begin(), other.end(),
                      [](const Ref& a, const typename OtherSource::Ref& b) { return a == b; });
  }

 private:
  Source source_;
  size_t size_;
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
// a timestamp in nanoseconds since the Unix epoch, and a value type. Tags and fields live in one
// block (metric_block.hpp); the views that tags() and fields() give stay valid until the metric
// next changes, like iterators into a vector. Every key and tag value has 16 readable bytes
// from its start, so a reader may load it 16 bytes at a time.
class Metric {
 public:
  using TagList = ItemRange<TagSource>;
  using FieldList = ItemRange<FieldSource<const FieldValue>>;
  using MutableFieldList = ItemRange<FieldSource<FieldValue>>;

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

  TagList tags() const {
    return {TagSource{block_.tag_slots(), block_.chars()}, block_.tag_count()};
  }
  FieldList fields() const {
    return {FieldSource<const FieldValue>{block_.values(), block_.key_slots(), block_.chars()},
            block_.field_count()};
  }
  // Counts as a change: the caller may write values through the refs.
  MutableFieldList mutable_fields() {
    ++revision_;
    return {FieldSource<FieldValue>{block_.values(), block_.key_slots(), block_.chars()},
            block_.field_count()};
  }

  // Room for this many more tags and fields, and characters for their keys and tag values, so
  // that a metric whose size is known is built in one allocation.
  void reserve(size_t tags, size_t fields, size_t chars) {
    block_.reserve(block_.tag_count() + tags, block_.field_count() + fields,
                   block_.chars_used() + chars);
  }

  // Tags: inserting keeps the order sorted; an existing key gets the new value.
  void set_tag(std::string_view key, std::string_view value) {
    ++revision_;
    const size_t i = tag_lower_bound(key);
    if (i < block_.tag_count() && block_.tag_key(i) == key) {
      block_.set_tag_value(i, value);
    } else {
      block_.insert_tag(i, key, value);
    }
  }
  std::optional<std::string_view> tag(std::string_view key) const {
    const size_t i = tag_lower_bound(key);
    if (i < block_.tag_count() && block_.tag_key(i) == key) return block_.tag_value(i);
    return std::nullopt;
  }
  bool has_tag(std::string_view key) const { return tag(key).has_value(); }
  bool remove_tag(std::string_view key) {
    ++revision_;
    const size_t i = tag_lower_bound(key);
    if (i == block_.tag_count() || block_.tag_key(i) != key) return false;
    block_.erase_tag(i);
    return true;
  }
  // Removes every tag for which keep(TagRef) is false.
  template <typename Pred>
  void retain_tags(Pred keep) {
    ++revision_;
    const TagList tags = this->tags();  // each item is read before the filter moves past it
    block_.filter_tags([&](size_t i) { return keep(tags[i]); });
  }
  void clear_tags() {
    ++revision_;
    block_.filter_tags([](size_t) { return false; });
  }
  // Appends a tag without the sorted-order search. The caller guarantees that `key` sorts after
  // every tag already present (parsers of sorted input use this); otherwise use set_tag.
  void append_sorted_tag(std::string_view key, std::string_view value) {
    ++revision_;
    block_.append_tag(key, value);
  }
  // Sorts tags appended out of order; of tags with the same key, the last appended wins.
  void sort_tags() {
    ++revision_;
    block_.sort_tags();
  }

  // Fields: an existing key gets the new value, a new key is appended.
  void set_field(std::string_view key, FieldValue value) {
    ++revision_;
    const size_t i = field_index(key);
    if (i < block_.field_count()) {
      block_.field_value(i) = std::move(value);
    } else {
      block_.append_field(key, std::move(value));
    }
  }
  // Appends without looking for an existing key; the caller guarantees the key is new.
  void append_field(std::string_view key, FieldValue value) {
    ++revision_;
    block_.append_field(key, std::move(value));
  }
  const FieldValue* field(std::string_view key) const {
    const size_t i = field_index(key);
    return i < block_.field_count() ? &block_.field_value(i) : nullptr;
  }
  // Counts as a change: the caller may write through the pointer.
  FieldValue* mutable_field(std::string_view key) {
    ++revision_;
    const size_t i = field_index(key);
    return i < block_.field_count() ? &block_.field_value(i) : nullptr;
  }
  // Gives the field `from` the key `to`, in its place. False when there is no field `from`. The
  // caller makes sure no other field is called `to`.
  bool rename_field(std::string_view from, std::string_view to) {
    ++revision_;
    const size_t i = field_index(from);
    if (i == block_.field_count()) return false;
    block_.set_field_key(i, to);
    return true;
  }
  bool remove_field(std::string_view key) {
    ++revision_;
    const size_t at = field_index(key);
    if (at == block_.field_count()) return false;
    block_.filter_fields([&](size_t i) { return i != at; });
    return true;
  }
  template <typename Pred>
  void retain_fields(Pred keep) {
    ++revision_;
    const FieldList fields = this->fields();  // each item is read before the filter moves it
    block_.filter_fields([&](size_t i) { return keep(fields[i]); });
  }
  void clear_fields() {
    ++revision_;
    block_.filter_fields([](size_t) { return false; });
  }
  // Orders the fields by key (stable).
  void sort_fields() {
    ++revision_;
    std::vector<uint32_t> order(block_.field_count());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return block_.field_key(a) < block_.field_key(b);
    });
    block_.permute_fields(order);
  }

  // Grows with every call that may change the content (set_*, remove_*, append_*,
  // mutable_field, mutable_fields...); copies and moves carry it along. Lets a stage that handed
  // metrics to code it does not control tell, without comparing, that one came back untouched.
  uint32_t revision() const { return revision_; }

  // Where the tags and fields are kept (null when there are none): a metric moved along keeps
  // it, a copy does not.
  const void* storage() const { return block_.address(); }

  // The delivery group of a tracked metric (null for most metrics).
  const DeliveryHandle& delivery() const { return delivery_; }
  void set_delivery(DeliveryHandle delivery) { delivery_ = std::move(delivery); }

  // Equal content; the delivery group is not content.
  bool operator==(const Metric& other) const {
    return name_ == other.name_ && time_ns_ == other.time_ns_ && type_ == other.type_ &&
           tags() == other.tags() && fields() == other.fields();
  }

 private:
  size_t tag_lower_bound(std::string_view key) const {
    const TagList tags = this->tags();
    return static_cast<size_t>(
        std::lower_bound(tags.begin(), tags.end(), key,
                         [](const TagRef& t, std::string_view k) { return t.key < k; }) -
        tags.begin());
  }
  // The field's position, or field_count() when there is none.
  size_t field_index(std::string_view key) const {
    const FieldList fields = this->fields();
    return static_cast<size_t>(std::find_if(fields.begin(), fields.end(),
                                            [&](const FieldRef& f) { return f.key == key; }) -
                               fields.begin());
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
  detail::MetricBlock block_;
  int64_t time_ns_ = 0;
  ValueType type_ = ValueType::kUntyped;
  uint32_t revision_ = 0;  // sits in type_'s padding: no bigger metric
  DeliveryHandle delivery_;
};

// Metrics move between stages in batches, by ownership.
using Batch = std::vector<Metric>;

}  // namespace sluice
