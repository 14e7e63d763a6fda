#pragma once
// Addition inside the logarithmic number system, as classic LNS units do it: for |a| ≥ |b| with
// d = log2|a| − log2|b| ≥ 0, log2|a ± b| = log2|a| + sb(d) or + db(d), where the Gaussian logarithms are
// sb(d) = log2(1 + 2^−d) and db(d) = log2|1 − 2^−d|. The result is rounded to the format's 1/n grid
// after every addition: small addends vanish once the sum is large (stagnation), which is why this
// is much worse than the binned accumulation at low precision.
#include <vector>

#include "matmul/log_code.hpp"
#include "matmul/matmul_algorithm.hpp"

namespace ks::matmul {

class GaussianLogAdder {
public:
    /// tableIndexBits (Table policy): d is rounded to that many fraction bits before the lookup;
    /// negative, or ≥ fractionBits, means full resolution (then the table equals Exact).
    GaussianLogAdder(int fractionBits, GaussianLogPolicy policy, int tableIndexBits = -1);

    /// a + b rounded to the grid. The exponent range is not limited (the accumulator's is 32 bits).
    LogCode add(LogCode a, LogCode b) const;

    /// sb or db at a difference of `delta` grid steps (≥ 0), in grid steps, under the policy,
    /// rounded to an integer; cancellation (db at 0) is reported by returning false.
    bool gaussianSteps(std::int32_t delta, bool subtract, std::int32_t& steps) const;

    int fractionBits() const { return fractionBits_; }

private:
    double gaussian(double d, bool subtract) const;  // sb(d) or db(d) in the policy's approximation

    int fractionBits_;
    GaussianLogPolicy policy_;
    int indexShift_ = 0;                        // Table: low bits of delta dropped before lookup
    std::vector<std::int32_t> sumTable_, differenceTable_;  // Table: steps, indexed by rounded delta
};

/// Σ_p a_p·b_p of LNS codes, every product exact, every addition through `adder`.
LogCode lnsSequentialDot(const GaussianLogAdder& adder, const LogCode* a, const LogCode* b, std::int64_t length,
                         std::int64_t strideB = 1);

}  // namespace ks::matmul
