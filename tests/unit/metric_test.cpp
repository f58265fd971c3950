// The metric model: tags sorted and unique, fields in order, and one block of storage that
// grows, compacts and copies without losing or mixing up a byte.
#include "sluice/metric.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace sluice;

namespace {

std::vector<Tag> tags_of(const Metric& m) {
  std::vector<Tag> out;
  for (const TagRef t : m.tags()) out.push_back(t.to_tag());
  return out;
}

std::vector<Field> fields_of(const Metric& m) {
  std::vector<Field> out;
  for (const FieldRef f : m.fields()) out.push_back(f.to_field());
  return out;
}

}  // namespace

TEST_CASE("metric: tags stay sorted; setting an existing key replaces its value") {
  Metric m("cpu", 1);
  m.set_tag("zone", "b");
  m.set_tag("host", "web01");
  m.set_tag("cpu", "cpu-total");
  m.set_tag("host", "w");                           // shorter: rewritten in place
  m.set_tag("zone", "a-much-longer-value-than-b");  // longer: appended
  CHECK(tags_of(m) == std::vector<Tag>{{"cpu", "cpu-total"},
                                       {"host", "w"},
                                       {"zone", "a-much-longer-value-than-b"}});
  CHECK(m.tag("host") == "w");
  CHECK_FALSE(m.tag("rack").has_value());
  CHECK(m.remove_tag("cpu"));
  CHECK_FALSE(m.remove_tag("cpu"));
  CHECK(m.tags() == std::vector<Tag>{{"host", "w"}, {"zone", "a-much-longer-value-than-b"}});
  m.retain_tags([](const TagRef& t) { return t.key != "host"; });
  CHECK(m.tags() == std::vector<Tag>{{"zone", "a-much-longer-value-than-b"}});
  m.clear_tags();
  CHECK(m.tags().empty());
}

TEST_CASE("metric: tags appended out of order are sorted, the last of a repeated key wins") {
  Metric m("m", 0);
  m.append_sorted_tag("b", "1");
  m.append_sorted_tag("a", "2");
  m.append_sorted_tag("b", "3");
  m.append_sorted_tag("c", "4");
  m.append_sorted_tag("a", "5");
  m.sort_tags();
  CHECK(tags_of(m) == std::vector<Tag>{{"a", "5"}, {"b", "3"}, {"c", "4"}});
}

TEST_CASE("metric: fields keep their order; set, rename, remove, sort") {
  Metric m("disk", 0);
  m.append_field("used", int64_t{10});
  m.append_field("free", uint64_t{20});
  m.set_field("label", std::string("a string value longer than sixteen bytes"));
  m.set_field("used", 1.5);
  CHECK(fields_of(m) ==
        std::vector<Field>{{"used", 1.5},
                           {"free", uint64_t{20}},
                           {"label", std::string("a string value longer than sixteen bytes")}});
  CHECK(m.field("free") != nullptr);
  CHECK(m.field("none") == nullptr);
  REQUIRE(m.mutable_field("free") != nullptr);
  *m.mutable_field("free") = true;
  CHECK(m.rename_field("free", "is_free_and_has_a_long_name"));
  CHECK_FALSE(m.rename_field("missing", "x"));
  CHECK(m.fields()[1] == Field{"is_free_and_has_a_long_name", true});
  CHECK(m.remove_field("used"));
  m.append_field("a", int64_t{-1});
  m.sort_fields();
  CHECK(fields_of(m) ==
        std::vector<Field>{{"a", int64_t{-1}},
                           {"is_free_and_has_a_long_name", true},
                           {"label", std::string("a string value longer than sixteen bytes")}});
  for (const MutableFieldRef f : m.mutable_fields()) {
    if (f.key == "a") f.value = int64_t{7};
  }
  CHECK(*m.field("a") == FieldValue(int64_t{7}));
  m.retain_fields([](const FieldRef& f) { return f.key != "label"; });
  CHECK(m.fields().size() == 2);
}

TEST_CASE("metric: a metric built an item at a time grows, and loses nothing when it does") {
  Metric m("wide", 0);
  std::vector<Tag> tags;
  std::vector<Field> fields;
  for (int i = 0; i < 200; ++i) {
    std::string n = std::to_string(1000 + i);  // keys in sorted order
    tags.push_back({"tag" + n, std::string(static_cast<size_t>(i % 40), 'v')});
    fields.push_back({"field" + n, FieldValue(int64_t{i})});
    m.append_sorted_tag(tags.back().key, tags.back().value);
    m.append_field(fields.back().key, fields.back().value);
  }
  CHECK(m.tags() == tags);
  CHECK(m.fields() == fields);
  // Values rewritten again and again: the dead bytes are dropped when the block next grows.
  for (int round = 0; round < 50; ++round) {
    for (Tag& t : tags) {
      t.value += "x";
      m.set_tag(t.key, t.value);
    }
  }
  CHECK(m.tags() == tags);
  CHECK(m.fields() == fields);
}

TEST_CASE("metric: strings taken from the metric itself may be written back into it") {
  Metric m("self", 0);
  m.set_tag("a", "first-value-that-is-long");
  m.append_field("f", 1.0);
  for (int i = 0; i < 20; ++i) {
    // Each copies a view into the metric's own block, which may move while it is written.
    m.set_tag("b" + std::to_string(i), *m.tag("a"));
    m.set_field(std::string(m.fields().back().key) + "x", 2.0);
    m.rename_field(m.fields().front().key, std::string(m.fields().front().key) + "y");
  }
  CHECK(m.tag("b19") == "first-value-that-is-long");
  CHECK(m.fields().size() == 21);
  CHECK(m.fields().front().key == "f" + std::string(20, 'y'));
}

TEST_CASE("metric: copies are equal and independent; moves keep the storage") {
  Metric a("m", 42, ValueType::kCounter);
  a.set_tag("host", "h");
  a.append_field("text", std::string(100, 's'));
  a.append_field("n", int64_t{3});
  Metric b = a;
  CHECK(b == a);
  CHECK(b.storage() != a.storage());
  b.set_tag("host", "other");
  *b.mutable_field("n") = int64_t{4};
  CHECK(a.tag("host") == "h");
  CHECK(*a.field("n") == FieldValue(int64_t{3}));
  CHECK_FALSE(b == a);

  const void* storage = a.storage();
  Metric c = std::move(a);
  CHECK(c.storage() == storage);
  CHECK(c.tag("host") == "h");

  Metric empty;
  Metric empty_copy = empty;
  CHECK(empty_copy == empty);
  CHECK(empty.storage() == nullptr);
  CHECK(empty.tags().empty());
  CHECK(empty.fields().empty());
}

TEST_CASE("metric: every key and tag value has 16 readable bytes from its start") {
  Metric m("m", 0);
  m.reserve(1, 1, 2);
  m.append_sorted_tag("k", "v");
  // The last string of a block filled exactly: 16 bytes from its start are still the block's
  // (AddressSanitizer checks the reads).
  const std::string_view value = m.tags()[0].value;
  char copy[16];
  for (size_t i = 0; i < 16; ++i) copy[i] = value.data()[i];
  CHECK(copy[0] == 'v');
}

TEST_CASE("metric: the revision grows with each change") {
  Metric m("m", 0);
  const uint32_t start = m.revision();
  m.set_tag("a", "b");
  m.append_field("f", 1.0);
  (void)m.mutable_fields();
  CHECK(m.revision() == start + 3);
  (void)m.tags();
  (void)m.fields();
  CHECK(m.revision() == start + 3);
}
