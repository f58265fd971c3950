// The `config` option of the histogram aggregator: which measurements and fields get a
// histogram, and with which buckets. Telegraf writes it as an array of tables; here it is a
// list of maps whose list values are comma-separated:
//
//   config:
//     - {measurement_name: cpu, fields: "usage_idle,usage_user", buckets: "0,10,50,100"}
//     - {measurement_name: diskio, buckets: "0,10,20"}   # every field of diskio
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/options.hpp"

namespace sluice::aggregators::histogram {

struct HistogramEntry {
  std::string measurement;
  std::vector<std::string> fields;  // empty: every field
  std::vector<double> buckets;      // upper bounds, ascending, distinct
};

class HistogramConfig {
 public:
  explicit HistogramConfig(std::vector<HistogramEntry> entries) : entries_(std::move(entries)) {}

  // The bucket bounds for a field of a measurement, or nullptr when it has no histogram. When
  // several entries match, the last one wins, as in Telegraf.
  const std::vector<double>* buckets_for(std::string_view measurement,
                                         std::string_view field) const;
  bool has_measurement(std::string_view measurement) const {
    for (const HistogramEntry& e : entries_) {
      if (e.measurement == measurement) return true;
    }
    return false;
  }
  const std::vector<HistogramEntry>& entries() const { return entries_; }

 private:
  std::vector<HistogramEntry> entries_;
};

// Reads the option; throws OptionError("config", ...) for an entry without a measurement or
// buckets, an unknown key, or a bound that is not a number. Bounds are sorted, as Telegraf does.
HistogramConfig parse_config(const std::vector<StringMap>& maps);

}  // namespace sluice::aggregators::histogram
