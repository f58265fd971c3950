#include "processors/topk/topk.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/glob.hpp"
#include "plugin/registry.hpp"

namespace sluice::processors::topk {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"period", OptionType::kDuration, "10s", "How often the top series are chosen and emitted"},
    {"k", OptionType::kInt, "10", "How many groups to emit per field"},
    {"group_by", OptionType::kStringList, "['*']",
     "Tags (globs) that make up a group with the measurement name; [] groups by name only"},
    {"fields", OptionType::kStringList, "[value]",
     "Fields to rank by; each ranking emits its own top k groups"},
    {"aggregation", OptionType::kString, "mean",
     "How a group's values of a field are combined: sum, mean, min or max"},
    {"bottomk", OptionType::kBool, "false", "Emit the k lowest groups instead of the highest"},
    {"add_groupby_tag", OptionType::kString, "",
     "If set, a tag of this name carries the group's key on each emitted metric"},
    {"add_rank_fields", OptionType::kStringList, "",
     "Fields whose rank is added as a field named FIELD_topk_rank"},
    {"add_aggregate_fields", OptionType::kStringList, "",
     "Fields whose aggregate is added as a field named FIELD_topk_aggregate"},
};

enum class Aggregation { kSum, kMean, kMin, kMax };

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Group {
  std::string key;
  std::vector<Metric> metrics;
};

bool numeric(const FieldValue& v, double& out) {
  switch (v.index()) {
    case 0:
      out = std::get<double>(v);
      return true;
    case 1:
      out = static_cast<double>(std::get<int64_t>(v));
      return true;
    case 2:
      out = static_cast<double>(std::get<uint64_t>(v));
      return true;
    default:
      return false;
  }
}

class TopK final : public Processor {
 public:
  TopK(const Options& options, Logger& log, std::function<int64_t()> now)
      : period_(options.get_duration("period").count()),
        k_(options.get_int("k")),
        group_by_(options.get_strings("group_by")),
        fields_(options.get_strings("fields")),
        bottomk_(options.get_bool("bottomk")),
        groupby_tag_(options.get_string("add_groupby_tag")),
        log_(log),
        now_(std::move(now)) {
    if (period_ <= 0) throw OptionError("period", "period must be more than 0");
    if (k_ < 1) throw OptionError("k", "k must be 1 or more");
    if (fields_.empty()) throw OptionError("fields", "give at least one field to rank by");
    const std::string& a = options.get_string("aggregation");
    if (a == "sum") {
      aggregation_ = Aggregation::kSum;
    } else if (a == "mean") {
      aggregation_ = Aggregation::kMean;
    } else if (a == "min") {
      aggregation_ = Aggregation::kMin;
    } else if (a == "max") {
      aggregation_ = Aggregation::kMax;
    } else {
      throw OptionError("aggregation",
                        "aggregation must be sum, mean, min or max, not \"" + a + "\"");
    }
    for (const std::string& f : options.get_strings("add_rank_fields")) rank_fields_.push_back(f);
    for (const std::string& f : options.get_strings("add_aggregate_fields")) {
      aggregate_fields_.push_back(f);
    }
  }

  Batch process(Batch batch) override {
    // Only a batch that brings metrics can close the period, as only an arriving metric does in
    // Telegraf.
    if (batch.empty()) return batch;
    int64_t now = now_();
    if (!started_) {
      started_ = true;
      last_ = now;
    }
    for (Metric& m : batch) add(std::move(m));
    batch.clear();
    if (now - last_ < period_) return batch;
    last_ = now;
    return emit();
  }

 private:
  void add(Metric m) {
    key_ = m.name();
    key_ += '&';
    if (!group_by_.empty()) {
      for (const TagRef t : m.tags()) {
        if (!group_by_.matches(t.key)) continue;
        key_ += t.key;
        key_ += '=';
        key_ += t.value;
        key_ += '&';
      }
    }
    auto it = index_.find(std::string_view(key_));
    if (it == index_.end()) {
      it = index_.emplace(key_, groups_.size()).first;
      groups_.push_back(Group{key_, {}});
    }
    groups_[it->second].metrics.push_back(std::move(m));
  }

  // The aggregate of a field over a group; NaN when no metric of the group has it as a number.
  double aggregate(const Group& g, const std::string& field) const {
    double acc = 0;
    size_t count = 0;
    for (const Metric& m : g.metrics) {
      const FieldValue* v = m.field(field);
      double x = 0;
      if (v == nullptr || !numeric(*v, x)) continue;
      switch (aggregation_) {
        case Aggregation::kSum:
        case Aggregation::kMean:
          acc += x;
          break;
        case Aggregation::kMin:
          acc = count == 0 ? x : std::min(acc, x);
          break;
        case Aggregation::kMax:
          acc = count == 0 ? x : std::max(acc, x);
          break;
      }
      ++count;
    }
    if (count == 0) return std::nan("");
    return aggregation_ == Aggregation::kMean ? acc / static_cast<double>(count) : acc;
  }

  Batch emit() {
    Batch out;
    std::vector<bool> emitted(groups_.size(), false);
    std::vector<double> values(groups_.size());
    std::vector<size_t> order;
    std::vector<size_t> emission;
    for (const std::string& field : fields_) {
      order.clear();
      for (size_t i = 0; i < groups_.size(); ++i) {
        values[i] = aggregate(groups_[i], field);
        // Groups without the field take no part in its ranking.
        if (!std::isnan(values[i])) order.push_back(i);
      }
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return bottomk_ ? values[a] < values[b] : values[a] > values[b];
      });
      if (order.size() > static_cast<size_t>(k_)) order.resize(static_cast<size_t>(k_));
      bool add_rank =
          std::find(rank_fields_.begin(), rank_fields_.end(), field) != rank_fields_.end();
      bool add_aggregate = std::find(aggregate_fields_.begin(), aggregate_fields_.end(), field) !=
                           aggregate_fields_.end();
      for (size_t rank = 0; rank < order.size(); ++rank) {
        Group& g = groups_[order[rank]];
        for (Metric& m : g.metrics) {
          if (m.field(field) == nullptr) continue;
          if (add_aggregate) m.set_field(field + "_topk_aggregate", values[order[rank]]);
          if (add_rank) m.set_field(field + "_topk_rank", static_cast<int64_t>(rank + 1));
        }
        if (!emitted[order[rank]]) emission.push_back(order[rank]);
        emitted[order[rank]] = true;
      }
    }
    // Groups come out in rank order of the first field, then those that only later fields
    // chose; each group's metrics in arrival order, each metric once.
    for (size_t i : emission) {
      for (Metric& m : groups_[i].metrics) {
        if (!groupby_tag_.empty()) m.set_tag(groupby_tag_, groups_[i].key);
        out.push_back(std::move(m));
      }
    }
    groups_.clear();
    index_.clear();
    return out;
  }

  int64_t period_;
  int64_t k_;
  core::GlobSet group_by_;
  std::vector<std::string> fields_;
  Aggregation aggregation_ = Aggregation::kMean;
  bool bottomk_;
  std::string groupby_tag_;
  std::vector<std::string> rank_fields_, aggregate_fields_;
  Logger& log_;
  std::function<int64_t()> now_;

  bool started_ = false;
  int64_t last_ = 0;
  std::vector<Group> groups_;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> index_;
  std::string key_;
};

int64_t steady_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::unique_ptr<Processor> make_topk(const Options& options, Logger& log,
                                     std::function<int64_t()> now_ns) {
  return std::make_unique<TopK>(options, log, std::move(now_ns));
}

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "topk";
  info.description = "Keep the top K series per period by an aggregation of a field";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return make_topk(ctx.options, ctx.log, steady_now);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::topk
