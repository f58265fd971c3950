// What every input that reads bytes does with them: parse with its data format and add the
// metrics in one batch, reporting each bad record with the format, its position and the reason.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sluice/plugin.hpp"

namespace sluice::plugin {

// Parses `data` and adds its metrics to `acc` as one batch. Each bad record is reported with
// acc.add_rejected("<source>: <format> line L, column C: <reason>"); `source` says where the
// data came from (a peer address, a file, a topic) and may be empty. Returns how many metrics
// were added.
size_t parse_into(Parser& parser, std::string_view format, std::string_view data,
                  Accumulator& acc, std::string_view source = {});

// The text of one parse error, as parse_into reports it.
std::string describe_parse_error(std::string_view format, const ParseError& error,
                                 std::string_view source = {});

}  // namespace sluice::plugin
