#pragma once
// The logarithmic number format's values as integers: v = (−1)^s · 2^(e/n), n = 2^F, plus a zero flag.
// This is the encoding the log-domain matmul methods compute with (numeric/ rounds to the same grid,
// but the methods need the integer e itself: products add e, the binned accumulator splits it).
//
// Consistent with Format::logarithmic(integerBits, fractionBits) and numeric::roundTo: e is an
// (I + F)-bit two's-complement integer whose most negative value stands for zero, so
// e ∈ [−(2^(I+F−1) − 1), 2^(I+F−1) − 1]. Encoding rounds to the nearest representable value in the
// linear domain (midpoint between neighbouring codes, ties to the even code), as roundTo does, so
// decode(encode(x)) == roundTo(x, format). Magnitudes below the smallest code round to it or to zero
// (a flush to zero is an underflow), above the largest saturate (an overflow); both counted.
#include <cstdint>

#include "numeric/format.hpp"

namespace ks::matmul {

struct LogCode {
    bool zero = true;
    bool negative = false;
    std::int32_t e = 0;  ///< log2|v| in units of 1/n

    static LogCode ofZero() { return {}; }
    static LogCode of(bool negative, std::int32_t e) { return {false, negative, e}; }
};

/// Exact product: add the exponents, XOR the signs (no range check: products need one more integer bit).
inline LogCode logMultiply(LogCode a, LogCode b) {
    if (a.zero || b.zero) return LogCode::ofZero();
    return LogCode::of(a.negative != b.negative, a.e + b.e);
}

struct RangeCounts {
    std::int64_t overflows = 0;   ///< saturated to the largest magnitude
    std::int64_t underflows = 0;  ///< flushed to zero (or, for accumulators, bits lost below the LSB)
    RangeCounts& operator+=(const RangeCounts& o) {
        overflows += o.overflows;
        underflows += o.underflows;
        return *this;
    }
};

class LogCodec {
public:
    /// integerBits in [1, 16], fractionBits in [0, 20]; std::invalid_argument otherwise.
    LogCodec(int integerBits, int fractionBits);
    /// From a Format of kind Log; std::invalid_argument for any other kind.
    static LogCodec fromFormat(const numeric::Format& format);

    int integerBits() const { return integerBits_; }
    int fractionBits() const { return fractionBits_; }
    std::int32_t steps() const { return std::int32_t{1} << fractionBits_; }  ///< n
    std::int32_t minE() const { return minE_; }
    std::int32_t maxE() const { return maxE_; }

    /// Nearest code; NaN is std::invalid_argument (it has no code), ±inf saturates (counted).
    LogCode encode(double x, RangeCounts* counts = nullptr) const;
    /// The exact real value ±2^(e/n) (rounded once to double).
    double decode(LogCode c) const;
    /// Clamp an exponent that came out of arithmetic into this format's range (counted).
    LogCode clampToRange(LogCode c, RangeCounts* counts = nullptr) const;

private:
    int integerBits_;
    int fractionBits_;
    std::int32_t minE_;
    std::int32_t maxE_;
};

/// ±2^(e/n) without range checks.
double decodeLog(LogCode c, int fractionBits);

}  // namespace ks::matmul
