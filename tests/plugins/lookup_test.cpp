#include <doctest/doctest.h>

#include <string>

#include "plugin_test_support.hpp"
#include "processor_test_support.hpp"

using sluice::testing::fixture;
using sluice::testing::make_processor;
using sluice::testing::run_lines;

namespace {

std::string config(const std::string& files, const char* format, const char* key) {
  return "{files: [" + files + "], format: " + format + ", key: '" + key + "'}";
}

}  // namespace

TEST_CASE("lookup: JSON table, key as a tag name") {
  auto p = make_processor("lookup", config(fixture("lookup/hosts.json"), "json", "host"));
  CHECK(run_lines(*p,
                  "cpu,host=web01 v=1i 1\ncpu,host=db01,location=old v=2i 2\n"
                  "cpu,host=other v=3i 3\ncpu v=4i 4\n") ==
        "cpu,host=web01,location=eu-west,rack=r1 v=1i 1\n"
        "cpu,host=db01,location=us-east,role=database v=2i 2\n"
        "cpu,host=other v=3i 3\ncpu v=4i 4\n");
}

TEST_CASE("lookup: key templates") {
  auto p = make_processor(
      "lookup", config(fixture("lookup/hosts.json"), "json", "{{.Name}}-{{.Tag \"host\"}}"));
  CHECK(run_lines(*p, "cpu,host=web01 v=1i 1\nmem,host=web01 v=1i 2\ncpu v=1i 3\n") ==
        "cpu,host=web01,kind=cpu-of-web v=1i 1\nmem,host=web01 v=1i 2\ncpu v=1i 3\n");
  auto by_field = make_processor(
      "lookup", config(fixture("lookup/hosts.json"), "json", "{{ .Field `server` }}"));
  CHECK(run_lines(*by_field, "m server=\"db01\" 1\n") ==
        "m,location=us-east,role=database server=\"db01\" 1\n");
}

TEST_CASE("lookup: CSV tables with a header, or with name/value pairs") {
  auto values =
      make_processor("lookup", config(fixture("lookup/hosts.csv"), "csv_key_values", "host"));
  CHECK(run_lines(*values, "m,host=db01 v=1i 1\nm,host=app\\,01 v=1i 2\n") ==
        "m,host=db01,location=us-east v=1i 1\nm,host=app\\,01,location=ap-south,rack=r\\ \"9\" "
        "v=1i 2\n");
  auto pairs = make_processor(
      "lookup", config(fixture("lookup/hosts_name_value.csv"), "csv_key_name_value", "host"));
  CHECK(run_lines(*pairs, "m,host=web01 v=1i 1\nm,host=db01 v=1i 2\n") ==
        "m,host=web01,location=eu-west,rack=r1 v=1i 1\nm,host=db01,role=database v=1i 2\n");
  // Several files make one table; later files win.
  auto both = make_processor("lookup", config(fixture("lookup/hosts_name_value.csv") + ", " +
                                                  fixture("lookup/hosts_name_value.csv"),
                                              "csv_key_name_value", "host"));
  CHECK(run_lines(*both, "m,host=db01 v=1i 2\n") == "m,host=db01,role=database v=1i 2\n");
}

TEST_CASE("lookup: option errors") {
  CHECK_THROWS_WITH_AS(make_processor("lookup", config("/nonexistent.json", "json", "host")),
                       doctest::Contains("cannot read /nonexistent.json"), sluice::OptionError);
  CHECK_THROWS_AS(make_processor("lookup", config(fixture("lookup/hosts.csv"), "json", "host")),
                  sluice::OptionError);
  CHECK_THROWS_AS(make_processor("lookup", config(fixture("lookup/hosts.json"), "yaml", "host")),
                  sluice::OptionError);
  CHECK_THROWS_WITH_AS(
      make_processor("lookup", config(fixture("lookup/hosts.json"), "json", "{{.Tags}}")),
      doctest::Contains("unknown action"), sluice::OptionError);
  CHECK_THROWS_AS(
      make_processor("lookup", config(fixture("lookup/hosts.json"), "json", "{{.Tag host}}")),
      sluice::OptionError);
  CHECK_THROWS_WITH_AS(
      make_processor("lookup", config(fixture("lookup/hosts.json"), "csv_key_values", "host")),
      doctest::Contains("more cells than the header"), sluice::OptionError);
}
