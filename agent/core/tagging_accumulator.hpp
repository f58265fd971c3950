// An accumulator that adds one tag to every metric on its way to another: for inputs that tag
// what a parser read with where it came from (url, file, command).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "sluice/plugin.hpp"

namespace sluice::core {

class TaggingAccumulator final : public Accumulator {
 public:
  // With `overwrite` false a metric that already has the tag keeps its own value.
  TaggingAccumulator(Accumulator& inner, std::string key, std::string value, bool overwrite = true)
      : inner_(inner), key_(std::move(key)), value_(std::move(value)), overwrite_(overwrite) {}

  void add(Metric metric) override {
    tag(metric);
    inner_.add(std::move(metric));
  }
  void add_batch(Batch batch) override {
    for (Metric& m : batch) tag(m);
    inner_.add_batch(std::move(batch));
  }
  void add_error(std::string_view message) override { inner_.add_error(message); }
  void add_rejected(std::string_view message) override { inner_.add_rejected(message); }
  int64_t time() const override { return inner_.time(); }

 private:
  void tag(Metric& m) const {
    if (key_.empty() || (!overwrite_ && m.has_tag(key_))) return;
    m.set_tag(key_, value_);
  }

  Accumulator& inner_;
  std::string key_;
  std::string value_;
  bool overwrite_;
};

}  // namespace sluice::core
