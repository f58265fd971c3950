#include "message_metadata.hpp"

#include <limits>

#include "lineproto/utf8.hpp"

namespace sluice::inputs::kafka_consumer {
namespace {

// Header values are bytes; tag values and metric names must be non-empty UTF-8 text, or
// outputs would refuse the whole metric. Such a header is left out, the message is kept.
std::optional<std::string_view> usable(const HeaderLookup& header, const std::string& name,
                                       std::vector<std::string>& unusable) {
  std::optional<std::string_view> value = header(name);
  if (!value) return std::nullopt;
  if (value->empty() ||
      !lineproto::detail::is_valid_text(value->data(), value->data() + value->size())) {
    unusable.push_back(name);
    return std::nullopt;
  }
  return value;
}

}  // namespace

void MessageMetadata::apply(Metric& metric) const {
  for (const Tag& tag : tags) metric.set_tag(tag.key, tag.value);
  if (name) metric.set_name(*name);
  if (time_ns) metric.set_time(*time_ns);
}

MessageMetadata message_metadata(const MetadataOptions& options, const HeaderLookup& header,
                                 std::optional<int64_t> message_time_ms, int64_t received_ns) {
  MessageMetadata out;
  for (const std::string& name : options.headers_as_tags) {
    if (auto value = usable(header, name, out.unusable_headers)) {
      out.tags.push_back(Tag{name, std::string(*value)});
    }
  }
  if (!options.header_as_name.empty()) {
    if (auto value = usable(header, options.header_as_name, out.unusable_headers)) {
      out.name = std::string(*value);
    }
  }
  switch (options.timestamp_source) {
    case TimestampSource::kMetric:
      break;
    case TimestampSource::kInner:
      // A timestamp outside what nanoseconds since 1970 hold (up to the year 2262) is not one.
      if (message_time_ms && *message_time_ms >= 0 &&
          *message_time_ms <= std::numeric_limits<int64_t>::max() / 1'000'000) {
        out.time_ns = *message_time_ms * 1'000'000;
      }
      break;
    case TimestampSource::kOuter:
      out.time_ns = received_ns;
      break;
  }
  return out;
}

}  // namespace sluice::inputs::kafka_consumer
