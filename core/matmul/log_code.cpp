#include "matmul/log_code.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace ks::matmul {

LogCodec::LogCodec(int integerBits, int fractionBits) : integerBits_(integerBits), fractionBits_(fractionBits) {
    if (integerBits < 1 || integerBits > 16)
        throw std::invalid_argument("log format: integer bits must be in 1…16, got " + std::to_string(integerBits));
    if (fractionBits < 0 || fractionBits > 20)
        throw std::invalid_argument("log format: fraction bits must be in 0…20, got " +
                                    std::to_string(fractionBits));
    const int bits = integerBits + fractionBits;
    maxE_ = (std::int32_t{1} << (bits - 1)) - 1;
    minE_ = -maxE_;  // the most negative code is the zero
}

LogCodec LogCodec::fromFormat(const numeric::Format& format) {
    if (format.kind != numeric::FormatKind::Log)
        throw std::invalid_argument("expected a logarithmic format (e.g. lns8.3) for the log-domain methods");
    return LogCodec(format.logIntegerBits, format.logFractionBits);
}

LogCode LogCodec::encode(double x, RangeCounts* counts) const {
    if (std::isnan(x)) throw std::invalid_argument("log format: NaN has no logarithmic code");
    if (x == 0.0) return LogCode::ofZero();
    const bool negative = std::signbit(x);
    if (std::isinf(x)) {
        if (counts) ++counts->overflows;
        return LogCode::of(negative, maxE_);
    }
    const double a = std::fabs(x);
    auto value = [&](std::int32_t e) { return std::exp2(double(e) / double(steps())); };
    const double largest = value(maxE_), smallest = value(minE_);
    if (a >= largest) {
        if (a > largest && counts) ++counts->overflows;
        return LogCode::of(negative, maxE_);
    }
    if (a < smallest) {
        // Between zero and the smallest magnitude the neighbours are 0 and `smallest` (linear midpoint).
        if (a > 0.5 * smallest) return LogCode::of(negative, minE_);
        if (counts) ++counts->underflows;
        return LogCode::ofZero();
    }
    // log2 may land one code off near a boundary: settle lo ≤ a < hi with the decoded values themselves.
    auto e = static_cast<std::int32_t>(std::floor(std::log2(a) * double(steps())));
    e = std::clamp(e, minE_, maxE_ - 1);
    while (a < value(e) && e > minE_) --e;
    while (a >= value(e + 1) && e + 1 < maxE_) ++e;
    if (a >= value(e + 1)) return LogCode::of(negative, e + 1);
    const double lo = value(e), hi = value(e + 1), mid = 0.5 * (lo + hi);
    const bool up = a > mid || (a == mid && (e & 1) != 0);
    return LogCode::of(negative, up ? e + 1 : e);
}

double decodeLog(LogCode c, int fractionBits) {
    if (c.zero) return 0.0;
    // e / n is exact; the same expression as numeric::roundTo uses, so the two agree bit for bit.
    const double magnitude = std::exp2(std::ldexp(double(c.e), -fractionBits));
    return c.negative ? -magnitude : magnitude;
}

double LogCodec::decode(LogCode c) const { return decodeLog(c, fractionBits_); }

LogCode LogCodec::clampToRange(LogCode c, RangeCounts* counts) const {
    if (c.zero) return c;
    if (c.e < minE_) {
        if (counts) ++counts->underflows;
        return LogCode::ofZero();
    }
    if (c.e > maxE_) {
        if (counts) ++counts->overflows;
        c.e = maxE_;
    }
    return c;
}

}  // namespace ks::matmul
