#include <doctest/doctest.h>

#include "config/config.hpp"
#include "core/filter.hpp"
#include "core/glob.hpp"
#include "support/test_plugins.hpp"

using sluice::Metric;
using sluice::core::glob_match;
using sluice::core::GlobSet;
using sluice::core::MetricFilter;

namespace {

// Builds the filter of a recorder output written with `options` in YAML.
MetricFilter filter_from(const std::string& options) {
  auto config = sluice::config::load_text(
      "outputs:\n  - recorder: {name: f, " + options + "}\n", "filter.yaml",
      sluice::testing::test_registry());
  return MetricFilter::from_options(config.outputs.at(0).options);
}

Metric cpu_metric() {
  Metric m("cpu", 1);
  m.set_tag("cpu", "cpu0");
  m.set_tag("host", "web1");
  m.set_field("usage_idle", 90.0);
  m.set_field("usage_user", 5.0);
  m.set_field("time_idle", int64_t{100});
  return m;
}

}  // namespace

TEST_CASE("glob patterns") {
  CHECK(glob_match("cpu", "cpu"));
  CHECK_FALSE(glob_match("cpu", "cpu0"));
  CHECK(glob_match("cpu*", "cpu0"));
  CHECK(glob_match("*idle", "usage_idle"));
  CHECK(glob_match("u*_i*e", "usage_idle"));
  CHECK(glob_match("cpu?", "cpu7"));
  CHECK_FALSE(glob_match("cpu?", "cpu10"));
  CHECK(glob_match("cpu[0-3]", "cpu2"));
  CHECK_FALSE(glob_match("cpu[0-3]", "cpu5"));
  CHECK(glob_match("cpu[!0-3]", "cpu5"));
  CHECK(glob_match("*", ""));
  CHECK(GlobSet({"{mem,swap}"}).matches("swap"));
  CHECK(GlobSet({"disk{io,}"}).matches("disk"));
  CHECK(GlobSet({"disk{io,}"}).matches("diskio"));
  CHECK_FALSE(GlobSet({"disk{io,}"}).matches("disks"));
  CHECK(GlobSet({"a", "b*"}).matches("bee"));
  CHECK(GlobSet().empty());
}

TEST_CASE("namepass and namedrop select by measurement") {
  CHECK(filter_from("namepass: [cpu, mem*]").selects(cpu_metric()));
  CHECK_FALSE(filter_from("namepass: [mem*]").selects(cpu_metric()));
  CHECK_FALSE(filter_from("namedrop: [c*]").selects(cpu_metric()));
  CHECK(filter_from("namedrop: [disk]").selects(cpu_metric()));
}

TEST_CASE("tagpass and tagdrop: any matching tag decides") {
  CHECK(filter_from("tagpass: {cpu: [cpu0, cpu1]}").selects(cpu_metric()));
  CHECK(filter_from("tagpass: {cpu: cpu*}").selects(cpu_metric()));  // one value, no list
  CHECK_FALSE(filter_from("tagpass: {cpu: [cpu1]}").selects(cpu_metric()));
  CHECK(filter_from("tagpass: {cpu: [cpu1], host: [web*]}").selects(cpu_metric()));
  CHECK_FALSE(filter_from("tagpass: {missing: ['*']}").selects(cpu_metric()));
  CHECK_FALSE(filter_from("tagdrop: {host: [web1]}").selects(cpu_metric()));
  CHECK(filter_from("tagdrop: {host: [db*]}").selects(cpu_metric()));
}

TEST_CASE("field and tag include/exclude trim the metric") {
  Metric m = cpu_metric();
  CHECK(filter_from("fieldinclude: [usage_*]").modify(m));
  CHECK(m.fields().size() == 2);
  CHECK(m.field("time_idle") == nullptr);

  m = cpu_metric();
  CHECK(filter_from("fieldpass: [usage_idle]").modify(m));  // the former name works too
  CHECK(m.fields().size() == 1);

  m = cpu_metric();
  CHECK(filter_from("fieldexclude: [usage_*]").modify(m));
  CHECK(m.fields().size() == 1);

  m = cpu_metric();
  CHECK(filter_from("fielddrop: ['*']").modify(m) == false);  // no field left: drop

  m = cpu_metric();
  CHECK(filter_from("taginclude: [cpu]").modify(m));
  CHECK(m.tags().size() == 1);
  CHECK(m.tag("cpu") == "cpu0");

  m = cpu_metric();
  CHECK(filter_from("tagexclude: [host]").modify(m));
  CHECK_FALSE(m.has_tag("host"));
}

TEST_CASE("an empty filter selects and keeps everything") {
  MetricFilter f = filter_from("alias: x");
  CHECK(f.selects_everything());
  CHECK(f.modifies_nothing());
  Metric m = cpu_metric();
  CHECK(f.selects(m));
  CHECK(f.modify(m));
  CHECK(m == cpu_metric());
}
