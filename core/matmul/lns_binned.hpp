#pragma once
// NVIDIA's log-domain accumulation (Dally, Venkatesan, Khailany; US 11,886,980; LNS-Madam 2022).
// A product ±2^(e/n) is split into quotient q = e >> F and remainder r = e mod n. The one-hot integer
// 2^(q − lsb) is added, exactly, into the accumulator of remainder r and of the product's sign. At the
// end the n partial sums are scaled by table constants c_r ≈ 2^(r/n) and added: S = Σ_r PS_r · c_r
// — n multiplications per dot product, however long it is.
//
// Hybrid binning (binBits h < F): only the top h bits of r choose the accumulator; the low F − h bits
// are applied linearly, 2^(low/n) ≈ 1 + low/n (Mitchell), by adding (n + low)·2^(q − lsb − F).
//
// The only errors: input quantisation, constant precision, accumulator range (products below the LSB
// are lost, sums above the top bit saturate: both counted) and the optional convert-back.
//
// Error bound for b-bit constants (no range events): S̃ − S = Σ_r PS_r·c_r·(c̃_r/c_r − 1), so
//   |S̃ − S| ≤ δ_b · Σ_p |x_p|,  δ_b = max_r |c̃_r/c_r − 1| ≤ 2^−(b+1)   (c_r ≥ 1),
// relative to the sum of magnitudes of the (quantised) products; constantRelativeError() returns δ_b.
#include <cstdint>
#include <vector>

#include "matmul/log_code.hpp"
#include "matmul/matmul_algorithm.hpp"

namespace ks::matmul {

class BinnedAccumulator {
public:
    BinnedAccumulator(int fractionBits, const LnsBinnedOptions& options);

    void reset();
    void add(LogCode product);
    /// Σ_r (PS⁺_r − PS⁻_r) · c̃_r, scaled by the LSB (computed in double: the n products and sums
    /// round at the 1e-16 level, the accumulators themselves are exact).
    double sum() const;
    /// Back to the log format: q from the leading one, r from the table (see ConvertBack).
    LogCode convertBack(double sum, ConvertBack how) const;

    /// max_r |c̃_r / c_r − 1| of this accumulator's constants (0 with exact constants).
    double constantRelativeError() const;
    int bins() const { return static_cast<int>(constants_.size()); }
    const RangeCounts& counts() const { return counts_; }
    void clearCounts() { counts_ = {}; }

private:
    int fractionBits_;
    int lowBits_;  // F − h: remainder bits applied linearly (0: plain binning)
    int lsb_;
    int width_;
    std::uint64_t maxValue_;
    std::vector<double> constants_;         // per accumulator: c̃ (quantised 2^(bin·2^low / n))
    std::vector<double> exactConstants_;
    std::vector<double> fullTable_;         // 2^(r/n), r = 0…n, quantised like the constants: convert-back
    std::vector<std::uint64_t> positive_, negative_;
    RangeCounts counts_;
};

}  // namespace ks::matmul
