// quantile: chosen quantiles of every numeric field, per series and window, estimated with a
// t-digest or computed exactly (Hyndman & Fan definitions 7 and 8).
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "aggregators/quantile/tdigest.hpp"
#include "aggregators/series_index.hpp"
#include "plugin/registry.hpp"

namespace sluice::aggregators::quantile {
namespace {

const std::vector<OptionSpec> kOptions = {
    {"quantiles", OptionType::kStringList, "[0.25, 0.5, 0.75]",
     "Quantiles to emit, each in [0, 1]"},
    {"algorithm", OptionType::kString, "t-digest",
     "t-digest (bounded memory, exact up to 4 x compression values), \"exact R7\" or "
     "\"exact R8\" (keep every value of the window)"},
    {"compression", OptionType::kFloat, "100",
     "t-digest compression, at least 1: larger is more accurate, slower and bigger"},
};

enum class Algorithm { kTDigest, kExactR7, kExactR8 };

Algorithm parse_algorithm(const std::string& name) {
  if (name == "t-digest") return Algorithm::kTDigest;
  if (name == "exact R7" || name == "exact_R7") return Algorithm::kExactR7;
  if (name == "exact R8" || name == "exact_R8") return Algorithm::kExactR8;
  throw OptionError("algorithm",
                    "expected t-digest, \"exact R7\" or \"exact R8\", got \"" + name + "\"");
}

struct Quantile {
  double q;
  std::string suffix;  // "_050" for 0.5
};

std::vector<Quantile> parse_quantiles(const std::vector<std::string>& given) {
  // An empty list means the default, as in Telegraf.
  static const std::vector<std::string> kDefault = {"0.25", "0.5", "0.75"};
  std::vector<Quantile> quantiles;
  for (const std::string& text : given.empty() ? kDefault : given) {
    double q = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), q);
    if (ec != std::errc() || end != text.data() + text.size() || !(q >= 0 && q <= 1)) {
      throw OptionError("quantiles", "expected a number from 0 to 1, got \"" + text + "\"");
    }
    // Telegraf's names: the quantile times 100, truncated, in three digits.
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "_%03d", static_cast<int>(q * 100.0));
    for (const Quantile& other : quantiles) {
      if (other.suffix == suffix) {
        throw OptionError("quantiles", "\"" + text + "\" gives the same field name (" + suffix +
                                           ") as an earlier quantile");
      }
    }
    quantiles.push_back(Quantile{q, suffix});
  }
  return quantiles;
}

// Hyndman & Fan's definition 7 (NumPy, Excel): position q(n - 1) from 0.
double exact_r7(const std::vector<double>& sorted, double q) {
  const size_t n = sorted.size();
  const double h = q * static_cast<double>(n - 1);
  const size_t j = static_cast<size_t>(h);
  if (j + 1 >= n) return sorted[n - 1];
  return sorted[j] + (h - static_cast<double>(j)) * (sorted[j + 1] - sorted[j]);
}

// Hyndman & Fan's definition 8 (median-unbiased whatever the distribution): position
// (n + 1/3) q + 1/3 from 1, clamped to the first and last value.
double exact_r8(const std::vector<double>& sorted, double q) {
  const size_t n = sorted.size();
  const double h = (static_cast<double>(n) + 1.0 / 3.0) * q - 2.0 / 3.0;  // from 0
  if (h <= 0) return sorted.front();
  if (h >= static_cast<double>(n - 1)) return sorted.back();
  const size_t j = static_cast<size_t>(h);
  return sorted[j] + (h - static_cast<double>(j)) * (sorted[j + 1] - sorted[j]);
}

// The values of one field of one series in the window: a digest, or all of them.
struct Estimator {
  TDigest digest;
  std::vector<double> values;
};

class QuantileAggregator final : public Aggregator {
 public:
  explicit QuantileAggregator(const Options& o)
      : quantiles_(parse_quantiles(o.get_strings("quantiles"))),
        algorithm_(parse_algorithm(o.get_string("algorithm"))),
        compression_(o.get_float("compression")) {
    if (!(compression_ >= 1)) throw OptionError("compression", "must be 1 or more");
  }

  void add(const Metric& metric) override {
    const size_t s = series_.find_or_add(metric);
    if (s == fields_.size()) fields_.emplace_back();
    FieldSlots<Estimator>& slots = fields_[s];
    const Metric::FieldList fields = metric.fields();
    for (size_t i = 0; i < fields.size(); ++i) {
      double x;
      if (!numeric_value(fields[i].value, x)) continue;
      auto* slot = slots.find(fields[i].key, i);
      if (slot == nullptr) slot = &slots.add(fields[i].key, Estimator{TDigest(compression_), {}});
      if (algorithm_ == Algorithm::kTDigest) {
        slot->state.digest.add(x);
      } else {
        slot->state.values.push_back(x);
      }
    }
  }

  void push(Accumulator& acc) override {
    for (size_t s = 0; s < series_.size(); ++s) {
      if (fields_[s].empty()) continue;
      Metric m = series_.make_metric(s, ValueType::kGauge);
      m.reserve(0, fields_[s].size() * quantiles_.size(),
                fields_[s].size() * quantiles_.size() * 24);
      for (auto& slot : fields_[s]) {
        Estimator& e = slot.state;
        if (algorithm_ != Algorithm::kTDigest) std::sort(e.values.begin(), e.values.end());
        for (const Quantile& q : quantiles_) {
          double value = 0;
          switch (algorithm_) {
            case Algorithm::kTDigest:
              value = e.digest.quantile(q.q);
              break;
            case Algorithm::kExactR7:
              value = exact_r7(e.values, q.q);
              break;
            case Algorithm::kExactR8:
              value = exact_r8(e.values, q.q);
              break;
          }
          m.append_field(slot.key + q.suffix, value);
        }
      }
      acc.add(std::move(m));
    }
  }

  void reset() override {
    series_.clear();
    fields_.clear();
  }

 private:
  std::vector<Quantile> quantiles_;
  Algorithm algorithm_;
  double compression_;
  SeriesIndex series_;
  std::vector<FieldSlots<Estimator>> fields_;  // by series index
};

}  // namespace

void register_plugin(plugin::Registry& registry) {
  plugin::PluginInfo info;
  info.kind = plugin::Kind::kAggregator;
  info.name = "quantile";
  info.description = "Quantiles of each numeric field per window (t-digest or exact)";
  info.options = kOptions;
  info.create_aggregator = [](const PluginContext& ctx) {
    return std::make_unique<QuantileAggregator>(ctx.options);
  };
  registry.add(std::move(info));
}

}  // namespace sluice::aggregators::quantile
