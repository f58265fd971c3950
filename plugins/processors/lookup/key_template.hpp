// The lookup key of a metric. Either a plain tag name ("host": the value of tag host), or a
// template in the spirit of Go's text/template as Telegraf writes it: literal text with
// {{.Name}}, {{.Tag "name"}} and {{.Field "name"}} actions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/metric.hpp"

namespace sluice::processors::lookup {

class KeyTemplate {
 public:
  // Throws OptionError("key", ...) for an empty key or an action it does not know.
  static KeyTemplate parse(std::string_view text);

  // Writes the key of `m` to out. False when the key names a single tag the metric lacks, or
  // any part refers to a tag or field that is missing (such a metric has no key).
  bool render(const Metric& m, std::string& out) const;

 private:
  enum class Part { kText, kName, kTag, kField };
  struct Piece {
    Part part;
    std::string text;  // literal text, or the tag or field name
  };
  std::vector<Piece> pieces_;
};

}  // namespace sluice::processors::lookup
