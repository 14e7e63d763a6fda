// Scalar rounding of a double to any format. Float formats work on the double's bit pattern:
// the grid step (quantum) 2^q is found from the exponent field, and the bits below it decide the
// direction; the only floating-point operations are in the subnormal/flush corner.
#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "numeric/round.hpp"

namespace ks::numeric {

namespace {

/// A rounding mode as it acts on the magnitude |x|.
enum class MagnitudeMode : std::uint8_t { Nearest, Truncate, Away, Stochastic };

MagnitudeMode magnitudeMode(Rounding rounding, bool negative) {
    switch (rounding) {
    case Rounding::NearestEven: return MagnitudeMode::Nearest;
    case Rounding::TowardZero: return MagnitudeMode::Truncate;
    case Rounding::Up: return negative ? MagnitudeMode::Truncate : MagnitudeMode::Away;
    case Rounding::Down: return negative ? MagnitudeMode::Away : MagnitudeMode::Truncate;
    case Rounding::Stochastic: return MagnitudeMode::Stochastic;
    }
    return MagnitudeMode::Nearest;
}

std::uint32_t drawOf(const RandomSite* site) {
    if (!site) throw std::invalid_argument("stochastic rounding needs the rounding's random site (none was given)");
    return site->draw();
}

/// True with probability `fraction` (in [0, 1]) to within 2^-30: R < fraction · 2^30, compared exactly.
bool drawBelow(double fraction, const RandomSite* site) {
    return static_cast<double>(drawOf(site)) < fraction * 0x1p30;
}

/// 2^q for q in [-1074, 1023], from the bits (ldexp is a library call, and this is a hot path).
double powerOfTwo(int q) {
    return q >= -1022 ? std::bit_cast<double>(static_cast<std::uint64_t>(q + 1023) << 52)
                      : std::bit_cast<double>(std::uint64_t{1} << (q + 1074));
}

/// Round a non-negative value to an integer.
double roundMagnitudeToInteger(double a, MagnitudeMode mode, const RandomSite* rng) {
    const double low = std::floor(a);
    const double frac = a - low;  // exact
    if (frac == 0) return a;
    bool up = false;
    switch (mode) {
    case MagnitudeMode::Nearest: up = frac > 0.5 || (frac == 0.5 && std::fmod(low, 2.0) != 0); break;
    case MagnitudeMode::Truncate: up = false; break;
    case MagnitudeMode::Away: up = true; break;
    case MagnitudeMode::Stochastic: up = drawBelow(frac, rng); break;
    }
    return up ? low + 1 : low;
}

}  // namespace

Rounding parseRounding(std::string_view name) {
    struct Alias {
        const char* name;
        Rounding rounding;
    };
    static constexpr Alias aliases[] = {
        {"nearest", Rounding::NearestEven},  {"rne", Rounding::NearestEven},   {"nearest-even", Rounding::NearestEven},
        {"toward-zero", Rounding::TowardZero}, {"rz", Rounding::TowardZero},   {"trunc", Rounding::TowardZero},
        {"up", Rounding::Up},                  {"ru", Rounding::Up},           {"down", Rounding::Down},
        {"rd", Rounding::Down},                {"stochastic", Rounding::Stochastic}, {"sr", Rounding::Stochastic}};
    for (const auto& a : aliases)
        if (name == a.name) return a.rounding;
    throw std::invalid_argument("unknown rounding mode '" + std::string(name) +
                                "' (expected nearest, toward-zero, up, down or stochastic; or rne, rz, ru, rd, sr)");
}

std::string roundingName(Rounding rounding) {
    switch (rounding) {
    case Rounding::NearestEven: return "nearest";
    case Rounding::TowardZero: return "toward-zero";
    case Rounding::Up: return "up";
    case Rounding::Down: return "down";
    case Rounding::Stochastic: return "stochastic";
    }
    return "?";
}

Rounder::Rounder(const Format& format, Rounding rounding) : format_(format), rounding_(rounding) {
    validate(format);
    const double inf = std::numeric_limits<double>::infinity();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    switch (format.kind) {
    case FormatKind::Float: {
        const bool finiteOnly = format.specials == Specials::FiniteOnlyOcp;
        const bool saturate = format.overflow == Overflow::Saturate;
        mantissaBits_ = format.mantissaBits;
        emin_ = 2 - (1 << (format.exponentBits - 1));
        maxFinite_ = maxFinite(format);
        overflowValue_ = saturate ? maxFinite_ : (finiteOnly ? nan : inf);
        infinityValue_ = finiteOnly ? overflowValue_ : inf;
        identity_ = format.exponentBits == 11 && format.mantissaBits == 52 && format.subnormals && !finiteOnly &&
                    !saturate;
        break;
    }
    case FormatKind::Fixed:
        unitScale_ = std::ldexp(1.0, format.fractionBits);
        qmax_ = std::ldexp(1.0, format.wordBits - 1) - 1;
        qmin_ = -std::ldexp(1.0, format.wordBits - 1);
        break;
    case FormatKind::ScaledInt:
        unitScale_ = format.scale;
        divideByScale_ = true;
        qmax_ = std::ldexp(1.0, format.intBits - 1) - 1;
        qmin_ = -qmax_;
        break;
    case FormatKind::Log:
        codeMax_ = (1 << (format.logIntegerBits + format.logFractionBits - 1)) - 1;
        codeUnit_ = std::ldexp(1.0, format.logFractionBits);
        logMin_ = minNormal(format);
        logMax_ = maxFinite(format);
        break;
    }
}

double Rounder::operator()(double x, const RandomSite* rng) const {
    switch (format_.kind) {
    case FormatKind::Float: return identity_ ? x : roundFloat(x, rng);
    case FormatKind::Fixed:
    case FormatKind::ScaledInt: return roundInteger(x, rng);
    case FormatKind::Log: return roundLog(x, rng);
    }
    return x;
}

double Rounder::roundFloat(double x, const RandomSite* rng) const {
    if (rounding_ == Rounding::Stochastic) return roundFloatStochastic(x, 0.0, rng);
    if (std::isnan(x)) return x;
    const double a = std::fabs(x);
    if (std::isinf(a)) return std::copysign(infinityValue_, x);
    if (a == 0) return x;
    const MagnitudeMode mode = magnitudeMode(rounding_, std::signbit(x));
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(a);
    const int biased = static_cast<int>(bits >> 52);
    const int ex = biased ? biased - 1023 : std::ilogb(a);
    const int m = mantissaBits_;
    // The grid step 2^q at x: relative to x's binade, fixed in the subnormal range, or the whole
    // [0, xmin) gap when subnormals are off.
    const int q = ex < emin_ ? (format_.subnormals ? emin_ - m : emin_) : ex - m;
    const int ulpExp = biased ? ex - 52 : -1074;  // weight of the double's last bit
    const int dropped = q - ulpExp;               // bits of x below the grid step
    double r = a;
    if (dropped > 0 && q <= ex) {
        // On the raw bits: keep the bits above the step, round up by adding one step (a carry
        // into the exponent field is the correct next binade).
        // Each mode adds a mode-specific amount below the step and clears the dropped bits
        // (no data-dependent branch: random data would mispredict it half the time).
        const std::uint64_t unit = std::uint64_t{1} << dropped;
        const std::uint64_t lowMask = unit - 1;
        std::uint64_t increment = 0;
        switch (mode) {
        case MagnitudeMode::Nearest: {
            // Ties to the even code: the lowest kept bit, except when the step is x's leading bit in
            // the subnormal range (the kept multiple is then 1, odd; bit 52 would be exponent parity).
            const std::uint64_t keptLast = ex < emin_ && dropped == 52 ? 1 : (bits >> dropped) & 1;
            increment = (unit >> 1) - 1 + keptLast;
            break;
        }
        case MagnitudeMode::Truncate: increment = 0; break;
        case MagnitudeMode::Away: increment = lowMask; break;
        case MagnitudeMode::Stochastic: break;  // roundFloatStochastic
        }
        r = std::bit_cast<double>((bits + increment) & ~lowMask);
    } else if (dropped > 0) {
        // |x| < 2^q: the neighbours are 0 and 2^q (ties go to 0, the even one).
        const double step = powerOfTwo(q);
        bool up = false;
        switch (mode) {
        case MagnitudeMode::Nearest: up = a > 0.5 * step; break;
        case MagnitudeMode::Truncate: up = false; break;
        case MagnitudeMode::Away: up = true; break;
        case MagnitudeMode::Stochastic: break;  // roundFloatStochastic
        }
        r = up ? step : 0.0;
    }
    if (r > maxFinite_) r = mode == MagnitudeMode::Truncate ? maxFinite_ : overflowValue_;
    return std::copysign(r, x);
}

double Rounder::roundInteger(double x, const RandomSite* rng) const {
    if (std::isnan(x)) return x;
    if (format_.kind == FormatKind::ScaledInt && !(unitScale_ > 0))
        throw std::invalid_argument(formatName(format_) +
                                    " is scaled per tensor: a single value cannot be rounded without a scale "
                                    "(round the whole array with quantizeScaledInt/roundArray, or give one, e.g. " +
                                    formatName(format_) + "@0.01)");
    const double y = divideByScale_ ? x / unitScale_ : x * unitScale_;
    double k;
    if (y >= qmax_) k = qmax_;
    else if (y <= qmin_) k = qmin_;
    else {
        k = std::copysign(roundMagnitudeToInteger(std::fabs(y), magnitudeMode(rounding_, y < 0), rng), y);
        if (k == 0) k = 0.0;  // no negative zero in integer formats
    }
    return divideByScale_ ? k * unitScale_ : k / unitScale_;
}

double Rounder::roundLog(double x, const RandomSite* rng) const {
    if (std::isnan(x) || x == 0) return x;
    const double a = std::fabs(x);
    const MagnitudeMode mode = magnitudeMode(rounding_, std::signbit(x));
    double r;
    if (a >= logMax_) {
        r = logMax_;  // saturating range (infinities included)
    } else if (a < logMin_) {
        // Between the explicit zero and the smallest magnitude, on a linear grid.
        const double frac = a / logMin_;
        bool up = false;
        switch (mode) {
        case MagnitudeMode::Nearest: up = frac > 0.5; break;
        case MagnitudeMode::Truncate: up = false; break;
        case MagnitudeMode::Away: up = true; break;
        case MagnitudeMode::Stochastic: up = drawBelow(frac, rng); break;
        }
        r = up ? logMin_ : 0.0;
    } else {
        auto value = [&](int code) { return std::exp2(static_cast<double>(code) / codeUnit_); };
        int c = static_cast<int>(std::floor(std::log2(a) * codeUnit_));
        c = std::clamp(c, -codeMax_, codeMax_ - 1);
        double lo = value(c), hi = value(c + 1);
        // log2 may put c one off near a code boundary: settle on lo <= a < hi by the same exp2 values
        // the results use, so that rounding a representable value returns it unchanged.
        while (a < lo && c > -codeMax_) {
            --c;
            hi = lo;
            lo = value(c);
        }
        while (a >= hi && c + 1 < codeMax_) {
            ++c;
            lo = hi;
            hi = value(c + 1);
        }
        if (a >= hi) r = hi;
        else if (a == lo) r = lo;
        else {
            bool up = false;
            switch (mode) {
            case MagnitudeMode::Nearest: {
                const double mid = 0.5 * (lo + hi);
                up = a > mid || (a == mid && (c & 1) != 0);
                break;
            }
            case MagnitudeMode::Truncate: up = false; break;
            case MagnitudeMode::Away: up = true; break;
            case MagnitudeMode::Stochastic: up = drawBelow((a - lo) / (hi - lo), rng); break;
            }
            r = up ? hi : lo;
        }
    }
    return std::copysign(r, x);
}

namespace {

/// The double nearest to (approx + error) rounded to odd: exact when error == 0, otherwise the one
/// of the two doubles around the exact value whose last bit is 1. Rounding that once more to any
/// precision p <= 51 equals rounding the exact value (Boldo & Melquiond, "Emulation of FMA and
/// correctly rounded sums: proved algorithms using rounding to odd", IEEE TC 2008).
double toOdd(double approx, double error) {
    if (error == 0) return approx;
    if (approx == 0) return std::copysign(std::numeric_limits<double>::denorm_min(), error);
    const bool exactSmallerInMagnitude = (approx > 0) != (error > 0);
    std::uint64_t mag = std::bit_cast<std::uint64_t>(std::fabs(approx));
    if (exactSmallerInMagnitude) --mag;  // truncation toward zero
    mag |= 1;                            // if even, the odd neighbour is one step away from zero
    return std::copysign(std::bit_cast<double>(mag), approx);
}

}  // namespace

double Rounder::roundExact(double approx, double error, const RandomSite* rng) const {
    if (rounding_ == Rounding::Stochastic && format_.kind == FormatKind::Float && !identity_)
        return roundFloatStochastic(approx, std::isfinite(error) ? error : 0.0, rng);
    if (error == 0 || !std::isfinite(approx) || !std::isfinite(error)) return (*this)(approx, rng);
    if (format_.kind == FormatKind::Float && mantissaBits_ == 52) {
        // 53-bit target: approx already is the nearest double; adjust it for the other modes.
        const double inf = std::numeric_limits<double>::infinity();
        double v = approx;
        switch (rounding_) {
        case Rounding::NearestEven: break;
        case Rounding::TowardZero:
            if ((approx > 0) != (error > 0)) v = std::nextafter(approx, 0.0);
            break;
        case Rounding::Up:
            if (error > 0) v = std::nextafter(approx, inf);
            break;
        case Rounding::Down:
            if (error < 0) v = std::nextafter(approx, -inf);
            break;
        case Rounding::Stochastic: break;  // roundFloatStochastic
        }
        return (*this)(v, rng);
    }
    return (*this)(toOdd(approx, error), rng);
}

double Rounder::roundFloatStochastic(double approx, double error, const RandomSite* site) const {
    if (std::isnan(approx)) return approx;
    if (std::isinf(approx)) return std::copysign(infinityValue_, approx);
    // The magnitude |exact| = a + e; its sign is approx's (or the error's, for an underflowed approx).
    const bool negative = approx != 0 ? std::signbit(approx) : std::signbit(error);
    const double a = std::fabs(approx);
    const double e = negative ? -error : error;
    if (a == 0 && e == 0) return approx;
    // The grid neighbours low ≤ |exact| < low + step.
    double low = a, step = 0;
    if (mantissaBits_ >= 52 && e != 0) {
        // Every double near a is on the grid: the neighbours are a and the next double toward the error.
        if (e > 0) step = std::nextafter(a, HUGE_VAL) - a;
        else if (e < 0) {
            low = std::nextafter(a, 0.0);
            step = a - low;
        }
    } else {
        // The round-to-odd double lies strictly between the same two grid points as the exact value
        // (a grid of p ≤ 51 bits holds no odd double), so its bits give them as Rounder::roundFloat does.
        const double o = e == 0 ? a : toOdd(a, e);
        const std::uint64_t bits = std::bit_cast<std::uint64_t>(o);
        const int biased = static_cast<int>(bits >> 52);
        const int ex = biased ? biased - 1023 : std::ilogb(o);
        const int q = ex < emin_ ? (format_.subnormals ? emin_ - mantissaBits_ : emin_) : ex - mantissaBits_;
        const int dropped = q - (biased ? ex - 52 : -1074);
        if (dropped > 0) {
            step = powerOfTwo(q);
            low = q <= ex ? std::bit_cast<double>(bits & ~((std::uint64_t{1} << dropped) - 1)) : 0.0;
        }
    }
    double r = low;
    if (step > 0 && (a != low || e != 0)) {
        // T = ⌈(|exact| − low) / step · 2^30⌉ exactly: A = (a − low)/step · 2^30 is exact (Sterbenz, then
        // powers of two); its fractional part is a multiple of a's last place, which the error (at most
        // half of it) cannot cross, so a fractional A gives ⌈A⌉. An integral A gives A + ⌈B⌉, B the
        // error's share; an underflowed B still counts a positive error.
        const double scaledPart = (a - low) / step * 0x1p30;
        double threshold;
        if (scaledPart != std::floor(scaledPart)) threshold = std::ceil(scaledPart);
        else {
            double errorPart = std::ceil(e / step * 0x1p30);
            if (e > 0 && errorPart < 1) errorPart = 1;
            threshold = scaledPart + errorPart;
        }
        if (static_cast<double>(drawOf(site)) < threshold) r = low + step;
    }
    if (r > maxFinite_) r = overflowValue_;
    return negative ? -r : r;
}

double roundTo(double x, const Format& format, Rounding rounding, const RandomSite* rng) {
    return Rounder(format, rounding)(x, rng);
}

}  // namespace ks::numeric
