// libFuzzer target for the line-protocol codec. Parses arbitrary input; every metric it yields
// must be writable exactly, read back to the same metric, and write again to the same text, both
// in one line and split by max_line_bytes. Any difference aborts, as does a crash or a sanitizer
// report.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "lineproto/parser.hpp"
#include "lineproto/serializer.hpp"

namespace {

namespace lp = sluice::lineproto;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "lineproto_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void check_round_trip(lp::Parser& parser, const sluice::Metric& metric) {
  if (auto reason = lp::unwritable_reason(metric)) fail("parsed metric is not writable", *reason);
  std::string text;
  if (lp::serialize(metric, text) != 1) fail("parsed metric did not serialize to one line", text);

  sluice::Batch back;
  std::vector<lp::ParseError> errors;
  parser.parse(text, back, &errors);
  if (!errors.empty()) fail("serialized text does not parse", text + "\n" + errors[0].message());
  if (back.size() != 1 || !(back[0] == metric)) fail("round trip changed the metric", text);

  std::string again;
  lp::serialize(back[0], again);
  if (again != text) fail("serializing again changed the text", text + "\n" + again);
}

// Split by a line limit, the lines carry the fields in order, each line within the limit.
void check_split(lp::Parser& parser, const sluice::Metric& metric, size_t max_line_bytes) {
  lp::SerializeOptions options;
  options.max_line_bytes = max_line_bytes;
  std::string text;
  const size_t lines = lp::serialize(metric, text, options);
  sluice::Batch back;
  std::vector<lp::ParseError> errors;
  parser.parse(text, back, &errors);
  if (!errors.empty() || back.size() != lines) fail("split lines do not parse", text);
  size_t next = 0;
  size_t start = 0;
  for (const sluice::Metric& part : back) {
    const size_t end = text.find('\n', start);
    if (end - start + 1 > max_line_bytes) fail("split line longer than the limit", text);
    start = end + 1;
    if (part.name() != metric.name() || part.tags() != metric.tags() ||
        part.time() != metric.time()) {
      fail("split line lost its header", text);
    }
    for (const sluice::FieldRef field : part.fields()) {
      while (next < metric.fields().size() && !(metric.fields()[next] == field)) ++next;
      if (next == metric.fields().size()) fail("split lines changed the fields", text);
      ++next;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static lp::Parser parser;
  static lp::Parser checker;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  sluice::Batch batch;
  std::vector<lp::ParseError> errors;
  const size_t count = parser.parse(input, batch, &errors);
  if (count != batch.size()) fail("parse count differs from the batch", input);
  for (const lp::ParseError& e : errors) {
    if (e.line == 0 || e.column == 0 || e.reason.empty()) fail("malformed error", e.message());
  }

  // The zero-copy path sees the same metrics.
  size_t visited = 0;
  parser.visit(input, [&](const lp::MetricView& view) {
    if (visited >= batch.size() || !(view.to_metric() == batch[visited])) {
      fail("visit and parse disagree", input);
    }
    ++visited;
  });
  if (visited != batch.size()) fail("visit and parse disagree on the count", input);

  const size_t max_line_bytes = size > 0 ? 16 + data[0] : 64;
  for (const sluice::Metric& metric : batch) {
    check_round_trip(checker, metric);
    check_split(checker, metric, max_line_bytes);
  }
  return 0;
}
