// Runs a line-protocol conformance corpus (the shape of InfluxData's line-protocol-corpus, see
// shared/conformance/line-protocol/README.md) against the codec and reports every failing case.
//
//   lineproto_conformance CORPUS.json
//
// Decode cases: the input text is parsed with the case's precision and default time; a case whose
// output is an error passes when the parser rejects any line of it (the corpus defines a case's
// result over its whole text), otherwise the points must match exactly. Encode cases: the point is
// serialized in strict mode, since the corpus expects a point that cannot be written exactly to be
// refused; a result must match the text (the corpus leaves out the final newline) and read back
// to the same point.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "lineproto/parser.hpp"
#include "lineproto/precision.hpp"
#include "lineproto/serializer.hpp"
#include "sluice/metric.hpp"

namespace {

using nlohmann::json;
using sluice::FieldValue;
using sluice::Metric;
namespace lp = sluice::lineproto;

std::optional<std::string> decode_base64(const std::string& text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=' || c == '\n' || c == '\r') continue;
    const int v = value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

// A corpus string: either a JSON string or {"binary": base64}.
std::string text_of(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("binary")) {
    if (auto bytes = decode_base64(value.at("binary").get<std::string>())) return *bytes;
    throw std::runtime_error("invalid base64");
  }
  throw std::runtime_error("expected a string or {binary}");
}

FieldValue value_of(const json& value) {
  if (value.contains("int")) return value.at("int").get<int64_t>();
  if (value.contains("uint")) return value.at("uint").get<uint64_t>();
  if (value.contains("float")) return value.at("float").get<double>();
  if (value.contains("bool")) return value.at("bool").get<bool>();
  if (value.contains("string")) return value.at("string").get<std::string>();
  if (value.contains("binary")) return text_of(value);
  if (value.contains("floatNonNumber")) {
    const auto what = value.at("floatNonNumber").get<std::string>();
    if (what == "NaN") return std::numeric_limits<double>::quiet_NaN();
    return std::numeric_limits<double>::infinity();
  }
  throw std::runtime_error("unknown field value " + value.dump());
}

Metric point_of(const json& point) {
  Metric metric(text_of(point.at("name")), point.at("time").get<int64_t>());
  for (const json& tag : point.at("tags")) {
    metric.set_tag(text_of(tag.at("key")), text_of(tag.at("value")));
  }
  for (const json& field : point.at("fields")) {
    metric.append_field(text_of(field.at("key")), value_of(field.at("value")));
  }
  return metric;
}

std::string show_value(const FieldValue& value) {
  std::ostringstream s;
  switch (value.index()) {
    case 0:
      s.precision(17);
      s << std::get<double>(value);
      break;
    case 1:
      s << std::get<int64_t>(value) << "i";
      break;
    case 2:
      s << std::get<uint64_t>(value) << "u";
      break;
    case 3:
      s << (std::get<bool>(value) ? "true" : "false");
      break;
    default:
      s << json(std::get<std::string>(value)).dump();
  }
  return s.str();
}

std::string show(const Metric& m) {
  std::string out = json(m.name()).dump();
  for (const auto t : m.tags()) out += "," + json(t.key).dump() + "=" + json(t.value).dump();
  out += " ";
  for (size_t i = 0; i < m.fields().size(); ++i) {
    if (i) out += ",";
    out += json(m.fields()[i].key).dump() + "=" + show_value(m.fields()[i].value);
  }
  return out + " " + std::to_string(m.time());
}

// Empty when the case passes, otherwise why it failed.
std::string run_decode(const json& entry) {
  const json& input = entry.at("input");
  const json& output = entry.at("output");
  const auto precision = lp::parse_precision(input.at("precision").get<std::string>());
  if (!precision) return "unsupported precision " + input.at("precision").get<std::string>();
  lp::ParserOptions options;
  options.precision = *precision;
  options.default_time = input.at("defaultTime").get<int64_t>();
  lp::Parser parser(options);
  const std::string text = text_of(input.at("text"));
  sluice::Batch batch;
  std::vector<lp::ParseError> errors;
  parser.parse(text, batch, &errors);

  if (output.contains("error")) {
    if (!errors.empty()) return {};
    return "accepted input the corpus rejects (" + output.at("error").get<std::string>() + ")";
  }
  if (!errors.empty()) return "rejected: " + errors.front().message();
  std::vector<Metric> expected;
  if (output.contains("result") && !output.at("result").is_null()) {
    for (const json& point : output.at("result")) expected.push_back(point_of(point));
  }
  if (batch.size() != expected.size()) {
    return "got " + std::to_string(batch.size()) + " points, want " +
           std::to_string(expected.size());
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!(batch[i] == expected[i])) {
      return "point " + std::to_string(i) + ": got " + show(batch[i]) + ", want " +
             show(expected[i]);
    }
  }
  return {};
}

std::string run_encode(const json& entry) {
  const json& input = entry.at("input");
  const json& output = entry.at("output");
  const auto precision = lp::parse_precision(input.at("precision").get<std::string>());
  if (!precision) return "unsupported precision " + input.at("precision").get<std::string>();
  const Metric point = point_of(input.at("point"));
  lp::SerializeOptions options;
  options.precision = *precision;
  options.strict = true;
  std::string text;
  const size_t lines = lp::serialize(point, text, options);

  if (lines > 0) {
    // As the corpus's own runner does: what was written must read back to the point.
    lp::ParserOptions parse_options;
    parse_options.precision = *precision;
    lp::Parser parser(parse_options);
    sluice::Batch back;
    std::vector<lp::ParseError> errors;
    parser.parse(text, back, &errors);
    if (!errors.empty()) return "output does not parse: " + errors.front().message();
    Metric want = point;
    want.set_time(lp::truncate_to_precision(point.time(), *precision));
    if (back.size() != 1 || !(back[0] == want)) return "output does not read back to the point";
  }
  if (output.contains("error")) {
    if (lines == 0) return {};
    return "wrote " + json(text).dump() + " for a point the corpus refuses (" +
           output.at("error").get<std::string>() + ")";
  }
  if (lines == 0) {
    return "refused: " + lp::unwritable_reason(point, options).value_or("no line written");
  }
  if (!text.empty() && text.back() == '\n') text.pop_back();
  const std::string want = text_of(output.at("result"));
  if (text != want) return "wrote " + json(text).dump() + ", want " + json(want).dump();
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " CORPUS.json\n";
    return 2;
  }
  std::ifstream file(argv[1], std::ios::binary);
  if (!file) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 2;
  }
  json corpus;
  try {
    corpus = json::parse(file);
  } catch (const std::exception& e) {
    std::cerr << argv[1] << ": " << e.what() << "\n";
    return 2;
  }

  size_t passed = 0;
  size_t failed = 0;
  for (const char* section : {"decode", "encode"}) {
    if (!corpus.contains(section)) continue;
    // Keys in sorted order, so that runs compare line by line.
    std::map<std::string, const json*> cases;
    for (const auto& [key, entry] : corpus.at(section).items()) cases[key] = &entry;
    for (const auto& [key, entry] : cases) {
      std::string reason;
      try {
        reason = std::string(section) == "decode" ? run_decode(*entry) : run_encode(*entry);
      } catch (const std::exception& e) {
        reason = std::string("malformed case: ") + e.what();
      }
      if (reason.empty()) {
        ++passed;
      } else {
        ++failed;
        std::cout << "FAIL " << section << " " << key << ": " << reason << "\n";
      }
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 1;
}
