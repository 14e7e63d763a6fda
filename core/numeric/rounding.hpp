#pragma once
#include <cstdint>

namespace ks::numeric {

enum class Rounding : std::uint8_t { NearestEven, TowardZero, Up, Down, Stochastic };

}  // namespace ks::numeric
