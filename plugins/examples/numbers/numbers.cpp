// The numbers library: the class of numbers.hpp, exported with one line.
#include "numbers.hpp"

#include "sluice/sdk.hpp"

SLUICE_PLUGIN("1.0.0",
              sluice::sdk::plugin<examples::Numbers>("numbers",
                                                     "Read numbers from a file, one per line",
                                                     examples::kNumbersOptions))
