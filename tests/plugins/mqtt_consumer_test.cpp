// mqtt_consumer without a broker: topic matching, topic_parsing rules, and the option checks
// that refuse a config before anything connects.
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "inputs/mqtt_consumer/topic_parsing.hpp"
#include "plugins/input_test_support.hpp"
#include "plugins/plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::inputs::mqtt_consumer;

namespace {

Metric parsed(const std::vector<StringMap>& rules, const std::string& topic,
              std::string* problem = nullptr) {
  Metric m("mqtt_consumer", 1);
  m.set_field("value", 1.5);
  std::string p = TopicParsing(rules).apply(topic, m);
  if (problem != nullptr) *problem = p;
  return m;
}

std::string config_error(const std::string& options) {
  sluice::testing::NullLogger log;
  try {
    sluice::testing::input_from_yaml("mqtt_consumer", options, log);
  } catch (const OptionError& e) {
    return "option \"" + e.option() + "\": " + e.what();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("mqtt_consumer topics: '+' is one level, a final '#' any number") {
  CHECK(topic_matches("a/b", "a/b"));
  CHECK_FALSE(topic_matches("a/b", "a/b/c"));
  CHECK(topic_matches("a/+/c", "a/b/c"));
  CHECK_FALSE(topic_matches("a/+/c", "a/b/d"));
  CHECK_FALSE(topic_matches("a/+", "a/b/c"));
  CHECK(topic_matches("a/+", "a/"));  // an empty level is a level
  CHECK(topic_matches("a/#", "a"));
  CHECK(topic_matches("a/#", "a/b/c"));
  CHECK(topic_matches("#", "a/b"));
  CHECK_FALSE(topic_matches("#", "$SYS/broker"));
  CHECK(topic_matches("$SYS/#", "$SYS/broker"));
  CHECK(topic_filter_problem("a/#") == "");
  CHECK(topic_filter_problem("a/#/b") == "\"a/#/b\": '#' must be the whole last level");
  CHECK(topic_filter_problem("a/b#") == "\"a/b#\": '#' must be the whole last level");
  CHECK(topic_filter_problem("a/b+") == "\"a/b+\": '+' must be a whole level");
  CHECK(topic_filter_problem("") == "a topic is empty");
}

TEST_CASE("mqtt_consumer topic_parsing: measurement, tags and typed fields from the levels") {
  std::vector<StringMap> rules = {{{"topic", "factory/+/+/sensor"},
                                   {"measurement", "_/_/_/measurement"},
                                   {"tags", "_/site/_/_"},
                                   {"fields", "_/_/line/_"},
                                   {"types", "line=int"}}};
  Metric m = parsed(rules, "factory/berlin/3/sensor");
  CHECK(m.name() == "sensor");
  CHECK(m.tag("site") == "berlin");
  CHECK(m.fields() == std::vector<Field>{{"value", 1.5}, {"line", int64_t{3}}});
  // A topic the rule does not match is left alone.
  Metric other = parsed(rules, "factory/berlin/3/actuator");
  CHECK(other.name() == "mqtt_consumer");
  CHECK(other.tags().empty());
  // A level that is not of its field's type: the field is left out, and said why.
  std::string problem;
  Metric bad = parsed(rules, "factory/berlin/x/sensor", &problem);
  CHECK(bad.name() == "sensor");
  CHECK_FALSE(bad.field("line"));
  CHECK(problem == "topic_parsing: field \"line\" is \"x\", not a int");
  // Every matching rule applies, in order; '#' rules may name the levels they cover.
  std::vector<StringMap> two = {{{"topic", "home/#"}, {"tags", "_/room"}},
                                {{"topic", "home/+/+"}, {"fields", "_/_/kind"}}};
  Metric both = parsed(two, "home/kitchen/temp");
  CHECK(both.tag("room") == "kitchen");
  CHECK(both.field("kind") != nullptr);
  CHECK(std::get<std::string>(*both.field("kind")) == "temp");
}

TEST_CASE("mqtt_consumer topic_parsing: rules that cannot work are refused, naming the rule") {
  auto error = [](const StringMap& rule) {
    try {
      TopicParsing parsing({rule});
    } catch (const OptionError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error({{"measurement", "a"}}).find("rule 1: \"topic\" is required") != std::string::npos);
  CHECK(error({{"topic", "a/+"}, {"tags", "x/y/z"}})
            .find("rule 1: tags \"x/y/z\" has 3 levels but the topic \"a/+\" has 2") !=
        std::string::npos);
  CHECK(error({{"topic", "a/+"}, {"measurement", "x/y"}})
            .find("measurement \"x/y\" names more than one level") != std::string::npos);
  CHECK(error({{"topic", "a/+"}, {"fields", "_/f"}, {"types", "f=number"}})
            .find("types: field \"f\" has type \"number\"; use int, uint, float, bool or string") !=
        std::string::npos);
  CHECK(error({{"topic", "a/+"}, {"fields", "_/f"}, {"types", "g=int"}})
            .find("types: \"g\" is not one of the rule's fields") != std::string::npos);
  CHECK(error({{"topic", "a/+"}, {"tag", "_/f"}}).find("unknown key \"tag\"") != std::string::npos);
}

TEST_CASE("mqtt_consumer options: wrong values are refused before connecting") {
  const std::string base = "servers: ['tcp://127.0.0.1:1'], topics: [a]";
  CHECK(config_error(base) == "");
  CHECK(config_error("servers: ['tcp://127.0.0.1:1']").find("topics") != std::string::npos);
  CHECK(config_error(base + ", qos: 3").find("option \"qos\": expected 0, 1 or 2, got 3") != std::string::npos);
  CHECK(config_error(base + ", persistent_session: true")
            .find("option \"persistent_session\": needs client_id") != std::string::npos);
  CHECK(config_error("servers: ['ws://b:1'], topics: [a]")
            .find("option \"servers\": unknown scheme \"ws\"") != std::string::npos);
  CHECK(config_error("servers: ['tcp://b:1'], topics: ['a/#/b']")
            .find("option \"topics\": \"a/#/b\": '#' must be the whole last level") != std::string::npos);
  CHECK(config_error(base + ", max_undelivered_messages: 0")
            .find("option \"max_undelivered_messages\": must be at least 1, got 0") != std::string::npos);
  CHECK(config_error(base + ", tls_ca: /etc/ssl/certs/ca-certificates.crt")
            .find("option \"tls_ca\": TLS options need an ssl://, tls:// or mqtts:// server") !=
        std::string::npos);
  CHECK(config_error("servers: ['ssl://b:1'], topics: [a], tls_ca: /nonexistent/ca.pem")
            .find("cannot load the CA file /nonexistent/ca.pem") != std::string::npos);
  CHECK(config_error(base + ", password: secret")
            .find("option \"password\": MQTT sends a password only with a username") != std::string::npos);
  CHECK(config_error(base + ", keepalive: -1").find("keepalive") != std::string::npos);
}
