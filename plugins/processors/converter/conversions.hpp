// Value conversions between field types and text, with Telegraf's converter rules: floats round
// half away from zero into integers and clip at the target's range, negative values become 0
// as unsigned, text is read as Go reads numbers (base prefixes 0x, 0o, 0b; a float when it is
// not an integer) and booleans (1, t, T, TRUE, true, True and their false forms).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/metric.hpp"

namespace sluice::processors::converter {

std::optional<int64_t> to_integer(const FieldValue& v);
std::optional<uint64_t> to_unsigned(const FieldValue& v);
std::optional<double> to_float(const FieldValue& v);
std::optional<bool> to_boolean(const FieldValue& v);
// Numbers as Go's FormatInt / FormatFloat(v, 'f', -1) write them, booleans as true/false.
std::string to_text(const FieldValue& v);

std::optional<int64_t> parse_integer(std::string_view text);
std::optional<uint64_t> parse_unsigned(std::string_view text);
std::optional<double> parse_float(std::string_view text);
std::optional<bool> parse_boolean(std::string_view text);

}  // namespace sluice::processors::converter
