// lns-sequential: dot products accumulated in the log domain with Gaussian logarithms.
#include "matmul/lns_sequential.hpp"

#include <memory>
#include <optional>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "matmul/algorithms.hpp"

namespace ks::matmul {

namespace {

/// Mitchell's piecewise-linear 2^y on each octave: 2^⌊y⌋ · (1 + frac(y)).
double mitchellExp2(double y) {
    const double whole = std::floor(y);
    return std::ldexp(1.0 + (y - whole), static_cast<int>(whole));
}

/// Mitchell's log2 v ≈ ⌊log2 v⌋ + (v / 2^⌊log2 v⌋ − 1), v > 0.
double mitchellLog2(double v) {
    int exponent = 0;
    const double mantissa = std::frexp(v, &exponent);  // [0.5, 1)
    return double(exponent - 1) + (2.0 * mantissa - 1.0);
}

}  // namespace

GaussianLogAdder::GaussianLogAdder(int fractionBits, GaussianLogPolicy policy, int tableIndexBits)
    : fractionBits_(fractionBits), policy_(policy) {
    if (fractionBits < 0 || fractionBits > 20)
        throw std::invalid_argument("LNS adder: fraction bits must be in 0…20, got " + std::to_string(fractionBits));
    if (policy != GaussianLogPolicy::Table) return;
    const int indexBits = tableIndexBits < 0 ? fractionBits : std::min(tableIndexBits, fractionBits);
    indexShift_ = fractionBits - indexBits;
    const double n = std::ldexp(1.0, fractionBits);
    // sb(d)·n < 1/2 once 2^−d < (2^(1/(2n)) − 1): beyond that every entry rounds to 0 steps (db too,
    // up to sign), so the table ends there.
    const double dMax = -std::log2(std::exp2(0.5 / n) - 1.0) + 1.0;
    const auto entries = static_cast<std::size_t>(std::ceil(dMax * std::ldexp(1.0, indexBits))) + 1;
    sumTable_.resize(entries);
    differenceTable_.resize(entries);
    for (std::size_t i = 0; i < entries; ++i) {
        const double d = std::ldexp(double(i), -indexBits);
        sumTable_[i] = static_cast<std::int32_t>(std::nearbyint(n * std::log2(1.0 + std::exp2(-d))));
        // db(0) = −∞: entry 0 of the difference table means "cancels to zero".
        differenceTable_[i] =
            i == 0 ? std::numeric_limits<std::int32_t>::min()
                   : static_cast<std::int32_t>(std::nearbyint(n * std::log2(1.0 - std::exp2(-d))));
    }
}

double GaussianLogAdder::gaussian(double d, bool subtract) const {
    if (policy_ == GaussianLogPolicy::Mitchell) {
        const double x = mitchellExp2(-d);
        return subtract ? mitchellLog2(1.0 - x) : mitchellLog2(1.0 + x);
    }
    return subtract ? std::log2(1.0 - std::exp2(-d)) : std::log2(1.0 + std::exp2(-d));
}

bool GaussianLogAdder::gaussianSteps(std::int32_t delta, bool subtract, std::int32_t& steps) const {
    if (policy_ == GaussianLogPolicy::Table) {
        // Round delta to the table's resolution (nearest), then look up.
        const std::int64_t index =
            indexShift_ == 0 ? delta : (std::int64_t{delta} + (std::int64_t{1} << (indexShift_ - 1))) >> indexShift_;
        if (index >= static_cast<std::int64_t>(sumTable_.size())) {
            steps = 0;
            return true;
        }
        steps = subtract ? differenceTable_[static_cast<std::size_t>(index)] : sumTable_[static_cast<std::size_t>(index)];
        return !(subtract && index == 0);
    }
    if (subtract && delta == 0) return false;
    const double n = std::ldexp(1.0, fractionBits_);
    const double g = gaussian(double(delta) / n, subtract);
    if (subtract && !std::isfinite(g)) return false;  // Mitchell: 1 − x == 0
    steps = static_cast<std::int32_t>(std::nearbyint(n * g));
    return true;
}

LogCode GaussianLogAdder::add(LogCode a, LogCode b) const {
    if (a.zero) return b;
    if (b.zero) return a;
    if (a.e < b.e) std::swap(a, b);  // |a| ≥ |b|
    const bool subtract = a.negative != b.negative;
    std::int32_t steps = 0;
    if (!gaussianSteps(a.e - b.e, subtract, steps)) return LogCode::ofZero();
    return LogCode::of(a.negative, a.e + steps);
}

LogCode lnsSequentialDot(const GaussianLogAdder& adder, const LogCode* a, const LogCode* b, std::int64_t length,
                         std::int64_t strideB) {
    LogCode acc = LogCode::ofZero();
    for (std::int64_t p = 0; p < length; ++p) acc = adder.add(acc, logMultiply(a[p], b[p * strideB]));
    return acc;
}

namespace {

class LnsSequentialMatmul final : public MatmulAlgorithm {
public:
    std::string name() const override { return "lns-sequential"; }
    std::string description() const override {
        return "LNS dot products: exact log-domain products, each addition through the Gaussian logarithms "
               "sb/db (exact, table or Mitchell) and rounded to the format's grid";
    }
    bool shownByDefault() const override { return false; }
    bool elementwise() const override { return true; }
    bool needsLogFormat() const override { return true; }
    std::optional<std::string> supports(const MatmulProblem&, const MatmulOptions& options) const override {
        if (!options.logFormat || options.logFormat->kind != numeric::FormatKind::Log)
            return "needs a logarithmic --format (e.g. lns8.3: sign, 4 integer and 3 fraction bits of log2|x|)";
        if (!options.compute.native) return "accumulates in the LNS format itself; --compute does not apply";
        return std::nullopt;
    }
    std::size_t workspaceBytes(const MatmulProblem& p, const MatmulOptions&) const override {
        return (p.m * p.k + p.k * p.n) * std::int64_t(sizeof(LogCode));
    }

protected:
    MatmulReport doRun(const MatmulProblem& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                     const MatmulOptions& options) const override {
        const LogCodec codec = LogCodec::fromFormat(*options.logFormat);
        const GaussianLogAdder adder(codec.fractionBits(), options.sequential.policy, options.sequential.tableIndexBits);
        RangeCounts in;
        std::vector<LogCode> ca(a.size()), cb(b.size());
        for (std::size_t i = 0; i < a.size(); ++i) ca[i] = codec.encode(a[i], &in);
        for (std::size_t i = 0; i < b.size(); ++i) cb[i] = codec.encode(b[i], &in);
        for (std::int64_t i = 0; i < p.m; ++i)
            for (std::int64_t j = 0; j < p.n; ++j)
                c[static_cast<std::size_t>(i * p.n + j)] = static_cast<float>(
                    codec.decode(lnsSequentialDot(adder, ca.data() + i * p.k, cb.data() + j, p.k, p.n)));
        MatmulReport report;
        report.note = numeric::formatName(*options.logFormat);
        report.inputOverflows = in.overflows;
        report.inputUnderflows = in.underflows;
        return report;
    }
};

}  // namespace

std::unique_ptr<MatmulAlgorithm> makeLnsSequentialMatmul() { return std::make_unique<LnsSequentialMatmul>(); }

}  // namespace ks::matmul
