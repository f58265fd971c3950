// Produces Kafka messages with a librdkafka producer of the test's own, for what kcat -P cannot
// set: a message's timestamp, and header values of any bytes (empty, not UTF-8).
#pragma once

#include <librdkafka/rdkafka.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {

struct KafkaMessage {
  std::string payload;
  // In order; a name may repeat.
  std::vector<std::pair<std::string, std::string>> headers;
  // The message's CreateTime in ms since the epoch; nullopt: the producer's clock.
  std::optional<int64_t> timestamp_ms;
};

// Produces `messages` to one partition of `topic` and waits until the broker has acknowledged
// them all. Returns "" on success, or what went wrong.
inline std::string kafka_produce(const std::string& bootstrap, const std::string& topic,
                                 int partition, const std::vector<KafkaMessage>& messages) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "0", error, sizeof error) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return error;
  }
  // Counts the messages the broker did not take (the delivery report callback's opaque).
  int failed = 0;
  rd_kafka_conf_set_opaque(conf, &failed);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) ++*static_cast<int*>(opaque);
  });
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return error;
  }
  std::string result;
  for (const KafkaMessage& m : messages) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(m.headers.size());
    for (const auto& [name, value] : m.headers) {
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_VALUE(const_cast<char*>(m.payload.data()), m.payload.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(m.timestamp_ms.value_or(0)),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Taken by librdkafka only when the message was accepted.
      rd_kafka_headers_destroy(headers);
      result = std::string("cannot produce: ") + rd_kafka_err2str(err);
      break;
    }
  }
  rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, 30'000);
  rd_kafka_destroy(rk);
  if (!result.empty()) return result;
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::string("not acknowledged: ") + rd_kafka_err2str(flushed);
  }
  if (failed > 0) return std::to_string(failed) + " messages refused by the broker";
  return "";
}

}  // namespace sluice::testing
