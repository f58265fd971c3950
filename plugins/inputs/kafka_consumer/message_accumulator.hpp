// Passes the metrics parsed from one Kafka message on to the input's accumulator, each in the
// message's delivery group, with what the message's headers and timestamp give it and its topic
// tag, and says which message a rejected record came from.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

#include "message_metadata.hpp"
#include "sluice/plugin.hpp"

namespace sluice::inputs::kafka_consumer {

// Where a message came from, as rejection messages name it.
struct MessageSource {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

inline std::string describe(const MessageSource& s) {
  return fmt::format("topic {} partition {} offset {}", s.topic, s.partition, s.offset);
}

class MessageAccumulator final : public Accumulator {
 public:
  // `topic_tag` empty: no tag.
  MessageAccumulator(Accumulator& inner, const DeliveryHandle& group, const std::string& topic_tag,
                     const MessageMetadata& metadata, const MessageSource& source)
      : inner_(inner), group_(group), topic_tag_(topic_tag), metadata_(metadata), source_(source) {}

  void add(Metric metric) override {
    prepare(metric);
    inner_.add(std::move(metric));
  }
  void add_batch(Batch batch) override {
    for (Metric& m : batch) prepare(m);
    inner_.add_batch(std::move(batch));
  }
  void add_error(std::string_view message) override { inner_.add_error(message); }
  void add_rejected(std::string_view message) override {
    inner_.add_rejected(fmt::format("{}: {}", describe(source_), message));
  }
  int64_t time() const override { return inner_.time(); }

 private:
  void prepare(Metric& m) const {
    metadata_.apply(m);
    // After the headers' tags: a header of the topic tag's name does not hide the topic.
    if (!topic_tag_.empty()) m.set_tag(topic_tag_, std::string(source_.topic));
    m.set_delivery(group_);
  }

  Accumulator& inner_;
  const DeliveryHandle& group_;
  const std::string& topic_tag_;
  const MessageMetadata& metadata_;
  MessageSource source_;
};

}  // namespace sluice::inputs::kafka_consumer
