// Plugins whose callbacks throw, to show that no exception crosses into the agent: the SDK turns
// each one into an error code and message, and the agent logs it with the instance's alias and
// goes on. Each throws a std::exception and, the next time, something that is not one.
#include <stdexcept>
#include <string>

#include "sluice/sdk.hpp"

namespace {

const sluice::OptionSpec kOptions[] = {
    {"fail_create", sluice::OptionType::kBool, "false", "Refuse to be created"},
    {"message", sluice::OptionType::kString, "thrown on purpose", "What the exceptions say"},
};

// What every throwing plugin shares: the options, and alternating kinds of exceptions.
class Thrower {
 public:
  explicit Thrower(const sluice::Options& options) : message_(options.get_string("message")) {
    if (options.get_bool("fail_create")) {
      throw sluice::OptionError("fail_create", "refused on purpose");
    }
  }
  [[noreturn]] void raise() {
    if (++calls_ % 2 == 1) throw std::runtime_error(message_);
    throw 42;  // not a std::exception
  }

 private:
  std::string message_;
  int calls_ = 0;
};

// Adds one metric, then throws: what was added before the exception is kept.
class ThrowingInput final : public sluice::Input {
 public:
  explicit ThrowingInput(const sluice::Options& options) : thrower_(options) {}
  void gather(sluice::Accumulator& acc) override {
    sluice::Metric m("throwing", 0);
    m.set_field("before_throw", int64_t{1});
    acc.add(std::move(m));
    thrower_.raise();
  }

 private:
  Thrower thrower_;
};

class ThrowingProcessor final : public sluice::Processor {
 public:
  explicit ThrowingProcessor(const sluice::Options& options) : thrower_(options) {}
  sluice::Batch process(sluice::Batch) override { thrower_.raise(); }

 private:
  Thrower thrower_;
};

class ThrowingOutput final : public sluice::Output {
 public:
  explicit ThrowingOutput(const sluice::Options& options) : thrower_(options) {}
  sluice::WriteResult write(std::span<const sluice::Metric>) override { thrower_.raise(); }

 private:
  Thrower thrower_;
};

}  // namespace

SLUICE_PLUGIN("0.0.1",
              sluice::sdk::plugin<ThrowingInput>("throwing", "An input that throws", kOptions),
              sluice::sdk::plugin<ThrowingProcessor>("throwing", "A processor that throws",
                                                     kOptions),
              sluice::sdk::plugin<ThrowingOutput>("throwing", "An output that throws", kOptions))
