#pragma once
// Rounding values to a Format: one double (roundTo, Rounder), whole arrays (roundArray), and the
// per-tensor scaled integers (quantizeScaledInt).
//
// What a rounding means for each kind:
//   Float      the IEEE 754 rounding of x to the format's grid (unbounded exponent first, then range):
//              results above the largest finite value give infinity (NaN for a finite-only format) or
//              saturate, as the format says; toward-zero and the directed mode pointing inward never
//              overflow (they give the largest finite value). Without subnormals, values below the
//              smallest normal xmin round, in the given mode, to 0 or xmin. NaN stays NaN; infinity
//              stays infinity (finite-only: saturates, or NaN in the non-saturating mode). Zero keeps
//              its sign.
//   Fixed      x * 2^F rounded to an integer in the mode and clamped to the word (saturating, also
//              for infinities). There is no negative zero and no NaN in fixed point: -0 gives +0 and
//              NaN stays NaN (so error metrics can count it).
//   ScaledInt  with a scale S > 0: x / S rounded to an integer and clamped to ±(2^(N-1) - 1), times S.
//              Without a scale (the per-tensor format "int8") a lone value has no meaning: roundTo
//              throws std::invalid_argument; arrays go through quantizeScaledInt, which takes the scale
//              from the largest finite magnitude.
//   Log        x rounded between its two neighbours 2^(c/n) and 2^((c+1)/n), n = 2^F, comparing in the
//              linear domain (nearest = the closer value, ties to the even code; stochastic with
//              probability proportional to the linear distance); magnitudes beyond the largest value
//              saturate, those below the smallest round between 0 and it as if on a linear grid.
//              The returned double is exp2(code / n) as the C library computes it.
//
// The input is a double and is rounded exactly (no double rounding: a double is exact here).
// Double rounding only arises when the value to round was itself rounded to a double first; see
// arithmetic.hpp for how the emulated operations avoid it.
#include <cstdint>
#include <span>
#include <string>

#include "numeric/format.hpp"
#include "numeric/random_bits.hpp"
#include "numeric/rounding_mode.hpp"

namespace ks::numeric {

/// A format and a rounding mode, validated once, with the constants the scalar path needs.
/// Stochastic rounding needs the rounding's RandomSite (std::invalid_argument otherwise) and draws from it
/// at most once (random_bits.hpp: up when the draw R < ⌈fraction · 2^30⌉).
class Rounder {
public:
    Rounder(const Format& format, Rounding rounding);

    double operator()(double x, const RandomSite* site = nullptr) const;
    /// Round an exact value known as approx + error, where approx = RN(exact) is a double and
    /// error is the (double-rounded) remainder whose sign is exact. Correctly rounded for every
    /// format of precision p <= 51 bits (via round-to-odd) and for p = 53 (the double itself).
    double roundExact(double approx, double error, const RandomSite* site = nullptr) const;

    const Format& format() const { return format_; }
    Rounding rounding() const { return rounding_; }
    /// True when rounding to this format changes nothing (fp64 with subnormals and infinities).
    bool identity() const { return identity_; }

private:
    Format format_;
    Rounding rounding_;
    bool identity_ = false;
    // Float constants
    int mantissaBits_ = 0, emin_ = 0;
    double maxFinite_ = 0, overflowValue_ = 0, infinityValue_ = 0;
    // Fixed / ScaledInt: integer units and range
    double unitScale_ = 1, qmin_ = 0, qmax_ = 0;
    bool divideByScale_ = false;
    // Log
    int codeMax_ = 0;
    double codeUnit_ = 1, logMin_ = 0, logMax_ = 0;

    double roundFloat(double x, const RandomSite* site) const;
    /// Stochastic rounding of the exact value approx + error (error = 0: approx itself) to a float format.
    double roundFloatStochastic(double approx, double error, const RandomSite* site) const;
    double roundInteger(double x, const RandomSite* site) const;
    double roundLog(double x, const RandomSite* site) const;
};

/// Round x once to `format`. Same as Rounder(format, rounding)(x, site).
double roundTo(double x, const Format& format, Rounding rounding, const RandomSite* site = nullptr);

/// Round every element of `in` into `out` (same size; in and out may be the same array).
/// Nearest-even to a float format runs a vectorised bit-manipulation kernel; other modes and
/// kinds run the scalar Rounder. A ScaledInt format without scale quantises the array as one
/// tensor (quantizeScaledInt). Stochastic: element i draws at RandomSite{*key, i, 0}.
void roundArray(std::span<const double> in, std::span<double> out, const Format& format,
                Rounding rounding = Rounding::NearestEven, const RandomKey* key = nullptr);
void roundArray(std::span<const float> in, std::span<float> out, const Format& format,
                Rounding rounding = Rounding::NearestEven, const RandomKey* key = nullptr);
inline void roundInPlace(std::span<double> data, const Format& format,
                         Rounding rounding = Rounding::NearestEven, const RandomKey* key = nullptr) {
    roundArray(std::span<const double>(data), data, format, rounding, key);
}
inline void roundInPlace(std::span<float> data, const Format& format,
                         Rounding rounding = Rounding::NearestEven, const RandomKey* key = nullptr) {
    roundArray(std::span<const float>(data), data, format, rounding, key);
}

/// Which code path roundArray takes for this element type ("vector-rne-f64", "scalar", ...):
/// benchmarks print it so a number is never quoted for the wrong kernel.
std::string roundArrayKernel(const Format& format, Rounding rounding, bool sourceIsFloat);

/// Symmetric per-tensor quantisation to `bits`-bit integers: scale = max|x| / (2^(bits-1) - 1)
/// over the finite elements (1 when there is none or all are zero), out = round(x / scale) * scale,
/// clamped to ±(2^(bits-1) - 1) * scale (infinities saturate, NaN stays NaN). Returns the scale.
double quantizeScaledInt(std::span<const double> in, std::span<double> out, int bits,
                         Rounding rounding = Rounding::NearestEven, const RandomKey* key = nullptr);
double quantizeScaledInt(std::span<const float> in, std::span<float> out, int bits,
                         Rounding rounding = Rounding::NearestEven, const RandomKey* key = nullptr);
/// The scale quantizeScaledInt would choose.
double scaledIntScale(std::span<const double> in, int bits);
double scaledIntScale(std::span<const float> in, int bits);

}  // namespace ks::numeric
