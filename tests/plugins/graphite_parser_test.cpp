// The graphite data format: plaintext lines, tagged paths and Telegraf's templates.
#include <doctest/doctest.h>

#include "plugin_test_support.hpp"

using namespace sluice;
using namespace sluice::testing;
using namespace std::string_view_literals;

namespace {

constexpr int64_t kT = 1'700'000'000LL * kSecond;

struct Parsed {
  Batch metrics;
  std::vector<ParseError> errors;
};

Parsed parse(Parser& parser, std::string_view data) {
  Parsed p;
  parser.parse(data, kGatherTime, p.metrics, p.errors);
  return p;
}

std::unique_ptr<Parser> with_templates(std::vector<std::string> templates,
                                       std::string separator = ".") {
  return make_parser("graphite",
                     {{"templates", std::move(templates)}, {"separator", std::move(separator)}});
}

}  // namespace

TEST_CASE("the graphite parser without templates makes the path the measurement") {
  auto parser = make_parser("graphite");
  CHECK(parser->splits_on_lines());
  Parsed p = parse(*parser, "cpu.load.1m 0.5 1700000000\r\nmem.free 12\n");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0].name() == "cpu.load.1m");
  CHECK(p.metrics[0].time() == kT);
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"value", 0.5}});
  CHECK(p.metrics[0].tags().empty());
  CHECK(p.metrics[1].name() == "mem.free");
  CHECK(p.metrics[1].time() == kGatherTime);
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"value", 12.0}});

  auto underscore = with_templates({}, "_");
  p = parse(*underscore, "cpu.load.1m 0.5 1700000000");
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].name() == "cpu_load_1m");
}

TEST_CASE("graphite templates pick measurement, field and tags, with the template's tags") {
  auto parser = with_templates(
      {"servers.* .host.measurement.field", "stats.* .host.measurement* region=us-west,zone=1a",
       "measurement.measurement.field*"},
      "_");
  Parsed p = parse(*parser,
                   "servers.web01.cpu.idle 98 1700000000\n"
                   "stats.local.cpu.load.avg 3 1700000000\n"
                   "disk.sda.io.read 5 1700000000\n");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 3);
  CHECK(p.metrics[0].name() == "cpu");
  CHECK(p.metrics[0].tags() == std::vector<Tag>{{"host", "web01"}});
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"idle", 98.0}});
  CHECK(p.metrics[1].name() == "cpu_load_avg");
  CHECK(p.metrics[1].tags() ==
        std::vector<Tag>{{"host", "local"}, {"region", "us-west"}, {"zone", "1a"}});
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"value", 3.0}});
  CHECK(p.metrics[2].name() == "disk_sda");
  CHECK(p.metrics[2].tags().empty());
  CHECK(p.metrics[2].fields() == std::vector<Field>{{"io_read", 5.0}});
}

TEST_CASE("the most specific graphite filter wins, and repeated tags are joined") {
  auto parser = with_templates({"servers.* .host.measurement.field",
                                "servers.db .role.measurement env=prod", "dc.* .dc.dc.measurement"},
                               "-");
  Parsed p = parse(*parser,
                   "servers.db.mysql.qps 10 1700000000\nservers.web.nginx.rps 7 1700000000\n"
                   "dc.eu.west.net 1 1700000000\n");
  REQUIRE(p.metrics.size() == 3);
  CHECK(p.metrics[0].name() == "mysql");
  CHECK(p.metrics[0].tags() == std::vector<Tag>{{"env", "prod"}, {"role", "db"}});
  CHECK(p.metrics[0].fields() == std::vector<Field>{{"value", 10.0}});
  CHECK(p.metrics[1].name() == "nginx");
  CHECK(p.metrics[1].tags() == std::vector<Tag>{{"host", "web"}});
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"rps", 7.0}});
  CHECK(p.metrics[2].name() == "net");
  CHECK(p.metrics[2].tags() == std::vector<Tag>{{"dc", "eu-west"}});
}

TEST_CASE("graphite tagged paths and fractional timestamps") {
  auto parser = make_parser("graphite");
  Parsed p = parse(*parser, "cpu.load;host=a;dc=eu 1.5 1700000000.25\ndisk.used 7 -1\n");
  REQUIRE(p.errors.empty());
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0].name() == "cpu.load");
  CHECK(p.metrics[0].tags() == std::vector<Tag>{{"dc", "eu"}, {"host", "a"}});
  CHECK(p.metrics[0].time() == kT + 250'000'000);
  CHECK(p.metrics[1].time() == kGatherTime);  // -1: now
}

TEST_CASE("bad graphite lines are reported with line and column, the others kept") {
  auto parser = make_parser("graphite");
  Parsed p = parse(*parser,
                   "a.b 1 1700000000\n"
                   "bad\n"
                   "a.c x\n"
                   "a.d 2 notatime\n"
                   "a.e 3 1700000000 extra\n"
                   "a.f NaN\n"
                   "a.h;nokey 1\n"
                   "\x01\x02\xff \xfe\x00\n"sv
                   "a.g 4\n");
  REQUIRE(p.metrics.size() == 2);
  CHECK(p.metrics[0].name() == "a.b");
  CHECK(p.metrics[1].name() == "a.g");
  CHECK(p.metrics[1].fields() == std::vector<Field>{{"value", 4.0}});
  REQUIRE(p.errors.size() == 7);
  CHECK(p.errors[0].line == 2);
  CHECK(p.errors[0].column == 4);
  CHECK(p.errors[0].reason == "missing value; expected \"path value [timestamp]\"");
  CHECK(p.errors[1].line == 3);
  CHECK(p.errors[1].column == 5);
  CHECK(p.errors[1].reason == "value \"x\" is not a number");
  CHECK(p.errors[2].line == 4);
  CHECK(p.errors[2].column == 7);
  CHECK(p.errors[2].reason == "timestamp \"notatime\" is not Unix seconds");
  CHECK(p.errors[3].line == 5);
  CHECK(p.errors[3].column == 18);
  CHECK(p.errors[4].line == 6);
  CHECK(p.errors[4].reason == "value \"NaN\" is not finite");
  CHECK(p.errors[5].line == 7);
  CHECK(p.errors[5].column == 5);
  CHECK(p.errors[5].reason == "tag \"nokey\" is not key=value");
  CHECK(p.errors[6].line == 8);
  CHECK(p.errors[6].column == 5);
}

TEST_CASE("an oversized graphite line is read, not cut") {
  auto parser = make_parser("graphite");
  std::string path(100'000, 'x');
  Parsed p = parse(*parser, path + " 1 1700000000\n");
  REQUIRE(p.metrics.size() == 1);
  CHECK(p.metrics[0].name() == path);
}

TEST_CASE("malformed graphite templates are refused at creation") {
  CHECK_THROWS_WITH_AS(with_templates({"measurement*.field*"}), doctest::Contains("not both"),
                       OptionError);
  CHECK_THROWS_WITH_AS(with_templates({"measurement", "measurement.field"}),
                       doctest::Contains("only one default template"), OptionError);
  CHECK_THROWS_WITH_AS(with_templates({"a.* measurement region"}),
                       doctest::Contains("is not key=value"), OptionError);
  CHECK_THROWS_WITH_AS(with_templates({"a b c d"}), doctest::Contains("[filter] template"),
                       OptionError);
}
