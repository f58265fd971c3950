// Gathers what several messages (datagrams, reads of a stream) parse to, so that the pipeline
// gets one batch per burst instead of one per message. Used by one thread.
#pragma once

#include <string_view>
#include <vector>

#include "plugin/parse_into.hpp"
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
      pending_.reserve(pending_.size() + batch.size());
      for (Metric& m : batch) pending_.push_back(std::move(m));
    }
  }
  void add_error(std::string_view message) override { inner_.add_error(message); }
  void add_rejected(std::string_view message) override { inner_.add_rejected(message); }
  int64_t time() const override { return inner_.time(); }

  size_t size() const { return pending_.size(); }
  // Parses `data` straight onto the end of the pending batch (what plugin::parse_into does,
  // without a batch of its own to move over), reporting each bad record as rejected.
  void parse(Parser& parser, std::string_view format, std::string_view data,
             std::string_view source) {
    errors_.clear();
    // A new batch starts with room for as many metrics as the last one held: growing it from
    // nothing would move every metric several times.
    if (pending_.capacity() == 0) pending_.reserve(last_flushed_);
    parser.parse(data, inner_.time(), pending_, errors_);
    for (const ParseError& e : errors_) {
      inner_.add_rejected(plugin::describe_parse_error(format, e, source));
    }
  }
  void flush() {
    last_flushed_ = pending_.size();
    if (!pending_.empty()) inner_.add_batch(std::move(pending_));
    pending_ = Batch();
  }

 private:
  Accumulator& inner_;
  Batch pending_;
  size_t last_flushed_ = 0;
  std::vector<ParseError> errors_;
};

}  // namespace sluice::inputs::socket_listener
