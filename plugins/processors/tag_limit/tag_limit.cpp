// tag_limit: keeps at most `limit` tags on each metric, preferring the tags listed in `keep`,
// as Telegraf's tag_limit processor.
#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "plugin/registry.hpp"

namespace sluice::processors::tag_limit {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"limit", OptionType::kInt, "3", "Most tags a metric may keep"},
    {"keep", OptionType::kStringList, "", "Tags kept in preference to the others"},
};

class TagLimit final : public Processor {
 public:
  explicit TagLimit(const Options& options)
      : limit_(options.get_int("limit")), keep_(options.get_strings("keep")) {
    if (limit_ < 0) throw OptionError("limit", "limit must be 0 or more");
    std::sort(keep_.begin(), keep_.end());
    keep_.erase(std::unique(keep_.begin(), keep_.end()), keep_.end());
    if (static_cast<int64_t>(keep_.size()) > limit_) {
      throw OptionError("keep", "keep lists " + std::to_string(keep_.size()) +
                                    " tags, more than the limit of " + std::to_string(limit_));
    }
  }

  Batch process(Batch batch) override {
    size_t limit = static_cast<size_t>(limit_);
    for (Metric& m : batch) {
      size_t count = m.tags().size();
      if (count <= limit) continue;
      // The tags not in `keep` go, in key order, until the metric is within the limit.
      size_t to_remove = count - limit;
      m.retain_tags([&](const TagRef& t) {
        if (to_remove == 0 || std::binary_search(keep_.begin(), keep_.end(), t.key)) return true;
        --to_remove;
        return false;
      });
    }
    return batch;
  }

 private:
  int64_t limit_;
  std::vector<std::string> keep_;  // sorted
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kProcessor;
  info.name = "tag_limit";
  info.description = "Keep at most a number of tags on each metric";
  info.options = kOptions;
  info.create_processor = [](const PluginContext& ctx) {
    return std::make_unique<TagLimit>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::processors::tag_limit
