// inputs.numbers: reads a file of numbers, one per line, each gather, and reports each number as
// a metric (tag `line`, one field). The class is written exactly like a built-in input.
#pragma once

#include <charconv>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "sluice/plugin.hpp"

namespace examples {

inline const sluice::OptionSpec kNumbersOptions[] = {
    {"path", sluice::OptionType::kString, "", "The file to read: one number per line", true},
    {"measurement", sluice::OptionType::kString, "numbers", "The metrics' measurement name"},
    {"field", sluice::OptionType::kString, "value", "The field each number goes to"},
};

class Numbers final : public sluice::Input {
 public:
  explicit Numbers(const sluice::PluginContext& context)
      : path_(context.options.get_string("path")),
        measurement_(context.options.get_string("measurement")),
        field_(context.options.get_string("field")) {
    if (path_.empty()) throw sluice::OptionError("path", "give the file to read");
    if (measurement_.empty()) throw sluice::OptionError("measurement", "must not be empty");
  }

  void gather(sluice::Accumulator& acc) override {
    std::ifstream in(path_);
    if (!in) {
      acc.add_error("cannot open " + path_);
      return;
    }
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      std::string_view text = trim(line);
      if (text.empty() || text.front() == '#') continue;
      sluice::FieldValue value;
      if (!parse(text, value)) {
        acc.add_error(path_ + ":" + std::to_string(number) +
                      ": not a number: " + std::string(text));
        continue;
      }
      sluice::Metric metric(measurement_, 0);  // 0: stamped with the gather's time
      metric.set_tag("line", std::to_string(number));
      metric.set_field(field_, std::move(value));
      acc.add(std::move(metric));
    }
  }

 private:
  static std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
      s.remove_suffix(1);
    }
    return s;
  }
  // Integers stay integers; anything else that reads as a number is a float.
  static bool parse(std::string_view text, sluice::FieldValue& out) {
    const char* end = text.data() + text.size();
    int64_t i = 0;
    if (auto [p, ec] = std::from_chars(text.data(), end, i); ec == std::errc() && p == end) {
      out = i;
      return true;
    }
    double d = 0;
    if (auto [p, ec] = std::from_chars(text.data(), end, d); ec == std::errc() && p == end) {
      out = d;
      return true;
    }
    return false;
  }

  std::string path_;
  std::string measurement_;
  std::string field_;
};

}  // namespace examples
