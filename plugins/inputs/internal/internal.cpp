// The agent's own counters, so sluice can be watched through itself.
#include <unistd.h>

#include <charconv>

#include "core/host_paths.hpp"
#include "pipeline/stats.hpp"
#include "plugin/registry.hpp"

namespace sluice::inputs::internal {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"collect_memstats", OptionType::kBool, "true",
     "Also report the agent's memory (internal_memstats)"},
};

using pipeline::PluginStats;

uint64_t load(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

// Resident and virtual size from /proc/self/statm (pages).
bool memory_usage(uint64_t& rss_bytes, uint64_t& vms_bytes) {
  std::string text;
  if (!core::read_file("/proc/self/statm", text)) return false;
  uint64_t pages_vms = 0, pages_rss = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  auto r1 = std::from_chars(p, end, pages_vms);
  if (r1.ec != std::errc()) return false;
  auto r2 = std::from_chars(r1.ptr + 1, end, pages_rss);
  if (r2.ec != std::errc()) return false;
  uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  rss_bytes = pages_rss * page;
  vms_bytes = pages_vms * page;
  return true;
}

class Internal final : public Input {
 public:
  explicit Internal(const Options& options) : memstats_(options.get_bool("collect_memstats")) {}

  void gather(Accumulator& acc) override {
    uint64_t gathered = 0, written = 0, dropped = 0, errors = 0;
    for (const auto& s : pipeline::StatsRegistry::global().snapshot()) {
      Metric m("", 0);
      std::string kind_tag(plugin::kind_name(s->kind));
      m.set_tag(kind_tag, s->name);
      if (!s->alias.empty()) m.set_tag("alias", s->alias);
      switch (s->kind) {
        case plugin::Kind::kInput:
          m.set_name("internal_gather");
          m.set_field("metrics_gathered", load(s->metrics_gathered));
          m.set_field("gather_time_ns", load(s->gather_time_ns));
          m.set_field("gathers_skipped", load(s->gathers_skipped));
          m.set_field("errors", load(s->gather_errors));
          m.set_field("metrics_rejected", load(s->metrics_rejected));
          gathered += load(s->metrics_gathered);
          errors += load(s->gather_errors);
          break;
        case plugin::Kind::kOutput:
          m.set_name("internal_write");
          m.set_field("metrics_written", load(s->metrics_written));
          m.set_field("metrics_dropped", load(s->metrics_dropped));
          m.set_field("metrics_rejected", load(s->metrics_rejected));
          m.set_field("buffer_size", load(s->buffer_size));
          m.set_field("buffer_limit", load(s->buffer_limit));
          m.set_field("write_time_ns", load(s->write_time_ns));
          m.set_field("retries", load(s->retries));
          m.set_field("errors", load(s->write_errors));
          written += load(s->metrics_written);
          dropped += load(s->metrics_dropped);
          errors += load(s->write_errors);
          break;
        case plugin::Kind::kProcessor:
          m.set_name("internal_process");
          m.set_field("metrics_in", load(s->metrics_in));
          m.set_field("metrics_out", load(s->metrics_out));
          m.set_field("metrics_dropped", load(s->metrics_dropped));
          break;
        case plugin::Kind::kAggregator:
          m.set_name("internal_aggregate");
          m.set_field("metrics_in", load(s->metrics_in));
          m.set_field("metrics_pushed", load(s->metrics_out));
          m.set_field("metrics_dropped", load(s->metrics_dropped));
          m.set_field("metrics_too_far_ahead", load(s->metrics_too_far_ahead));
          m.set_field("series_evicted", load(s->series_evicted));
          break;
        case plugin::Kind::kSerializer:
        case plugin::Kind::kParser:
          continue;
      }
      m.set_field("metrics_filtered", load(s->metrics_filtered));
      acc.add(std::move(m));
    }
    Metric agent("internal_agent", 0);
    agent.set_tag("version", SLUICE_VERSION);
    agent.set_field("metrics_gathered", gathered);
    agent.set_field("metrics_written", written);
    agent.set_field("metrics_dropped", dropped);
    agent.set_field("errors", errors);
    acc.add(std::move(agent));
    if (memstats_) {
      uint64_t rss = 0, vms = 0;
      if (memory_usage(rss, vms)) {
        Metric mem("internal_memstats", 0);
        mem.set_field("rss_bytes", rss);
        mem.set_field("vms_bytes", vms);
        acc.add(std::move(mem));
      } else {
        acc.add_error("cannot read /proc/self/statm");
      }
    }
  }

 private:
  bool memstats_;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kInput;
  info.name = "internal";
  info.description = "The agent's own counters per plugin, and its memory";
  info.options = kOptions;
  info.create_input = [](const PluginContext& ctx) {
    return std::make_unique<Internal>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::inputs::internal
