// Scalar rounding of a double to any format. Placeholder-free but simple: the numeric module's
// owner replaces it with the bit-manipulation version (issue 3).
#include <cmath>
#include <limits>

#include "numeric/arithmetic.hpp"

namespace ks::numeric {

namespace {

double roundSignificand(double scaled, Rounding rounding, std::mt19937_64* rng) {
    switch (rounding) {
    case Rounding::NearestEven: return std::nearbyint(scaled);  // default FE_TONEAREST
    case Rounding::TowardZero: return std::trunc(scaled);
    case Rounding::Up: return std::ceil(scaled);
    case Rounding::Down: return std::floor(scaled);
    case Rounding::Stochastic: {
        const double lower = std::floor(scaled);
        const double u = rng ? std::uniform_real_distribution<double>(0.0, 1.0)(*rng) : 0.5;
        return (scaled - lower) > u ? lower + 1.0 : lower;
    }
    }
    return scaled;
}

double roundFloat(double x, const Format& f, Rounding rounding, std::mt19937_64* rng) {
    if (!std::isfinite(x) || x == 0.0) return x;
    const int bias = (1 << (f.exponentBits - 1)) - 1;
    const int emin = 1 - bias;
    const int emax = f.specials == Specials::FiniteOnlyOcp ? bias + 1 : bias;
    int e = std::ilogb(x);
    if (e < emin) {
        if (!f.subnormals) {
            // flush: round at the normal grid's resolution, then flush values below the smallest normal
            e = emin;
        } else {
            e = emin;
        }
    }
    const int quantum = e - f.mantissaBits;
    double r = std::ldexp(roundSignificand(std::ldexp(x, -quantum), rounding, rng), quantum);
    if (!f.subnormals && std::fabs(r) < std::ldexp(1.0, emin)) r = std::copysign(0.0, x);
    double maxFinite = std::ldexp(2.0 - std::ldexp(1.0, -f.mantissaBits), emax);
    if (f.specials == Specials::FiniteOnlyOcp)
        maxFinite = std::ldexp(2.0 - std::ldexp(2.0, -f.mantissaBits), emax);
    if (std::fabs(r) > maxFinite) {
        if (f.overflow == Overflow::Saturate) return std::copysign(maxFinite, x);
        return std::copysign(std::numeric_limits<double>::infinity(), x);
    }
    return r;
}

}  // namespace

double roundTo(double x, const Format& format, Rounding rounding, std::mt19937_64* rng) {
    switch (format.kind) {
    case FormatKind::Float: return roundFloat(x, format, rounding, rng);
    default: return x;  // TODO(issue 3): fixed, scaled int, log
    }
}

}  // namespace ks::numeric
