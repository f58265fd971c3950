// What the two modes of the derivative aggregator share: their settings, and the pairs mode's
// factory (derivative.cpp holds the window mode and picks one).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "sluice/plugin.hpp"

namespace sluice::aggregators::derivative {

struct Settings {
  std::string variable;   // a field to divide by instead of time; empty: time in seconds
  std::string suffix;     // appended to each field's name
  int64_t max_roll_over;  // windows in a row the last metric may start the next window
};

// mode: pairs, the derivative between each two consecutive metrics of a series (pairwise.cpp).
std::unique_ptr<Aggregator> make_pairwise(const Settings& settings, Logger& log);

}  // namespace sluice::aggregators::derivative
