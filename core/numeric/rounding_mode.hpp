#pragma once
// Rounding modes. Directed modes are meant in the IEEE 754 sense: Up = toward +infinity,
// Down = toward -infinity. Stochastic rounds to one of the two neighbours of x with probabilities
// proportional to closeness (unbiased: E[round(x)] = x), drawing from a seeded std::mt19937_64 so
// that a run is reproducible.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ks::numeric {

enum class Rounding : std::uint8_t { NearestEven, TowardZero, Up, Down, Stochastic };

/// "nearest" (also "rne", "nearest-even"), "toward-zero" ("rz", "trunc"), "up" ("ru"),
/// "down" ("rd"), "stochastic" ("sr"). Throws std::invalid_argument naming the input.
Rounding parseRounding(std::string_view name);
/// The canonical name accepted by parseRounding.
std::string roundingName(Rounding rounding);

}  // namespace ks::numeric
