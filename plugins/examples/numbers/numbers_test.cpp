// inputs.numbers, driven directly: options in, metrics out.
#include "numbers/numbers.hpp"

#include <cstdio>
#include <fstream>
#include <variant>

#include "test_support/check.hpp"

using examples::TestAccumulator;

namespace {

sluice::Options options(const std::string& path) {
  sluice::Options o;
  o.set("path", path, true);
  o.set("measurement", std::string("numbers"), false);
  o.set("field", std::string("value"), false);
  return o;
}

}  // namespace

int main() {
  examples::TestLogger log;
  const std::string path = "numbers_test_input.txt";
  std::ofstream(path) << "1\n  2.5 \n# a comment\n\nseven\n-3\n";

  sluice::Options o = options(path);
  examples::Numbers input(sluice::PluginContext{o, log});
  TestAccumulator acc;
  input.gather(acc);
  EXAMPLE_CHECK(acc.metrics.size() == 3);
  EXAMPLE_CHECK(acc.errors.size() == 1);
  if (acc.metrics.size() == 3) {
    EXAMPLE_CHECK(acc.metrics[0].name() == "numbers");
    EXAMPLE_CHECK(acc.metrics[0].tag("line") == "1");
    EXAMPLE_CHECK(std::get<int64_t>(*acc.metrics[0].field("value")) == 1);
    EXAMPLE_CHECK(std::get<double>(*acc.metrics[1].field("value")) == 2.5);
    EXAMPLE_CHECK(acc.metrics[2].tag("line") == "6");
    EXAMPLE_CHECK(std::get<int64_t>(*acc.metrics[2].field("value")) == -3);
    EXAMPLE_CHECK(acc.metrics[0].time() == 0);  // the agent stamps the gather's time
  }
  if (acc.errors.size() == 1) EXAMPLE_CHECK(acc.errors[0] == path + ":5: not a number: seven");

  // A missing file is a gather error, not an exception.
  sluice::Options missing = options("no-such-file.txt");
  examples::Numbers absent(sluice::PluginContext{missing, log});
  TestAccumulator none;
  absent.gather(none);
  EXAMPLE_CHECK(none.metrics.empty() && none.errors.size() == 1);

  // An empty path is refused with the option's name.
  sluice::Options empty = options("");
  try {
    examples::Numbers bad(sluice::PluginContext{empty, log});
    EXAMPLE_CHECK(false);
  } catch (const sluice::OptionError& e) {
    EXAMPLE_CHECK(e.option() == "path");
  }
  std::remove(path.c_str());
  return examples::result("numbers");
}
