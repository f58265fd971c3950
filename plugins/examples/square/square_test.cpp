// processors.square, driven directly.
#include "square/square.hpp"

#include <variant>

#include "test_support/check.hpp"

int main() {
  sluice::Options o;
  o.set("field", std::string("value"), false);
  o.set("target", std::string(""), false);
  examples::Square square(o);

  sluice::Batch batch;
  sluice::Metric a("m", 1);
  a.set_field("value", int64_t{3});
  sluice::Metric b("m", 2);
  b.set_field("value", 1.5);
  sluice::Metric c("m", 3);
  c.set_field("value", std::string("text"));
  sluice::Metric d("m", 4);
  d.set_field("other", 2.0);
  batch.push_back(a);
  batch.push_back(b);
  batch.push_back(c);
  batch.push_back(d);

  sluice::Batch out = square.process(batch);
  EXAMPLE_CHECK(out.size() == 4);
  if (out.size() == 4) {
    EXAMPLE_CHECK(std::get<double>(*out[0].field("value_squared")) == 9.0);
    EXAMPLE_CHECK(std::get<int64_t>(*out[0].field("value")) == 3);  // the original stays
    EXAMPLE_CHECK(std::get<double>(*out[1].field("value_squared")) == 2.25);
    EXAMPLE_CHECK(out[2] == c);  // text: unchanged
    EXAMPLE_CHECK(out[3] == d);  // no such field: unchanged
  }

  sluice::Options named;
  named.set("field", std::string("value"), false);
  named.set("target", std::string("sq"), true);
  examples::Square custom(named);
  sluice::Batch one = custom.process({a});
  EXAMPLE_CHECK(one.size() == 1 && one[0].field("sq") != nullptr);
  return examples::result("square");
}
