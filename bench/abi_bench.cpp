// The cost of the plugin ABI boundary: one pass-through processor (abi_passthrough.hpp) as a
// built-in; as a shared object through the C++ SDK, as the same class (a sluice::Processor, which
// works on copies) and as a sluice::sdk::ViewProcessor (which works in place); and, for the
// boundary's own floor, written against the C ABI alone. In ns per metric:
//   - the processor stage alone: Processor::process on batches, as the processing thread calls
//     it (the batch handed back is handed in again, so no metric is made or freed), in the
//     thread's CPU time;
//   - through the agent: each batch also made as an input makes it and freed as an output frees
//     it, which every metric costs whatever the processor; one thread, its CPU time. (The
//     threads' hand-overs, which pipeline_bench measures, cost the same for every variant, but
//     on a shared machine their scheduling noise would swamp the difference.)
// Each figure is the best of 3 runs. Metrics are shaped like the cpu input's: 3 tags, 10 fields.
//
//   abi_bench [metrics=2000000] [batch=1000]
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "abi_passthrough.hpp"
#include "plugin/loader.hpp"
#include "plugin/registry.hpp"

using namespace sluice;

namespace {

class NullLogger final : public Logger {
 public:
  void log(LogLevel, std::string_view) override {}
  bool enabled(LogLevel) const override { return false; }
};

const plugin::Registry& bench_registry() {
  static const plugin::Registry registry = [] {
    plugin::PluginSet set =
        plugin::load_plugins({SLUICE_ABI_BENCH_PLUGIN_DIR}, plugin::LoadErrorPolicy::kError);
    plugin::Registry r = *set.registry;
    plugin::PluginInfo builtin;
    builtin.kind = plugin::Kind::kProcessor;
    builtin.name = "passthrough";
    builtin.description = "Passes metrics on, built in";
    builtin.create_processor = [](const PluginContext&) {
      return std::make_unique<abi_bench::PassThrough>();
    };
    r.add(builtin);
    return r;
  }();
  return registry;
}

Metric sample_metric() {
  Metric sample("cpu", 1'700'000'000'000'000'000);
  sample.set_tag("cpu", "cpu0");
  sample.set_tag("host", "bench-host");
  sample.set_tag("region", "eu-west");
  for (const char* f :
       {"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait", "usage_irq",
        "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}) {
    sample.set_field(f, 1.5);
  }
  return sample;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// ns per metric of the processor stage alone.
double stage_ns(const std::string& name, size_t total, size_t batch_size) {
  const plugin::PluginInfo* info = bench_registry().find(plugin::Kind::kProcessor, name);
  Options options;
  NullLogger log;
  auto processor = info->create_processor(PluginContext{options, log});
  Batch batch(batch_size, sample_metric());
  for (int i = 0; i < 10; ++i) batch = processor->process(std::move(batch));  // warm up
  size_t rounds = total / batch_size;
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    // CPU time, not wall time: the machine may be shared.
    double start = thread_cpu_seconds();
    for (size_t i = 0; i < rounds; ++i) batch = processor->process(std::move(batch));
    double seconds = thread_cpu_seconds() - start;
    best = std::min(best, seconds * 1e9 / double(rounds * batch_size));
  }
  if (batch.size() != batch_size) std::printf("  (%s lost metrics!)\n", name.c_str());
  return best;
}

// ns per metric through the agent, without its threads: each batch made as an input makes it,
// processed, and freed as an output frees it once written. The making and freeing are the same
// for every variant; what differs is the processor.
double through_ns(const std::string& name, size_t total, size_t batch_size) {
  const plugin::PluginInfo* info = bench_registry().find(plugin::Kind::kProcessor, name);
  Options options;
  NullLogger log;
  auto processor = info->create_processor(PluginContext{options, log});
  Metric sample = sample_metric();
  for (int i = 0; i < 10; ++i) processor->process(Batch(batch_size, sample));  // warm up
  size_t rounds = total / batch_size;
  double best = 1e30;
  for (int run = 0; run < 3; ++run) {
    double start = thread_cpu_seconds();
    size_t passed = 0;
    for (size_t i = 0; i < rounds; ++i) {
      Batch out = processor->process(Batch(batch_size, sample));
      passed += out.size();
    }
    double seconds = thread_cpu_seconds() - start;
    if (passed != rounds * batch_size) std::printf("  (%s lost metrics!)\n", name.c_str());
    best = std::min(best, seconds * 1e9 / double(rounds * batch_size));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  size_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  size_t batch_size = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  // As pipeline_bench: keep freed memory, so that page faults do not swamp what is measured.
  mallopt(M_TRIM_THRESHOLD, 512 << 20);

  std::printf("abi_bench: %zu metrics (3 tags, 10 fields) in batches of %zu, best of 3 (%s)\n",
              total, batch_size, SLUICE_BUILD_TYPE);
  constexpr int kVariants = 4;
  const char* names[kVariants] = {"passthrough", "passthrough_so", "passthrough_view",
                                  "passthrough_c"};
  const char* labels[kVariants] = {"built-in", ".so, Processor", ".so, ViewProcessor",
                                   ".so, C ABI only"};
  double stage[kVariants] = {}, whole[kVariants] = {};
  for (int i = 0; i < kVariants; ++i) stage[i] = stage_ns(names[i], total, batch_size);
  for (int i = 0; i < kVariants; ++i) whole[i] = through_ns(names[i], total, batch_size);
  std::printf("  %-18s %20s %22s\n", "pass-through", "stage ns/metric", "through ns/metric");
  for (int i = 0; i < kVariants; ++i) {
    std::printf("  %-18s %10.1f (%6.1fx) %14.1f (%5.2fx)\n", labels[i], stage[i],
                stage[i] / stage[0], whole[i], whole[i] / whole[0]);
  }
  std::printf("  target: a .so under 2x the built-in, per metric through the agent\n");
  return 0;
}
