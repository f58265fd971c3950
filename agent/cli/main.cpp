#include "cli/commands.hpp"

int main(int argc, char** argv) { return sluice::cli::main(argc, argv); }
