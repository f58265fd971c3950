// The mqtt output's topic templates (Telegraf's Go-template forms) and option checks.
#include <doctest/doctest.h>

#include "config/config.hpp"
#include "outputs/mqtt/topic_template.hpp"
#include "plugin/registry.hpp"

using sluice::Metric;
using sluice::OptionError;
using sluice::outputs::mqtt::publish_topic_problem;
using sluice::outputs::mqtt::TopicTemplate;

namespace {

Metric sample() {
  Metric m("cpu", 1);
  m.set_tag("host", "web01");
  m.set_tag("region", "eu-west");
  m.set_field("usage", 1.0);
  return m;
}

std::string render(const std::string& text, const Metric& m = sample()) {
  return TopicTemplate(text).render(m);
}

std::string error_of(const std::string& text) {
  try {
    TopicTemplate t(text);
  } catch (const OptionError& e) {
    CHECK(e.option() == "topic");
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("mqtt topic: Hostname is the host tag, PluginName and Name the metric's name") {
  CHECK(render("sluice/{{ .Hostname }}/{{ .PluginName }}") == "sluice/web01/cpu");
  CHECK(render("{{.Hostname}}/{{.Name}}") == "web01/cpu");
  CHECK(render("a/{{ .Tag \"region\" }}/b") == "a/eu-west/b");
  CHECK(render("a/{{ .Tag `region` }}") == "a/eu-west");
  CHECK(render("x-{{ .PluginName }}-y") == "x-cpu-y");
  CHECK(render("this/is/a/topic") == "this/is/a/topic");
  CHECK(TopicTemplate("this/is/a/topic").is_constant());
  CHECK_FALSE(TopicTemplate("a/{{ .Hostname }}").is_constant());
}

TEST_CASE("mqtt topic: missing tags and empty segments drop out, nothing left is the name") {
  CHECK(render("p/{{ .Tag \"missing\" }}/{{ .PluginName }}") == "p/cpu");
  CHECK(render("double//slashes//are//ignored/") == "double/slashes/are/ignored");
  CHECK(render("/leading/{{ .Hostname }}") == "/leading/web01");
  CHECK(render("{{ .Tag \"missing\" }}") == "cpu");
  CHECK(render("") == "cpu");
  Metric bare("mem", 1);
  CHECK(render("sluice/{{ .Hostname }}/{{ .PluginName }}", bare) == "sluice/mem");
}

TEST_CASE("mqtt topic: Go's trim markers remove the space beside an action") {
  CHECK(render("a/ {{- .Hostname -}} /b") == "a/web01/b");
  CHECK(render("a/ {{ .Hostname }}") == "a/ web01");
}

TEST_CASE("mqtt topic: unknown actions, bad tag keys and wildcards are option errors") {
  CHECK(error_of("a/{{ .Host }}").find("unknown action {{ .Host }}") != std::string::npos);
  CHECK(error_of("a/{{ .Tag region }}").find("one quoted string") != std::string::npos);
  CHECK(error_of("a/{{ .Tag \"a\" \"b\" }}").find("one quoted string") != std::string::npos);
  CHECK(error_of("a/{{ .Hostname | upper }}").find("unknown action") != std::string::npos);
  CHECK(error_of("a/{{ .Hostname").find("never closed") != std::string::npos);
  CHECK(error_of("a/+/b").find("wildcards") != std::string::npos);
  CHECK(error_of("a/#").find("wildcards") != std::string::npos);
  CHECK(error_of("a/{{ .Tag \"k\" }}").empty());
}

TEST_CASE("mqtt topic: rendered topics with wildcards cannot be published") {
  CHECK(publish_topic_problem("a/b").empty());
  CHECK(publish_topic_problem("a/b+c").find("wildcard") != std::string::npos);
  CHECK(publish_topic_problem("a/#").find("wildcard") != std::string::npos);
  CHECK_FALSE(publish_topic_problem("").empty());
}

TEST_CASE("mqtt options: invalid values are refused with the option's name") {
  const auto* info =
      sluice::plugin::Registry::builtins().find(sluice::plugin::Kind::kOutput, "mqtt");
  REQUIRE(info != nullptr);
  auto refused = [&](const std::string& options) -> std::string {
    auto config =
        sluice::config::load_text("outputs:\n  - mqtt: {" + options + "}\n", "mqtt-test.yaml");
    struct : sluice::Logger {
      void log(sluice::LogLevel, std::string_view) override {}
      bool enabled(sluice::LogLevel) const override { return false; }
    } quiet;
    try {
      info->create_output(sluice::PluginContext{config.outputs.at(0).options, quiet});
    } catch (const OptionError& e) {
      return e.option() + ": " + e.what();
    }
    return "accepted";
  };
  CHECK(refused("topic: 'a/{{ .Host }}'").rfind("topic: invalid topic template", 0) == 0);
  CHECK(refused("topic: 'a/{{ .Host }}'").find("unknown action {{ .Host }}") != std::string::npos);
  CHECK(refused("qos: 3") == "qos: expected 0, 1 or 2, got 3");
  CHECK(refused("protocol: \"3.1\"") == "protocol: expected 3.1.1 or 5, got \"3.1\"");
  CHECK(refused("persistent_session: true").rfind("persistent_session: needs client_id", 0) == 0);
  CHECK(refused("servers: [\"udp://127.0.0.1:1\"]").rfind("servers: unknown scheme", 0) == 0);
  CHECK(refused("servers: []") == "servers: needs at least one broker");
  CHECK(refused("tls_ca: /etc/ssl/ca.pem").rfind("tls_ca: TLS options need", 0) == 0);
  CHECK(refused("timeout: 0s") == "timeout: must be longer than 0s");
  // The TLS files load with the config (as mqtt_consumer's), so a missing one is named at once.
  CHECK(refused("qos: 1, servers: [\"tls://127.0.0.1:8883\"], tls_ca: /nonexistent/ca.pem")
            .rfind("tls_ca: cannot load the CA file /nonexistent/ca.pem", 0) == 0);
  CHECK(refused("qos: 1, servers: [\"tls://127.0.0.1:8883\"], insecure_skip_verify: true") ==
        "accepted");
  CHECK(refused("qos: 0, protocol: 5, persistent_session: true, client_id: me") == "accepted");
}
