// The append_file library: the class of append_file.hpp, exported with one line.
#include "append_file.hpp"

#include "sluice/sdk.hpp"

SLUICE_PLUGIN("1.0.0",
              sluice::sdk::plugin<examples::AppendFile>("append_file",
                                                        "Append metrics to a file as line protocol",
                                                        examples::kAppendFileOptions))
