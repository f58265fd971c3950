// dedup: drops metrics whose field values have not changed since the series last passed, for
// up to dedup_interval of metric time, as Telegraf's dedup processor.
#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plugin/registry.hpp"

namespace sluice::processors::dedup {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"dedup_interval", OptionType::kDuration, "10m",
     "A metric whose fields are unchanged passes again once this much metric time has gone by"},
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// What passed last for one series: each field's value and the metric time it passed at.
struct Series {
  struct Seen {
    std::string key;
    FieldValue value;
    int64_t time = 0;
  };
  std::vector<Seen> fields;
  int64_t newest = 0;  // the latest time any field passed

  Seen* find(std::string_view key) {
    for (Seen& s : fields) {
      if (s.key == key) return &s;
    }
    return nullptr;
  }
};

class Dedup final : public Processor {
 public:
  explicit Dedup(const Options& options)
      : interval_(options.get_duration("dedup_interval").count()) {
    if (interval_ <= 0) throw OptionError("dedup_interval", "dedup_interval must be more than 0");
  }

  Batch process(Batch batch) override {
    size_t kept = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      Metric& m = batch[i];
      if (m.time() > newest_) newest_ = m.time();
      if (passes(m)) {
        if (kept != i) batch[kept] = std::move(m);
        ++kept;
      }
    }
    batch.resize(kept);
    if (newest_ - last_cleanup_ >= interval_) cleanup();
    return batch;
  }

 private:
  // A metric passes when any of its fields is new to the series, has another value than the
  // one that passed last (a different type counts as different), or last passed
  // dedup_interval ago or more. A passing metric updates what the series remembers.
  bool passes(const Metric& m) {
    series_key(m);
    auto it = cache_.find(std::string_view(key_));
    if (it == cache_.end()) it = cache_.emplace(key_, Series{}).first;
    Series& s = it->second;
    bool pass = s.fields.empty();
    for (const FieldRef f : m.fields()) {
      if (pass) break;
      Series::Seen* seen = s.find(f.key);
      pass = seen == nullptr || !(seen->value == f.value) || m.time() - seen->time >= interval_;
    }
    if (!pass) return false;
    for (const FieldRef f : m.fields()) {
      if (Series::Seen* seen = s.find(f.key)) {
        seen->value = f.value;
        seen->time = m.time();
      } else {
        s.fields.push_back({std::string(f.key), f.value, m.time()});
      }
    }
    if (m.time() > s.newest) s.newest = m.time();
    return true;
  }

  void series_key(const Metric& m) {
    key_.clear();
    key_ += m.name();
    for (const TagRef t : m.tags()) {
      key_ += '\0';
      key_ += t.key;
      key_ += '\0';
      key_ += t.value;
    }
  }

  // Forgets series that have not passed for dedup_interval: their next metric passes anyway.
  void cleanup() {
    std::erase_if(cache_, [&](const auto& kv) { return newest_ - kv.second.newest >= interval_; });
    last_cleanup_ = newest_;
  }

  int64_t interval_;
  std::unordered_map<std::string, Series, StringHash, std::equal_to<>> cache_;
  std::string key_;
  int64_t newest_ = INT64_MIN;  // the latest metric time seen
  int64_t last_cleanup_ = INT64_MIN / 2;
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "dedup";
  info.description = "Drop metrics whose values did not change within dedup_interval";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<Dedup>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::dedup
