// abi_bench's pass-through processor as a plugin shared object through the C++ SDK: the class
// of abi_passthrough.hpp (a sluice::Processor, on copies), and the same written as a
// sluice::sdk::ViewProcessor (on the agent's metrics in place).
#include "abi_passthrough.hpp"
#include "sluice/sdk.hpp"

namespace {

class PassThroughView final : public sluice::sdk::ViewProcessor {
 public:
  void process(sluice::sdk::MetricBatch& batch) override {
    for (size_t i = 0; i < batch.size(); ++i) seen_ += batch[i].field_count();
  }

 private:
  size_t seen_ = 0;
};

}  // namespace

SLUICE_PLUGIN(
    "1.0.0",
    sluice::sdk::plugin<abi_bench::PassThrough>("passthrough_so",
                                                "Passes metrics on, from a shared object"),
    sluice::sdk::plugin<PassThroughView>("passthrough_view",
                                         "Passes metrics on, from a shared object, in place"))
