#include "matmul/log_code.hpp"

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
    minE_ = -(std::int32_t{1} << (bits - 1));
    maxE_ = (std::int32_t{1} << (bits - 1)) - 1;
}

LogCodec LogCodec::fromFormat(const numeric::Format& format) {
    if (format.kind != numeric::FormatKind::Log)
        throw std::invalid_argument("expected a logarithmic format (e.g. log4.3) for the log-domain methods");
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
    // log2 of a finite double is within [−1075, 1024]: the scaled value fits comfortably in double.
    const double scaled = std::log2(std::fabs(x)) * double(steps());
    const double rounded = std::nearbyint(scaled);
    if (rounded < double(minE_)) {
        if (counts) ++counts->underflows;
        return LogCode::ofZero();
    }
    if (rounded > double(maxE_)) {
        if (counts) ++counts->overflows;
        return LogCode::of(negative, maxE_);
    }
    return LogCode::of(negative, static_cast<std::int32_t>(rounded));
}

double decodeLog(LogCode c, int fractionBits) {
    if (c.zero) return 0.0;
    const std::int32_t n = std::int32_t{1} << fractionBits;
    // Split so that exp2 only sees the fraction: the quotient is applied exactly by ldexp.
    const std::int32_t q = c.e >> fractionBits;  // floor (arithmetic shift)
    const std::int32_t r = c.e & (n - 1);
    const double magnitude = std::ldexp(std::exp2(double(r) / double(n)), q);
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
