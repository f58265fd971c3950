// What a failed delivery of one Kafka message means for the batch it belongs to.
#pragma once

#include <librdkafka/rdkafka.h>

namespace sluice::outputs::kafka {

enum class FailureKind {
  kTransient,  // the broker or network may recover: write the batch again later
  kMessage,    // this message can never be written (too large, invalid): drop its metric
};

// Errors that describe the message itself are kMessage; everything else, including timeouts,
// unreachable brokers and leader changes that outlasted librdkafka's own retries, is kTransient.
FailureKind classify_delivery_error(rd_kafka_resp_err_t err);

}  // namespace sluice::outputs::kafka
