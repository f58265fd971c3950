// A probe for the metric model's layout: what building a metric on one thread, reading it on
// another and freeing it costs, for sluice::Metric and for a compact layout that keeps a
// metric's strings and values in one block. Both parse the same line protocol (cpu_lines.hpp,
// as listener_bench sends) with the same parser; the reader touches every name, key and value
// as a serializer would start to. Prints CPU per metric of both threads together; asserts
// nothing. The compact layout is a sketch for this measurement, not the agent's.
//
//   metric_layout_bench [rounds=30]
#include <time.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cpu_lines.hpp"
#include "lineproto/parser.hpp"

using namespace sluice;

namespace {

constexpr size_t kBatch = 8192;  // socket_listener's burst

// [tag count][field count][name length: 2] then per tag [key length: 2][value length: 2], per
// field [key length: 2][type], then the 8-byte values, then the characters.
struct CompactMetric {
  std::unique_ptr<char[]> block;
  int64_t time = 0;
};

uint16_t u16(size_t n) { return static_cast<uint16_t>(n); }

void build_compact(const lineproto::MetricView& view, CompactMetric& metric) {
  size_t chars = view.name.size();
  for (const auto& t : view.tags) chars += t.key.size() + t.value.size();
  for (const auto& f : view.fields) chars += f.key.size();
  const size_t head = 4 + view.tags.size() * 4 + view.fields.size() * 3;
  metric.block.reset(new char[head + view.fields.size() * 8 + chars]);
  char* h = metric.block.get();
  char* values = h + head;
  char* s = values + view.fields.size() * 8;
  auto put16 = [](char* at, size_t n) {
    const uint16_t v = u16(n);
    std::memcpy(at, &v, 2);
  };
  h[0] = static_cast<char>(view.tags.size());
  h[1] = static_cast<char>(view.fields.size());
  put16(h + 2, view.name.size());
  h += 4;
  std::memcpy(s, view.name.data(), view.name.size());
  s += view.name.size();
  for (const auto& t : view.tags) {
    put16(h, t.key.size());
    put16(h + 2, t.value.size());
    h += 4;
    std::memcpy(s, t.key.data(), t.key.size());
    s += t.key.size();
    std::memcpy(s, t.value.data(), t.value.size());
    s += t.value.size();
  }
  for (const auto& f : view.fields) {
    put16(h, f.key.size());
    h[2] = static_cast<char>(f.type);
    h += 3;
    std::memcpy(s, f.key.data(), f.key.size());
    s += f.key.size();
    std::memcpy(values, &f.float_value, 8);  // the union's 8 bytes, whatever the type
    values += 8;
  }
  metric.time = view.time;
}

uint64_t read_compact(const CompactMetric& metric) {
  const char* h = metric.block.get();
  const int tags = h[0];
  const int fields = h[1];
  auto get16 = [](const char* at) {
    uint16_t v;
    std::memcpy(&v, at, 2);
    return static_cast<size_t>(v);
  };
  const char* values = h + 4 + tags * 4 + fields * 3;
  const char* s = values + fields * 8;
  size_t name = get16(h + 2);
  uint64_t sum = name + static_cast<unsigned char>(s[0]);
  s += name;
  h += 4;
  for (int i = 0; i < tags; ++i, h += 4) {
    sum += static_cast<unsigned char>(s[0]) + static_cast<unsigned char>(s[get16(h)]);
    s += get16(h) + get16(h + 2);
  }
  for (int i = 0; i < fields; ++i, h += 3) {
    uint64_t v;
    std::memcpy(&v, values + 8 * i, 8);
    sum += static_cast<unsigned char>(s[0]) + v + static_cast<unsigned char>(h[2]);
    s += get16(h);
  }
  return sum + static_cast<uint64_t>(metric.time);
}

uint64_t read_metric(const Metric& metric) {
  uint64_t sum = metric.name().size() + static_cast<unsigned char>(metric.name()[0]);
  for (const TagRef t : metric.tags()) {
    sum += static_cast<unsigned char>(t.key[0]) + static_cast<unsigned char>(t.value[0]);
  }
  for (const FieldRef f : metric.fields()) {
    sum += static_cast<unsigned char>(f.key[0]) + f.value.index();
    if (const auto* d = std::get_if<double>(&f.value)) sum += static_cast<uint64_t>(*d);
  }
  return sum + static_cast<uint64_t>(metric.time());
}

double thread_cpu() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Batches from the building thread to the reading one, at most four in flight.
template <typename M>
class Handoff {
 public:
  void push(std::vector<M>&& batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < 4; });
    queue_.push_back(std::move(batch));
    changed_.notify_all();
  }
  bool pop(std::vector<M>& batch) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return false;
    batch = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    return true;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::vector<M>> queue_;
  bool closed_ = false;
};

// Nanoseconds of CPU per metric: parse and build on this thread, read and free on another.
template <typename M, typename Build, typename Read>
double measure(const std::string& input, size_t rounds, Build build, Read read) {
  Handoff<M> handoff;
  double reader_cpu = 0;
  uint64_t checksum = 0;
  std::thread reader([&] {
    const double start = thread_cpu();
    std::vector<M> batch;
    while (handoff.pop(batch)) {
      for (const M& m : batch) checksum += read(m);
      batch = std::vector<M>();  // freed here, as an output frees what it wrote
    }
    reader_cpu = thread_cpu() - start;
  });
  const double start = thread_cpu();
  lineproto::Parser parser;
  size_t metrics = 0;
  std::vector<M> batch;
  batch.reserve(kBatch);
  for (size_t r = 0; r < rounds; ++r) {
    parser.visit(input, [&](const lineproto::MetricView& view) {
      build(view, batch);
      ++metrics;
      if (batch.size() == kBatch) {
        handoff.push(std::move(batch));
        batch = std::vector<M>();
        batch.reserve(kBatch);
      }
    });
  }
  handoff.push(std::move(batch));
  handoff.close();
  const double builder_cpu = thread_cpu() - start;
  reader.join();
  if (checksum == 42) std::printf(" ");  // keeps the reads
  return (builder_cpu + reader_cpu) * 1e9 / static_cast<double>(metrics);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t rounds = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 30;
  const std::string input = bench::cpu_lines(100'000);
  std::printf("metric_layout_bench: %zu metrics of 3 tags and 5 fields, batches of %zu\n",
              rounds * 100'000, kBatch);
  for (int run = 0; run < 3; ++run) {
    const double model = measure<Metric>(
        input, rounds,
        [](const lineproto::MetricView& view, Batch& batch) { view.append_to(batch); },
        read_metric);
    const double compact = measure<CompactMetric>(
        input, rounds,
        [](const lineproto::MetricView& view, std::vector<CompactMetric>& batch) {
          build_compact(view, batch.emplace_back());
        },
        read_compact);
    std::printf(
        "parse, build, read on another thread, free: sluice::Metric %.0f ns, compact block "
        "%.0f ns per metric\n",
        model, compact);
  }
  return 0;
}
