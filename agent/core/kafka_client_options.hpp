// The options every Kafka plugin spells the same way (Telegraf's names: brokers, client_id,
// version, SASL and TLS) and the librdkafka properties they become. The producer (outputs.kafka)
// and the consumer (inputs.kafka_consumer) add their own properties after these.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/options.hpp"
#include "sluice/plugin.hpp"

namespace sluice::core {

// librdkafka properties in the order they are applied.
using KafkaProperties = std::vector<std::pair<std::string, std::string>>;

// brokers, then `table`, then client_id, version, sasl_username, sasl_password, sasl_mechanism,
// enable_tls, tls_ca, tls_cert, tls_key and insecure_skip_verify.
std::vector<OptionSpec> with_kafka_client_options(std::vector<OptionSpec> table);

// bootstrap.servers, client.id, the fallback protocol of brokers older than 0.10,
// security.protocol and the sasl.* and ssl.* properties. Throws OptionError naming the option
// for a value librdkafka would refuse or that makes no sense.
KafkaProperties kafka_client_properties(const Options& options);

// The option a property of kafka_client_properties came from ("" for any other property), so
// that librdkafka's refusal of a value names what the user wrote.
std::string kafka_option_of(std::string_view property);

// A librdkafka config (owned by the caller) with `properties` applied, and no log line for each
// connection a broker closes (the error callback reports outages). A value librdkafka refuses
// throws OptionError naming option_of(property), the option the user wrote.
rd_kafka_conf_t* make_kafka_conf(const KafkaProperties& properties,
                                 const std::function<std::string(const std::string&)>& option_of);

// The value of `name` among `properties` ("" when absent).
std::string kafka_property(const KafkaProperties& properties, std::string_view name);

// A line librdkafka logs (syslog levels: 0-3 errors, 4 warnings, the rest debug), in the
// plugin's log. Connection failures go to debug: the error callback reports them.
void log_kafka_line(Logger& log, int level, const char* facility, const char* message);

}  // namespace sluice::core
