#include "lineproto/precision.hpp"

namespace sluice::lineproto {

std::optional<Precision> parse_precision(std::string_view text) {
  if (text.size() > 1 && text.front() == '1') text.remove_prefix(1);
  if (text == "ns") return Precision::kNanosecond;
  // "\xc2\xb5" is the micro sign, "\xce\xbc" the Greek small letter mu.
  if (text == "us" || text == "\xc2\xb5s" || text == "\xce\xbcs") return Precision::kMicrosecond;
  if (text == "ms") return Precision::kMillisecond;
  if (text == "s") return Precision::kSecond;
  return std::nullopt;
}

std::string_view precision_name(Precision precision) {
  switch (precision) {
    case Precision::kNanosecond:
      return "ns";
    case Precision::kMicrosecond:
      return "us";
    case Precision::kMillisecond:
      return "ms";
    case Precision::kSecond:
      return "s";
  }
  return "ns";
}

std::optional<Precision> precision_from_nanoseconds(int64_t nanoseconds) {
  for (Precision p : {Precision::kNanosecond, Precision::kMicrosecond, Precision::kMillisecond,
                      Precision::kSecond}) {
    if (precision_nanoseconds(p) == nanoseconds) return p;
  }
  return std::nullopt;
}

}  // namespace sluice::lineproto
