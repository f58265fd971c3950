#include "delivery_errors.hpp"

namespace sluice::outputs::kafka {

FailureKind classify_delivery_error(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:     // larger than message.max.bytes
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:  // larger than the broker's segment
    case RD_KAFKA_RESP_ERR_INVALID_MSG:            // failed its CRC on the broker
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:         // refused by the broker's validation
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:      // outside the topic's accepted range
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:        // the topic name (from a tag) is invalid
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
      return FailureKind::kMessage;
    default:
      return FailureKind::kTransient;
  }
}

}  // namespace sluice::outputs::kafka
