// Gathers what several small messages (datagrams) parse to, so that the pipeline gets one
// batch per burst instead of one per datagram. Used by one thread.
#pragma once

#include "sluice/plugin.hpp"

namespace sluice::inputs::socket_listener {

class BatchingAccumulator final : public Accumulator {
 public:
  explicit BatchingAccumulator(Accumulator& inner) : inner_(inner) {}
  void add(Metric metric) override { pending_.push_back(std::move(metric)); }
  void add_batch(Batch batch) override {
    if (pending_.empty()) {
      pending_ = std::move(batch);
    } else {
      for (Metric& m : batch) pending_.push_back(std::move(m));
    }
  }
  void add_error(std::string_view message) override { inner_.add_error(message); }
  void add_rejected(std::string_view message) override { inner_.add_rejected(message); }
  int64_t time() const override { return inner_.time(); }

  size_t size() const { return pending_.size(); }
  void flush() {
    if (!pending_.empty()) inner_.add_batch(std::move(pending_));
    pending_ = Batch();
  }

 private:
  Accumulator& inner_;
  Batch pending_;
};

}  // namespace sluice::inputs::socket_listener
