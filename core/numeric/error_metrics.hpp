#pragma once
// How far a computed array is from a reference: the figures every precision study plots.
#include <cstddef>
#include <span>
#include <string>

namespace ks::numeric {

/// Over the elements where both the result and the reference are finite (the others are counted in
/// nonFinite, so one overflow does not turn every other figure into inf/NaN):
struct ErrorMetrics {
    double relativeFrobenius = 0;  ///< ||x - ref||_2 / ||ref||_2 (absolute ||x - ref||_2 when ref is all zero)
    double maxAbs = 0;             ///< max |x - ref|
    double meanAbs = 0;            ///< mean |x - ref|
    double meanSquared = 0;        ///< mean (x - ref)^2
    double maxRelative = 0;        ///< max |x - ref| / |ref| over ref != 0 (0 when every ref is 0)
    std::size_t count = 0;         ///< elements compared (finite in both)
    std::size_t nonFinite = 0;     ///< elements where the result is inf/NaN while the reference is finite
    std::size_t referenceNonFinite = 0;  ///< elements where the reference itself is not finite
};

/// Sums in long double (compensation-free but 64-bit significands: exact enough for n up to ~1e9).
/// Throws std::invalid_argument when the sizes differ.
ErrorMetrics errorMetrics(std::span<const double> result, std::span<const double> reference);
ErrorMetrics errorMetrics(std::span<const float> result, std::span<const double> reference);
ErrorMetrics errorMetrics(std::span<const float> result, std::span<const float> reference);

/// One line, e.g. "rel.frob 1.2e-03  max.abs 3.1e-04  mean.abs ...  non-finite 0".
std::string toString(const ErrorMetrics& m);

}  // namespace ks::numeric
