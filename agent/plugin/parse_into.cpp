#include "plugin/parse_into.hpp"

#include <fmt/format.h>

namespace sluice::plugin {

std::string describe_parse_error(std::string_view format, const ParseError& error,
                                 std::string_view source) {
  std::string text;
  if (!source.empty()) text = fmt::format("{}: ", source);
  text += fmt::format("data_format {}", format);
  if (error.line > 0) text += fmt::format(", line {}", error.line);
  if (error.column > 0) text += fmt::format(", column {}", error.column);
  text += ": ";
  text += error.reason;
  return text;
}

size_t parse_into(Parser& parser, std::string_view format, std::string_view data,
                  Accumulator& acc, std::string_view source) {
  Batch batch;
  std::vector<ParseError> errors;
  parser.parse(data, acc.time(), batch, errors);
  for (const ParseError& e : errors) acc.add_rejected(describe_parse_error(format, e, source));
  size_t added = batch.size();
  if (!batch.empty()) acc.add_batch(std::move(batch));
  return added;
}

}  // namespace sluice::plugin
