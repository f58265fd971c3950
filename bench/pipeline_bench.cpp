// The pipeline's own cost per metric: batches enter as an input would hand them over, pass two
// processors, fan out, wait in the output buffer and are flushed into `discard`. Metrics are
// made before the clock starts, so what is measured is the pipeline, not the generator.
//
//   pipeline_bench [metrics=2000000] [batch=1000]
#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "config/config.hpp"
#include "pipeline/channel.hpp"
#include "pipeline/pipeline.hpp"
#include "plugin/registry.hpp"

using namespace sluice;

namespace {

// Two processors that touch every metric without allocating: the cost measured is the host's.
class CountingProcessor final : public Processor {
 public:
  Batch process(Batch batch) override {
    for (const Metric& m : batch) seen_ += m.fields().size();
    return batch;
  }
  size_t seen_ = 0;
};

class RetimingProcessor final : public Processor {
 public:
  Batch process(Batch batch) override {
    for (Metric& m : batch) m.set_time(m.time() + 1);
    return batch;
  }
};

const plugin::Registry& bench_registry() {
  static const plugin::Registry registry = [] {
    plugin::Registry r;
    plugin::PluginInfo count;
    count.kind = plugin::Kind::kProcessor;
    count.name = "count_fields";
    count.description = "Counts fields";
    count.create_processor = [](const PluginContext&) {
      return std::make_unique<CountingProcessor>();
    };
    r.add(count);
    plugin::PluginInfo retime;
    retime.kind = plugin::Kind::kProcessor;
    retime.name = "retime";
    retime.description = "Moves each timestamp by 1 ns";
    retime.create_processor = [](const PluginContext&) {
      return std::make_unique<RetimingProcessor>();
    };
    r.add(retime);
    r.add(*plugin::Registry::builtins().find(plugin::Kind::kOutput, "discard"));
    return r;
  }();
  return registry;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  size_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  size_t batch_size = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000;
  std::string yaml =
      "agent: {flush_interval: 100ms, metric_batch_size: " + std::to_string(batch_size) +
      ", metric_buffer_limit: " + std::to_string(20 * batch_size) +
      "}\nprocessors:\n  - count_fields: {}\n  - retime: {}\noutputs:\n  - discard: {when_full: block}\n";
  config::Config config = config::load_text(yaml, "bench.yaml", bench_registry());

  // Metrics shaped like the cpu input's: 3 tags, 10 float fields.
  Metric sample("cpu", 1'700'000'000'000'000'000);
  sample.set_tag("cpu", "cpu0");
  sample.set_tag("host", "bench-host");
  sample.set_tag("region", "eu-west");
  for (const char* f : {"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
                        "usage_irq", "usage_softirq", "usage_steal", "usage_guest",
                        "usage_guest_nice"}) {
    sample.set_field(f, 1.5);
  }
  size_t rounds = total / batch_size;
  size_t moved = rounds * batch_size;

  // glibc returns freed memory at the top of the heap to the kernel by default; each new batch
  // would then page-fault it back in, and that cost would swamp what is measured here.
  mallopt(M_TRIM_THRESHOLD, 512 << 20);

  // Baseline: the same batches made on this thread and freed on another, as the pipeline frees
  // them in the output's thread; the other thread's CPU time is what freeing costs. Run twice;
  // the first warms the heap.
  double free_cpu = 0;
  for (int pass = 0; pass < 2; ++pass) {
    pipeline::BatchChannel channel(10 * batch_size);
    std::thread consumer([&] {
      double before = thread_cpu_seconds();
      while (auto b = channel.pop()) {
      }
      free_cpu = thread_cpu_seconds() - before;
    });
    for (size_t i = 0; i < rounds; ++i) channel.push(Batch(batch_size, sample));
    channel.close();
    consumer.join();
  }

  // The pipeline's threads (processing and output) use what the process uses beyond this one.
  pipeline::Pipeline pipeline(config, pipeline::SystemClock::instance(), {}, 10 * batch_size);
  pipeline.start();
  auto& stats = pipeline.outputs()[0]->stats();
  double process_before = process_cpu_seconds();
  double main_before = thread_cpu_seconds();
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < rounds; ++i) pipeline.accept(Batch(batch_size, sample));
  double main_cpu = thread_cpu_seconds() - main_before;
  while (stats.metrics_written + stats.metrics_dropped < moved) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double pipeline_cpu = process_cpu_seconds() - process_before - main_cpu;
  pipeline.stop(pipeline::SystemClock::instance().now() + 1'000'000'000);

  auto per_metric = [&](double seconds) { return seconds * 1e9 / double(moved); };
  std::printf("pipeline: %zu metrics (3 tags, 10 fields) in batches of %zu, 2 processors -> discard\n",
              moved, batch_size);
  std::printf("  pipeline threads' cpu, freeing included: %6.1f ns/metric\n", per_metric(pipeline_cpu));
  std::printf("  of which freeing the metrics (baseline): %6.1f ns/metric\n", per_metric(free_cpu));
  std::printf("  the pipeline's own cost:                 %6.1f ns/metric (target < 100)\n",
              per_metric(pipeline_cpu - free_cpu));
  std::printf("  throughput (metrics made on the fly):    %6.2f M metrics/s, %llu dropped\n",
              double(moved) / wall / 1e6,
              static_cast<unsigned long long>(stats.metrics_dropped.load()));
  return 0;
}
