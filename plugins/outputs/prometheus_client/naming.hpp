// Prometheus names and text: which metric and label names a metric gets, and how names, label
// values and numbers are written in the text exposition format (version 0.0.4).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sluice/metric.hpp"

namespace sluice::outputs::prometheus_client {

// A valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) as it is; otherwise each invalid character
// (a whole UTF-8 sequence counts as one) becomes '_', an invalid first character is dropped,
// and leading and trailing '_' are trimmed. nullopt when nothing is left.
std::optional<std::string> sanitize_metric_name(std::string_view name);

// The same for label names ([a-zA-Z_][a-zA-Z0-9_]*).
std::optional<std::string> sanitize_label_name(std::string_view name);

// The family name of a field of a counter, gauge or untyped metric (before sanitizing):
// `<measurement>_<field>`; the field `value` (and `counter` of a counter, `gauge` of a gauge,
// as the prometheus input writes them) gives the measurement alone; the measurement
// `prometheus` gives the field alone.
std::string scalar_family_name(std::string_view measurement, std::string_view field,
                               ValueType type);

// `<measurement>_<field>`, or the field alone for the measurement `prometheus` (histogram and
// summary fields, their suffix already removed).
std::string joined_family_name(std::string_view measurement, std::string_view field);

// Appends a label value with '\', '"' and newline escaped.
void append_label_value(std::string& out, std::string_view value);

// Appends a sample value: the shortest text that reads back to the same double, or NaN, +Inf,
// -Inf.
void append_float(std::string& out, double value);

// Reads a bucket bound or quantile as Go's ParseFloat does for these ("0.5", "+Inf", "1e3").
std::optional<double> parse_bound(std::string_view text);

}  // namespace sluice::outputs::prometheus_client
