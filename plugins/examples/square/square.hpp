// processors.square: adds a field holding the square of a numeric field, e.g. value=3 gets
// value_squared=9. Metrics without that field, or with a text or bool in it, pass unchanged.
#pragma once

#include <string>
#include <variant>

#include "sluice/plugin.hpp"

namespace examples {

inline const sluice::OptionSpec kSquareOptions[] = {
    {"field", sluice::OptionType::kString, "value", "The numeric field to square"},
    {"target", sluice::OptionType::kString, "",
     "The new field's name (default: the field's name and _squared)"},
};

class Square final : public sluice::Processor {
 public:
  explicit Square(const sluice::Options& options)
      : field_(options.get_string("field")), target_(options.get_string("target")) {
    if (field_.empty()) throw sluice::OptionError("field", "must not be empty");
    if (target_.empty()) target_ = field_ + "_squared";
  }

  sluice::Batch process(sluice::Batch batch) override {
    for (sluice::Metric& metric : batch) {
      const sluice::FieldValue* value = metric.field(field_);
      if (value == nullptr) continue;
      double x;
      if (const double* d = std::get_if<double>(value)) {
        x = *d;
      } else if (const int64_t* i = std::get_if<int64_t>(value)) {
        x = static_cast<double>(*i);
      } else if (const uint64_t* u = std::get_if<uint64_t>(value)) {
        x = static_cast<double>(*u);
      } else {
        continue;
      }
      metric.set_field(target_, x * x);
    }
    return batch;
  }

 private:
  std::string field_;
  std::string target_;
};

}  // namespace examples
