// Where a metric goes in Kafka: its topic (a fixed one, or a tag's value) and its message key
// (a tag's value, a fixed key, or a random UUID), as Telegraf's kafka output decides them.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "sluice/metric.hpp"

namespace sluice::outputs::kafka {

struct RoutingOptions {
  std::string topic;      // the default topic
  std::string topic_tag;  // a tag whose value, when present, is the topic
  bool exclude_topic_tag = false;
  std::string routing_tag;  // a tag whose value, when present, is the key
  std::string routing_key;  // the key otherwise; "random": a new UUID per message
};

class Router {
 public:
  explicit Router(RoutingOptions options);

  // The metric's topic: the value of topic_tag when the metric has that tag, else the topic.
  std::string_view topic(const Metric& metric) const;
  // True when the metric must be written without its topic tag (exclude_topic_tag).
  bool strips_topic_tag(const Metric& metric) const;
  // The message key ("" for none).
  std::string key(const Metric& metric);
  const std::string& topic_tag() const { return options_.topic_tag; }

 private:
  RoutingOptions options_;
  std::mt19937_64 random_;
};

// A random (version 4) UUID in its usual 36-character form.
std::string random_uuid(std::mt19937_64& random);

}  // namespace sluice::outputs::kafka
