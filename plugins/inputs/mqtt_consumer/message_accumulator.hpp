// What mqtt_consumer puts on every metric of one message on its way to the pipeline: the topic
// tag, what topic_parsing reads from the topic, and the message's delivery group, so the
// message is acknowledged once all its metrics were written.
#pragma once

#include <string>
#include <string_view>

#include "sluice/plugin.hpp"
#include "topic_parsing.hpp"

namespace sluice::inputs::mqtt_consumer {

class MessageAccumulator final : public Accumulator {
 public:
  MessageAccumulator(Accumulator& inner, std::string_view topic, const std::string& topic_tag,
                     const TopicParsing& parsing, DeliveryHandle delivery)
      : inner_(inner), topic_(topic), topic_tag_(topic_tag), parsing_(parsing),
        delivery_(std::move(delivery)) {}

  void add(Metric metric) override {
    mark(metric);
    inner_.add(std::move(metric));
  }
  void add_batch(Batch batch) override {
    for (Metric& m : batch) mark(m);
    inner_.add_batch(std::move(batch));
  }
  void add_error(std::string_view message) override { inner_.add_error(message); }
  void add_rejected(std::string_view message) override { inner_.add_rejected(message); }
  int64_t time() const override { return inner_.time(); }

  // The first field topic_parsing could not read, if any.
  const std::string& parsing_problem() const { return problem_; }

 private:
  void mark(Metric& m) {
    if (!topic_tag_.empty()) m.set_tag(topic_tag_, topic_);
    if (!parsing_.empty()) {
      std::string problem = parsing_.apply(topic_, m);
      if (problem_.empty()) problem_ = std::move(problem);
    }
    m.set_delivery(delivery_);
  }

  Accumulator& inner_;
  std::string_view topic_;
  const std::string& topic_tag_;
  const TopicParsing& parsing_;
  DeliveryHandle delivery_;
  std::string problem_;
};

}  // namespace sluice::inputs::mqtt_consumer
