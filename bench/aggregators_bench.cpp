// Aggregator cost per metric: basicstats and quantile (t-digest) fed 1M metrics, with one series,
// with 10k series in one instance, and with 10k instances of one series each (the host's
// arrangement: one instance per series and window). Also the t-digest alone, and the heap held
// per series. Prints figures; judges nothing.
#include <malloc.h>
#include <time.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "aggregators/quantile/tdigest.hpp"
#include "config/option_reader.hpp"
#include "pipeline/aggregation_windows.hpp"
#include "plugin/registry.hpp"

namespace {

using namespace sluice;

// CPU time of this process: on a shared machine, wall time would count the other processes.
double cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

constexpr size_t kValues = 1'000'000;
constexpr size_t kSeries = 10'000;

class QuietLogger final : public Logger {
 public:
  void log(LogLevel, std::string_view) override {}
  bool enabled(LogLevel) const override { return false; }
};

class CountingAccumulator final : public Accumulator {
 public:
  void add(Metric) override { ++count; }
  void add_error(std::string_view) override {}
  int64_t time() const override { return 1'700'000'000'000'000'000; }
  size_t count = 0;
};

struct Factory {
  const plugin::PluginInfo* info;
  Options options;
  QuietLogger log;

  Factory(const char* name, const char* yaml)
      : info(plugin::Registry::builtins().find(plugin::Kind::kAggregator, name)),
        options(config::read_options(YAML::Load(yaml), info->options, "bench", name).options) {}
  std::unique_ptr<Aggregator> make() { return info->create_aggregator({options, log}); }
};

// Series like the cpu input's: cpu,cpu=cpuN,host=hostM usage_idle=...
std::vector<Metric> make_series(size_t n) {
  std::vector<Metric> series;
  for (size_t i = 0; i < n; ++i) {
    Metric m("cpu", 0, ValueType::kGauge);
    m.set_tag("cpu", "cpu" + std::to_string(i % 64));
    m.set_tag("host", "host-" + std::to_string(i / 64) + ".example.net");
    m.append_field("usage_idle", 0.0);
    series.push_back(std::move(m));
  }
  return series;
}

size_t heap_in_use() { return mallinfo2().uordblks; }

struct Result {
  double ns_per_add;
  double bytes_per_series;
  size_t pushed;
};

// Feeds kValues metrics round-robin over `series`, to one instance or one per series.
Result run(Factory& factory, std::vector<Metric>& series, bool instance_per_series) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> dist(0, 100);
  std::vector<double> values(kValues);
  for (double& v : values) v = dist(rng);

  size_t heap_before = heap_in_use();
  std::vector<std::unique_ptr<Aggregator>> instances;
  if (instance_per_series) {
    for (size_t i = 0; i < series.size(); ++i) instances.push_back(factory.make());
  } else {
    instances.push_back(factory.make());
  }
  double start = cpu_ns();
  for (size_t i = 0; i < kValues; ++i) {
    size_t s = i % series.size();
    Metric& m = series[s];
    m.mutable_fields()[0].value = values[i];
    m.set_time(1'700'000'000'000'000'000 + static_cast<int64_t>(i) * 1000);
    instances[instance_per_series ? s : 0]->add(m);
  }
  double elapsed = cpu_ns() - start;
  size_t heap_after = heap_in_use();
  CountingAccumulator acc;
  for (auto& a : instances) a->push(acc);
  return Result{elapsed / kValues,
                static_cast<double>(heap_after - heap_before) / static_cast<double>(series.size()),
                acc.count};
}

void report(const char* name, const char* yaml) {
  Factory factory(name, yaml);
  for (size_t n : {size_t{1}, kSeries}) {
    std::vector<Metric> series = make_series(n);
    for (bool per_series : {false, true}) {
      if (n == 1 && per_series) continue;
      Result r = run(factory, series, per_series);
      std::printf("%-26s %6zu series %-22s %8.1f ns/add %10.0f B/series  (%zu aggregates)\n",
                  (std::string(name) + " " + yaml).c_str(), n,
                  per_series ? "one instance each" : "in one instance", r.ns_per_add,
                  r.bytes_per_series, r.pushed);
    }
  }
}

// The metrics fed to the host's path: either the same 10k metric objects over and over (cold in
// the cache by the time a series comes round again), or, as in the pipeline, fresh batches of
// 1000 built just before they are added (the building is not timed).
enum class Feed { kReused, kFreshBatches };

// Times `add(metric, now)` over kValues metrics round-robin over 10k series, one 10 s window.
template <typename Add>
double time_adds(std::vector<Metric>& series, Feed feed, Add add) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(0, 100);
  std::vector<double> values(kValues);
  for (double& v : values) v = dist(rng);
  constexpr int64_t kStart = 1'700'000'000'000'000'000;  // a multiple of 10 s
  constexpr size_t kBatch = 1000;
  double elapsed = 0;
  std::vector<Metric> batch;
  for (size_t from = 0; from < kValues; from += kBatch) {
    const size_t to = std::min(kValues, from + kBatch);
    if (feed == Feed::kFreshBatches) {
      batch.clear();
      for (size_t i = from; i < to; ++i) {
        Metric m = series[i % series.size()];
        m.mutable_fields()[0].value = values[i];
        m.set_time(kStart + static_cast<int64_t>(i) * 1000);
        batch.push_back(std::move(m));
      }
      double start = cpu_ns();
      for (size_t i = from; i < to; ++i) {
        add(batch[i - from], kStart + static_cast<int64_t>(i) * 1000);  // 1 s in all
      }
      elapsed += cpu_ns() - start;
    } else {
      double start = cpu_ns();
      for (size_t i = from; i < to; ++i) {
        Metric& m = series[i % series.size()];
        m.mutable_fields()[0].value = values[i];
        m.set_time(kStart + static_cast<int64_t>(i) * 1000);
        add(m, kStart + static_cast<int64_t>(i) * 1000);
      }
      elapsed += cpu_ns() - start;
    }
  }
  batch = {};
  return elapsed / kValues;
}

const char* feed_name(Feed feed) {
  return feed == Feed::kReused ? "metrics reused (cold)" : "fresh batches of 1000";
}

// The host's arrangement in full: AggregationWindows (the series' hash, its lookup in the
// window's table, one plugin instance per series and window) over 10k series in one window.
void through_windows(const char* name, const char* yaml, Feed feed) {
  Factory factory(name, yaml);
  std::vector<Metric> series = make_series(kSeries);
  pipeline::WindowSettings settings;
  settings.size = settings.every = 10'000'000'000;
  settings.delay = 0;
  size_t heap_before = heap_in_use();
  pipeline::AggregationWindows windows(
      settings, [&] { return factory.make(); }, 1'700'000'000'000'000'000);
  double ns = time_adds(series, feed, [&](const Metric& m, int64_t now) { windows.add(m, now); });
  size_t heap_after = heap_in_use();
  CountingAccumulator acc;
  windows.push_all(acc);
  // At 1M metrics/s in, each ns per metric is 0.1 % of one core.
  std::printf(
      "%-26s %6zu series %-22s %8.1f ns/add %10.0f B/series  (%zu aggregates)  %s, %.1f %% of a "
      "core at 1M metrics/s\n",
      (std::string(name) + " " + yaml).c_str(), kSeries, "through the windows", ns,
      static_cast<double>(heap_after - heap_before) / static_cast<double>(kSeries), acc.count,
      feed_name(feed), ns * 1e6 / 1e9 * 100);
}

// For comparison, the lookup the windows used before: the series key built as a string, then
// found in a std::unordered_map of the instances (the window and bookkeeping left out).
void string_keyed_lookup(const char* name, const char* yaml, Feed feed) {
  Factory factory(name, yaml);
  std::vector<Metric> series = make_series(kSeries);
  struct State {
    std::unique_ptr<Aggregator> aggregator;
    int64_t last_update = 0;
  };
  std::unordered_map<std::string, State> instances;
  std::string key;
  double ns = time_adds(series, feed, [&](const Metric& m, int64_t now) {
    key.assign(m.name());
    for (const TagRef t : m.tags()) {
      key += '\0';
      key += t.key;
      key += '\0';
      key += t.value;
    }
    auto it = instances.find(key);
    if (it == instances.end()) it = instances.emplace(key, State{factory.make(), now}).first;
    it->second.last_update = now;
    it->second.aggregator->add(m);
  });
  std::printf("%-26s %6zu series %-22s %8.1f ns/add  %s\n",
              (std::string(name) + " " + yaml).c_str(), kSeries, "string key + hash map", ns,
              feed_name(feed));
}

void tdigest_alone() {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> dist(0, 100);
  std::vector<double> values(kValues);
  for (double& v : values) v = dist(rng);
  aggregators::quantile::TDigest digest(100);
  double start = cpu_ns();
  for (double v : values) digest.add(v);
  double q = digest.quantile(0.5);
  double elapsed = cpu_ns() - start;
  std::printf("%-26s %zu values: %.1f ns/add, %zu centroids, median %.3f\n", "t-digest alone",
              kValues, elapsed / kValues, digest.centroid_count(), q);
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("%zu metrics per run (one float field each), CPU time; build type %s\n", kValues,
              SLUICE_BUILD_TYPE);
  // `aggregators_bench windows`: only the host's path, to profile it alone.
  if (argc > 1 && std::string(argv[1]) == "windows") {
    for (Feed feed : {Feed::kReused, Feed::kFreshBatches}) {
      string_keyed_lookup("basicstats", "{}", feed);
      through_windows("basicstats", "{}", feed);
      through_windows("quantile", "{}", feed);
    }
    return 0;
  }
  report("basicstats", "{}");
  report("basicstats", "{stats: [count, mean, rate, last]}");
  report("quantile", "{}");
  report("quantile", "{algorithm: exact R7}");
  tdigest_alone();
  for (Feed feed : {Feed::kReused, Feed::kFreshBatches}) {
    string_keyed_lookup("basicstats", "{}", feed);
    through_windows("basicstats", "{}", feed);
    through_windows("quantile", "{}", feed);
  }
  return 0;
}
