// The square library: the class of square.hpp, exported with one line.
#include "square.hpp"

#include "sluice/sdk.hpp"

SLUICE_PLUGIN("1.0.0", sluice::sdk::plugin<examples::Square>(
                           "square", "Add the square of a numeric field as a new field",
                           examples::kSquareOptions))
