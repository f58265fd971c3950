// The storage behind sluice::Metric's tags and fields: one heap block per metric.
//
// A parsed metric used to live in three allocations (the metric, a vector of tags of two
// std::strings each, a vector of fields of a std::string and a variant each): about 690 bytes
// for a line of 140, written on the listener's core and read and freed on the output's. One
// block holds the same in well under half the cache lines:
//
//   [Header][FieldValue × field_cap][TagSlot × tag_cap][Chars × field_cap][char × chars_cap][16]
//
// Keys and tag values are runs in the character area, appended as they come. A string replaced
// by a longer one or removed keeps its bytes until the block next grows; growing copies live
// strings only. The 16 bytes past the character area make every key and tag value readable 16
// bytes at a time from its start, which the serializer relies on.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sluice {

// A field value. The alternatives' order is part of the model: index() is the type tag.
using FieldValue = std::variant<double, int64_t, uint64_t, bool, std::string>;

namespace detail {

// Where a string lies in a block's character area.
struct Chars {
  uint32_t offset = 0;
  uint32_t size = 0;
};

struct TagSlot {
  Chars key;
  Chars value;
};

// Copies a few bytes without a call: most keys and tag values are short.
inline void copy_chars(char* to, const char* from, size_t n) {
  if (n >= 8 && n <= 16) {  // two 8-byte moves that overlap in the middle
    uint64_t head, tail;
    std::memcpy(&head, from, 8);
    std::memcpy(&tail, from + n - 8, 8);
    std::memcpy(to, &head, 8);
    std::memcpy(to + n - 8, &tail, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t head, tail;
    std::memcpy(&head, from, 4);
    std::memcpy(&tail, from + n - 4, 4);
    std::memcpy(to, &head, 4);
    std::memcpy(to + n - 4, &tail, 4);
  } else if (n > 0 && n < 4) {
    to[0] = from[0];
    to[n / 2] = from[n / 2];
    to[n - 1] = from[n - 1];
  } else if (n > 16) {
    std::memcpy(to, from, n);
  }
}

class MetricBlock {
 public:
  // Readable bytes past the character area (see the file comment).
  static constexpr size_t kReadPadding = 16;

  MetricBlock() = default;
  ~MetricBlock() { release(); }
  MetricBlock(MetricBlock&& other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
  MetricBlock& operator=(MetricBlock&& other) noexcept {
    if (this != &other) {
      release();
      h_ = std::exchange(other.h_, nullptr);
    }
    return *this;
  }
  // A copy holds the live strings only, with no spare room.
  MetricBlock(const MetricBlock& other) {
    if (other.tag_count() == 0 && other.field_count() == 0) return;
    allocate(other.tag_count(), other.field_count(), other.live_chars());
    try {
      move_or_copy_from(other);
    } catch (...) {  // a string value's copy ran out of memory: no destructor will run
      release();
      throw;
    }
  }
  MetricBlock& operator=(const MetricBlock& other) {
    if (this != &other) *this = MetricBlock(other);
    return *this;
  }

  const void* address() const { return h_; }
  size_t chars_used() const { return h_ ? h_->chars_used : 0; }
  size_t tag_count() const { return h_ ? h_->tag_count : 0; }
  size_t field_count() const { return h_ ? h_->field_count : 0; }
  std::string_view tag_key(size_t i) const { return text(tag_array()[i].key); }
  std::string_view tag_value(size_t i) const { return text(tag_array()[i].value); }
  std::string_view field_key(size_t i) const { return text(key_array()[i]); }
  const FieldValue& field_value(size_t i) const { return value_array()[i]; }
  FieldValue& field_value(size_t i) { return value_array()[i]; }

  // The arrays, for views that read many items (null when the block is).
  FieldValue* values() const { return h_ ? value_array() : nullptr; }
  TagSlot* tag_slots() const { return h_ ? tag_array() : nullptr; }
  const Chars* key_slots() const { return h_ ? key_array() : nullptr; }
  const char* chars() const { return h_ ? char_array() : nullptr; }

  // Room for this many tags, fields and characters in all, without growing again.
  void reserve(size_t tags, size_t fields, size_t chars) {
    if (!h_) {
      if (tags || fields || chars) allocate(tags, fields, chars);
    } else if (tags > h_->tag_cap || fields > h_->field_cap || chars > h_->chars_cap) {
      regrow(std::max<size_t>(tags, h_->tag_cap), std::max<size_t>(fields, h_->field_cap),
             std::max<size_t>(chars, h_->chars_cap));
    }
  }

  // Tags are kept in the order the caller inserts them at.
  void append_tag(std::string_view key, std::string_view value) {
    if (has_room(1, 0, key.size() + value.size())) {  // parsers reserve: the usual path
      TagSlot& slot = tag_array()[h_->tag_count++];
      slot.key = put(key);
      slot.value = put(value);
    } else {
      insert_tag(tag_count(), key, value);
    }
  }
  void insert_tag(size_t at, std::string_view key, std::string_view value) {
    std::string key_copy, value_copy;
    if (!has_room(1, 0, key.size() + value.size())) {
      key = outside(key, key_copy);  // the strings may lie in this block, which is about to move
      value = outside(value, value_copy);
      grow(1, 0, key.size() + value.size());
    }
    TagSlot* slots = tag_array();
    std::memmove(slots + at + 1, slots + at, (h_->tag_count - at) * sizeof(TagSlot));
    slots[at] = TagSlot{put(key), put(value)};
    ++h_->tag_count;
  }
  void set_tag_value(size_t i, std::string_view value) {
    rewrite([this, i] { return &tag_array()[i].value; }, value);
  }
  void erase_tag(size_t i) {
    TagSlot* slots = tag_array();
    std::memmove(slots + i, slots + i + 1, (h_->tag_count - i - 1) * sizeof(TagSlot));
    --h_->tag_count;
  }
  // Keeps the tags for which keep(i) is true, in order.
  template <typename Keep>
  void filter_tags(Keep keep) {
    if (!h_) return;
    TagSlot* slots = tag_array();
    uint32_t kept = 0;
    for (uint32_t i = 0; i < h_->tag_count; ++i) {
      if (keep(i)) slots[kept++] = slots[i];
    }
    h_->tag_count = kept;
  }
  // Sorts the tags by key (stable); of tags with the same key, the last one stays.
  void sort_tags() {
    if (!h_) return;
    TagSlot* slots = tag_array();
    const size_t n = h_->tag_count;
    std::stable_sort(slots, slots + n,
                     [&](const TagSlot& a, const TagSlot& b) { return text(a.key) < text(b.key); });
    // Reads slots[i + 1], which the compaction has not reached yet.
    filter_tags(
        [&](size_t i) { return i + 1 == n || text(slots[i].key) != text(slots[i + 1].key); });
  }

  void append_field(std::string_view key, FieldValue&& value) {
    std::string copy;
    if (!has_room(0, 1, key.size())) {
      key = outside(key, copy);
      grow(0, 1, key.size());
    }
    const size_t i = h_->field_count;
    new (value_array() + i) FieldValue(std::move(value));
    key_array()[i] = put(key);
    ++h_->field_count;
  }
  void set_field_key(size_t i, std::string_view key) {
    rewrite([this, i] { return &key_array()[i]; }, key);
  }
  // Keeps the fields for which keep(i) is true, in order.
  template <typename Keep>
  void filter_fields(Keep keep) {
    if (!h_) return;
    FieldValue* values = value_array();
    Chars* keys = key_array();
    uint32_t kept = 0;
    for (uint32_t i = 0; i < h_->field_count; ++i) {
      if (!keep(i)) continue;
      if (kept != i) {
        values[kept] = std::move(values[i]);
        keys[kept] = keys[i];
      }
      ++kept;
    }
    for (uint32_t i = kept; i < h_->field_count; ++i) values[i].~FieldValue();
    h_->field_count = kept;
  }
  // Reorders the fields so that the new i-th is the old order[i]; `order` is a permutation.
  void permute_fields(std::span<const uint32_t> order) {
    MetricBlock sorted;
    sorted.allocate(tag_count(), field_count(), live_chars());
    for (size_t i = 0; i < tag_count(); ++i) sorted.append_tag(tag_key(i), tag_value(i));
    for (size_t i = 0; i < field_count(); ++i) {
      sorted.append_field(field_key(order[i]), std::move(value_array()[order[i]]));
    }
    *this = std::move(sorted);
  }

 private:
  struct Header {
    uint32_t tag_count = 0, tag_cap = 0;
    uint32_t field_count = 0, field_cap = 0;
    uint32_t chars_used = 0, chars_cap = 0;
  };
  static_assert(sizeof(Header) % alignof(FieldValue) == 0);

  // The arrays of a block that exists.
  FieldValue* value_array() const { return reinterpret_cast<FieldValue*>(h_ + 1); }
  TagSlot* tag_array() const { return reinterpret_cast<TagSlot*>(value_array() + h_->field_cap); }
  Chars* key_array() const { return reinterpret_cast<Chars*>(tag_array() + h_->tag_cap); }
  char* char_array() const { return reinterpret_cast<char*>(key_array() + h_->field_cap); }
  std::string_view text(Chars c) const { return {char_array() + c.offset, c.size}; }

  size_t live_chars() const {
    size_t n = 0;
    for (size_t i = 0; i < tag_count(); ++i) {
      n += tag_array()[i].key.size + tag_array()[i].value.size;
    }
    for (size_t i = 0; i < field_count(); ++i) n += key_array()[i].size;
    return n;
  }

  bool has_room(size_t tags, size_t fields, size_t chars) const {
    return h_ && h_->tag_count + tags <= h_->tag_cap && h_->field_count + fields <= h_->field_cap &&
           chars <= h_->chars_cap - h_->chars_used;
  }
  // `s` itself, or a copy of it in `copy` when it lies inside this block.
  std::string_view outside(std::string_view s, std::string& copy) const {
    if (!h_ || s.empty()) return s;
    const char* begin = reinterpret_cast<const char*>(h_);
    const char* end = char_array() + h_->chars_cap;
    if (s.data() >= begin && s.data() < end) {
      copy.assign(s);
      return copy;
    }
    return s;
  }
  // Points the slot that slot() finds at `s`: in place when it fits (no dead bytes), else
  // appended. slot() is asked again after growing, which moves the block.
  template <typename Slot>
  void rewrite(Slot slot, std::string_view s) {
    Chars* at = slot();
    if (s.size() <= at->size) {
      if (!s.empty()) std::memmove(char_array() + at->offset, s.data(), s.size());
      at->size = static_cast<uint32_t>(s.size());
      return;
    }
    std::string copy;
    if (!has_room(0, 0, s.size())) {
      s = outside(s, copy);
      grow(0, 0, s.size());
    }
    *slot() = put(s);
  }

  // Room for this much more, with slack so that metrics built an item at a time grow rarely.
  void grow(size_t tags, size_t fields, size_t chars) {
    auto enough = [](size_t need, size_t cap, size_t least) {
      return need <= cap ? cap : std::max({need, cap + cap / 2, least});
    };
    regrow(enough(tag_count() + tags, h_ ? h_->tag_cap : 0, 4),
           enough(field_count() + fields, h_ ? h_->field_cap : 0, 4),
           enough(live_chars() + chars, h_ ? h_->chars_cap : 0, 32));
  }
  // Moves the content into a new block of these capacities, dropping dead characters.
  void regrow(size_t tags, size_t fields, size_t chars) {
    MetricBlock bigger;
    bigger.allocate(std::max(tags, tag_count()), std::max(fields, field_count()),
                    std::max(chars, live_chars()));
    bigger.move_or_copy_from(*this);
    *this = std::move(bigger);
  }
  // Makes this block, which has none, with the given capacities and no content.
  void allocate(size_t tags, size_t fields, size_t chars) {
    const size_t bytes = sizeof(Header) + fields * sizeof(FieldValue) + tags * sizeof(TagSlot) +
                         fields * sizeof(Chars) + chars + kReadPadding;
    h_ = new (::operator new(bytes)) Header{};
    h_->tag_cap = static_cast<uint32_t>(tags);
    h_->field_cap = static_cast<uint32_t>(fields);
    h_->chars_cap = static_cast<uint32_t>(chars);
    std::memset(char_array() + chars, 0, kReadPadding);  // defined bytes for 16-byte loads
  }
  // Appends the tags and fields of `from` to this empty block, which has room for them: moving
  // the values out of a non-const `from`, copying those of a const one.
  template <typename From>
  void move_or_copy_from(From& from) {
    for (size_t i = 0; i < from.tag_count(); ++i) append_tag(from.tag_key(i), from.tag_value(i));
    for (size_t i = 0; i < from.field_count(); ++i) {
      if constexpr (std::is_const_v<From>) {
        append_field(from.field_key(i), FieldValue(from.field_value(i)));
      } else {
        append_field(from.field_key(i), std::move(from.field_value(i)));
      }
    }
  }
  // Appends characters the block has room for.
  Chars put(std::string_view s) {
    const Chars c{h_->chars_used, static_cast<uint32_t>(s.size())};
    copy_chars(char_array() + c.offset, s.data(), s.size());
    h_->chars_used += c.size;
    return c;
  }
  void release() {
    if (!h_) return;
    FieldValue* values = value_array();
    for (uint32_t i = 0; i < h_->field_count; ++i) values[i].~FieldValue();
    ::operator delete(h_);
    h_ = nullptr;
  }

  Header* h_ = nullptr;
};

}  // namespace detail
}  // namespace sluice
