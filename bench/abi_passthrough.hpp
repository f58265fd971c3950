// The pass-through processor of abi_bench, compiled twice: into the bench as a built-in, and
// into a plugin shared object. It reads every metric (as a real processor would) and passes the
// batch on unchanged.
#pragma once

#include "sluice/plugin.hpp"

namespace abi_bench {

class PassThrough final : public sluice::Processor {
 public:
  sluice::Batch process(sluice::Batch batch) override {
    for (const sluice::Metric& m : batch) seen_ += m.fields().size();
    return batch;
  }

 private:
  size_t seen_ = 0;
};

}  // namespace abi_bench
