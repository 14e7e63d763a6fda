#pragma once
// Method options shared by `matmul` and `bench matmul` (defined in cmd_matmul.cpp).
#include <vector>

#include "command.hpp"
#include "matmul/matmul_algorithm.hpp"

namespace ks::cli {

std::vector<Option> matmulMethodOptions();
matmul::MatmulOptions matmulOptionsFromArgs(const Args& args);

/// --emulation fast|reference, for every command that emulates a compute spec.
Option emulationOption();
numeric::EmulationEngine emulationFromArgs(const Args& args);

}  // namespace ks::cli
