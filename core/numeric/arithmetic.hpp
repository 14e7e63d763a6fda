#pragma once
// Arithmetic as a template parameter: algorithms are written once, generic over one of these.
//   value_type               the type values are kept in between operations
//   store(x)                 round a stored operand (input, transformed tile) to the storage format
//   mul(a, b), add(a, b)     one rounding each, to the product / accumulation format
//   fma(a, b, c)             a*b + c with a single rounding to the accumulation format
#include <cmath>
#include <random>

#include "numeric/compute_spec.hpp"

namespace ks::numeric {

/// Round x once to `format` (x is exact in double; see docs on the double-rounding limit).
double roundTo(double x, const Format& format, Rounding rounding, std::mt19937_64* rng = nullptr);

template <class T>
struct NativeArithmetic {
    using value_type = T;
    static constexpr bool emulated = false;
    T store(T x) const { return x; }
    T mul(T a, T b) const { return a * b; }
    T add(T a, T b) const { return a + b; }
    T sub(T a, T b) const { return a - b; }
    T fma(T a, T b, T c) const { return std::fma(a, b, c); }
};

/// Values kept in double, every result rounded as the compute specification says.
/// Not thread-safe when stochastic (owns its random stream): give each thread a copy with its own seed.
class EmulatedArithmetic {
public:
    using value_type = double;
    static constexpr bool emulated = true;

    explicit EmulatedArithmetic(const ComputeSpec& spec) : spec_(spec), rng_(spec.seed) {}

    const ComputeSpec& spec() const { return spec_; }
    double store(double x) { return roundTo(x, spec_.storage, spec_.rounding, &rng_); }
    double mul(double a, double b) { return roundTo(a * b, spec_.product, spec_.rounding, &rng_); }
    double add(double a, double b) { return roundTo(a + b, spec_.accumulate, spec_.rounding, &rng_); }
    double sub(double a, double b) { return roundTo(a - b, spec_.accumulate, spec_.rounding, &rng_); }
    double fma(double a, double b, double c) {
        return roundTo(std::fma(a, b, c), spec_.accumulate, spec_.rounding, &rng_);
    }

private:
    ComputeSpec spec_;
    std::mt19937_64 rng_;
};

}  // namespace ks::numeric
