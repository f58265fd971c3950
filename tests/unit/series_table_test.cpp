#include <doctest/doctest.h>

#include <random>
#include <set>

#include "core/series_key.hpp"
#include "pipeline/series_table.hpp"

using namespace sluice;
using namespace sluice::pipeline;

namespace {

Metric series(int n, const std::string& host = "h") {
  Metric m("cpu", 0);
  m.set_tag("cpu", "cpu" + std::to_string(n));
  m.set_tag("host", host);
  return m;
}

SeriesTable::Entry entry_for(const Metric& m, uint64_t hash) {
  return SeriesTable::Entry{core::series_key(m), hash, 0, nullptr};
}

}  // namespace

TEST_CASE("series key: built, matched in place and read back into a metric") {
  Metric m = series(3, "a.example.net");
  std::string key = core::series_key(m);
  CHECK(key == std::string("cpu\0cpu\0cpu3\0host\0a.example.net", 31));
  CHECK(core::series_key_matches(key, m));
  CHECK_FALSE(core::series_key_matches(key, series(3, "a.example.ne")));
  CHECK_FALSE(core::series_key_matches(key, series(30, "a.example.net")));
  Metric fewer("cpu", 0);
  fewer.set_tag("cpu", "cpu3");
  CHECK_FALSE(core::series_key_matches(key, fewer));
  CHECK(core::series_hash(m) == core::series_hash(series(3, "a.example.net")));
  CHECK(core::series_hash(m) != core::series_hash(series(3, "a.example.nex")));

  Metric back = core::metric_of_series(key, 42, ValueType::kGauge);
  CHECK(back.name() == "cpu");
  CHECK(back.tags() == m.tags());
  CHECK(back.time() == 42);
  CHECK(back.type() == ValueType::kGauge);
  CHECK(core::metric_of_series("mem", 0, ValueType::kUntyped).tags().empty());
}

TEST_CASE("series table: every series is found after inserts and erases, hashes colliding") {
  SeriesTable table;
  constexpr int kSeries = 2000;
  std::set<int> present;
  // Every fourth series shares one hash, so probe runs are long and erases must shift them.
  auto hash_of = [](int n) {
    return n % 4 == 0 ? uint64_t{12345} : SeriesTable::hash_of(series(n));
  };
  for (int n = 0; n < kSeries; ++n) {
    table.insert(entry_for(series(n), hash_of(n)));
    present.insert(n);
  }
  std::mt19937 rng(1);
  for (int round = 0; round < 1500; ++round) {
    int n = static_cast<int>(rng() % kSeries);
    SeriesTable::Entry* e = table.find(series(n), hash_of(n));
    REQUIRE((e != nullptr) == (present.count(n) == 1));
    if (e != nullptr) {
      table.erase(static_cast<size_t>(e - table.entries().data()));
      present.erase(n);
    } else {
      table.insert(entry_for(series(n), hash_of(n)));
      present.insert(n);
    }
  }
  CHECK(table.size() == present.size());
  size_t found = 0;
  for (int n = 0; n < kSeries; ++n) {
    SeriesTable::Entry* e = table.find(series(n), hash_of(n));
    CHECK((e != nullptr) == (present.count(n) == 1));
    if (e != nullptr) {
      CHECK(e->key == core::series_key(series(n)));
      CHECK(table.find_key(e->key, hash_of(n)) == e);
      ++found;
    }
  }
  CHECK(found == present.size());
}
