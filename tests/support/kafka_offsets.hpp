// What a Kafka consumer group has committed, read with a librdkafka handle of the test's own
// that asks the group's coordinator without joining the group.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <vector>

namespace sluice::testing {

// No committed offset (librdkafka's RD_KAFKA_OFFSET_INVALID).
constexpr int64_t kNoOffset = RD_KAFKA_OFFSET_INVALID;

// The committed offset of partitions 0..partitions-1 of `topic` for `group` (kNoOffset where
// none), or an empty vector when the coordinator did not answer within 10 s.
inline std::vector<int64_t> committed_offsets(const std::string& bootstrap,
                                              const std::string& group, const std::string& topic,
                                              int partitions) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), error, sizeof error) !=
          RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "group.id", group.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "0", error, sizeof error) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return {};
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return {};
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) rd_kafka_topic_partition_list_add(list, topic.c_str(), p);
  std::vector<int64_t> out;
  if (rd_kafka_committed(rk, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) out.push_back(list->elems[i].offset);
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return out;
}

}  // namespace sluice::testing
