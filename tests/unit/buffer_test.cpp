#include <doctest/doctest.h>

#include "pipeline/memory_buffer.hpp"

using sluice::Batch;
using sluice::Metric;
using namespace sluice::pipeline;

namespace {

SharedBatch batch_of(int64_t first, int64_t count) {
  auto b = std::make_shared<Batch>();
  for (int64_t i = first; i < first + count; ++i) {
    Metric m("m", i + 1);
    m.set_field("value", i);
    b->push_back(std::move(m));
  }
  return b;
}

std::vector<int64_t> values(const BufferLease& lease) {
  std::vector<int64_t> out;
  for (const Metric& m : lease.metrics) out.push_back(std::get<int64_t>(*m.field("value")));
  return out;
}

}  // namespace

TEST_CASE("a lease comes from the front and leaves only when removed") {
  MemoryBuffer buffer(100);
  buffer.add(batch_of(0, 5));
  buffer.add(batch_of(5, 5));
  BufferLease lease = buffer.take(3);
  CHECK(values(lease) == std::vector<int64_t>{0, 1, 2});
  CHECK(buffer.size() == 10);
  // Not removed (a failed write): the same metrics come again.
  CHECK(values(buffer.take(3)) == std::vector<int64_t>{0, 1, 2});
  buffer.remove(lease);
  CHECK(buffer.size() == 7);
  // A lease across two batches gathers them in order.
  CHECK(values(buffer.take(4)) == std::vector<int64_t>{3, 4, 5, 6});
}

TEST_CASE("the front batch is lent without copying when it is large enough") {
  MemoryBuffer buffer(100);
  SharedBatch b = batch_of(0, 10);
  buffer.add(b);
  BufferLease lease = buffer.take(4);
  CHECK(lease.metrics.data() == b->data());
  CHECK(lease.keep_alive == b);
}

TEST_CASE("a full buffer drops the oldest metrics and counts them") {
  MemoryBuffer buffer(10);
  CHECK(buffer.add(batch_of(0, 8)) == 0);
  CHECK(buffer.add(batch_of(8, 5)) == 3);
  CHECK(buffer.size() == 10);
  CHECK(values(buffer.take(10)).front() == 3);
  // A batch larger than the whole buffer keeps its newest metrics.
  CHECK(buffer.add(batch_of(100, 15)) == 15);
  CHECK(buffer.size() == 10);
  CHECK(values(buffer.take(10)) ==
        std::vector<int64_t>{105, 106, 107, 108, 109, 110, 111, 112, 113, 114});
}

TEST_CASE("metrics dropped during a write are not removed twice") {
  MemoryBuffer buffer(10);
  buffer.add(batch_of(0, 10));
  BufferLease lease = buffer.take(4);  // 0..3 being written
  buffer.add(batch_of(10, 6));         // drops 0..5 meanwhile
  buffer.remove(lease);                // 0..3 are gone already
  CHECK(buffer.size() == 10);
  CHECK(values(buffer.take(10)).front() == 6);
  // The lease's metrics stay valid while it is held.
  CHECK(values(lease) == std::vector<int64_t>{0, 1, 2, 3});
}

TEST_CASE("take_after lends what follows a lease still out, across batches and past drops") {
  MemoryBuffer buffer(12);
  buffer.add(batch_of(0, 5));
  buffer.add(batch_of(5, 5));
  BufferLease first = buffer.take(3);
  BufferLease second = buffer.take_after(first, 3);
  CHECK(values(second) == std::vector<int64_t>{3, 4, 5});  // gathered from two batches
  CHECK(second.first_seq == 3);
  BufferLease third = buffer.take_after(second, 10);
  CHECK(values(third) == std::vector<int64_t>{6, 7, 8, 9});
  CHECK(buffer.take_after(third, 10).empty());
  // Inside one batch the span is lent without copying.
  CHECK(third.keep_alive.get() != nullptr);
  CHECK(third.metrics.data() == third.keep_alive->data() + 1);
  // Removed in the order taken, each takes its own metrics out.
  buffer.remove(first);
  CHECK(buffer.size() == 7);
  buffer.remove(second);
  CHECK(values(buffer.take(10)) == std::vector<int64_t>{6, 7, 8, 9});
  // Metrics dropped while leases are out are skipped by the next lease.
  buffer.add(batch_of(10, 13));  // 17 into 12 places: 6..10 dropped
  BufferLease after_drop = buffer.take_after(third, 3);
  CHECK(values(after_drop) == std::vector<int64_t>{11, 12, 13});
  CHECK(after_drop.first_seq == 11);
}

TEST_CASE("batches only the buffer holds are merged, not copied, when a lease spans them") {
  MemoryBuffer buffer(100);
  buffer.add(batch_of(0, 3));
  buffer.add(batch_of(3, 3));
  buffer.add(batch_of(6, 4));
  BufferLease lease = buffer.take(5);
  CHECK(values(lease) == std::vector<int64_t>{0, 1, 2, 3, 4});
  // The merged batch is now the front: taking again lends the same metrics in place.
  BufferLease again = buffer.take(5);
  CHECK(again.metrics.data() == lease.metrics.data());
  buffer.remove(lease);
  CHECK(buffer.size() == 5);
  CHECK(values(buffer.take(10)) == std::vector<int64_t>{5, 6, 7, 8, 9});
}

TEST_CASE("a batch someone else still holds is copied from, never moved out of") {
  MemoryBuffer buffer(100);
  SharedBatch held = batch_of(0, 3);  // as another output's buffer would hold it
  buffer.add(held);
  buffer.add(batch_of(3, 3));
  CHECK(values(buffer.take(5)) == std::vector<int64_t>{0, 1, 2, 3, 4});
  BufferLease whole{std::span<const Metric>(held->data(), held->size()), 0, held};
  CHECK(values(whole) == std::vector<int64_t>{0, 1, 2});
}
