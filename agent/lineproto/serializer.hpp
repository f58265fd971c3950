// The line-protocol serializer: metrics in, text out.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "lineproto/precision.hpp"
#include "sluice/metric.hpp"

namespace sluice::lineproto {

struct SerializeOptions {
  // The unit of the written timestamps: the time is rounded down (toward the past) to it.
  Precision precision = Precision::kNanosecond;
  // Write uint64 fields with the 'u' suffix; otherwise as 'i' integers, clipped to the int64
  // maximum (Telegraf's influx_uint_support).
  bool uint_support = true;
  // Write fields sorted by key rather than in the metric's order.
  bool sort_fields = false;
  // Split a metric whose line would be longer than this many bytes (counting the '\n') into
  // several lines with the same measurement, tags and timestamp, each with as many of the fields
  // as fit (Telegraf's influx_max_line_bytes). A field that fits on no line is left out.
  // 0 = no limit.
  size_t max_line_bytes = 0;
  // Leave the timestamp out, so that the receiver stamps the line.
  bool omit_timestamp = false;
  // Write a metric exactly or not at all: when unwritable_reason() finds anything that cannot be
  // written as it is, append nothing. When false (the default, Telegraf's behaviour), leave out
  // what cannot be written and write the rest, as described at serialize().
  bool strict = false;
};

// Appends the metric's line(s), each ending in '\n', to out. Appends nothing for a metric without
// any writable field. Returns the number of lines appended.
//
// Escaping: ',' and ' ' in the measurement; ',', '=' and ' ' in tag keys, tag values and field
// keys; '"' and '\' in string values. Tags are written in the metric's order (sorted by key);
// integers with 'i', unsigned integers with 'u'; floats as the shortest text that reads back to
// the same double (see format_float in number.hpp); booleans as true/false.
//
// Line protocol cannot carry everything a Metric can hold. Unless `strict` is set:
// - a float field that is NaN or infinite is left out;
// - a tag with an empty key or value, and a field with an empty key, is left out;
// - a tag or field whose key holds an ASCII control byte, invalid UTF-8 or ends in a backslash
//   is left out (keys are never altered, so they stay unique);
// - in the measurement and tag values, trailing backslashes are dropped (the separator after
//   them would read as escaped), tab, newline, carriage return and form feed are written as
//   "\t", "\n", "\r" and "\f" (as Telegraf does; they read back as two characters), and other
//   control bytes and invalid UTF-8 become U+FFFD; the same holds for invalid UTF-8 in string
//   values, which may otherwise hold any byte;
// - a metric whose measurement is empty or starts with '#' (a comment) is not written at all.
// A metric that the parser produced is always written exactly, so serialize -> parse ->
// serialize is the identity.
size_t serialize(const Metric& metric, std::string& out, const SerializeOptions& options = {});

// Serializes each metric of the batch in turn; returns the number of lines appended.
size_t serialize_batch(std::span<const Metric> metrics, std::string& out,
                       const SerializeOptions& options = {});

// Why `metric` cannot be written exactly as it is, with these options (an invalid measurement,
// tag or field key, an empty tag value, a non-finite float, invalid UTF-8 in a string, no
// fields, or a field too long for max_line_bytes); std::nullopt when it can.
std::optional<std::string> unwritable_reason(const Metric& metric,
                                             const SerializeOptions& options = {});

}  // namespace sluice::lineproto
