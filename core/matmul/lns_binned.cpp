// lns-binned: dot products with remainder-indexed integer accumulators and n table constants.
#include "matmul/lns_binned.hpp"

#include <memory>
#include <optional>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

#include "matmul/algorithms.hpp"

namespace ks::matmul {

namespace {

double quantiseConstant(double c, int bits) {
    return bits <= 0 ? c : std::ldexp(std::nearbyint(std::ldexp(c, bits)), -bits);
}

}  // namespace

BinnedAccumulator::BinnedAccumulator(int fractionBits, const LnsBinnedOptions& o)
    : fractionBits_(fractionBits), lsb_(o.accumulatorLsb), width_(o.accumulatorBits) {
    if (fractionBits < 0 || fractionBits > 16)
        throw std::invalid_argument("lns-binned: fraction bits must be in 0…16, got " + std::to_string(fractionBits));
    if (width_ < 2 || width_ > 62)
        throw std::invalid_argument("lns-binned: accumulator width must be in 2…62 bits, got " + std::to_string(width_));
    if (o.constantBits < 0 || o.constantBits > 52)
        throw std::invalid_argument("lns-binned: constant precision must be 0 (exact) or 1…52 fraction bits");
    const int binBits = o.binBits < 0 ? fractionBits : o.binBits;
    if (binBits > fractionBits)
        throw std::invalid_argument("lns-binned: bin bits (" + std::to_string(binBits) +
                                    ") cannot exceed the fraction bits (" + std::to_string(fractionBits) + ")");
    lowBits_ = fractionBits - binBits;
    maxValue_ = (std::uint64_t{1} << width_) - 1;
    const double n = std::ldexp(1.0, fractionBits);
    const int bins = 1 << binBits;
    for (int bin = 0; bin < bins; ++bin) {
        const double c = std::exp2(double(bin << lowBits_) / n);
        exactConstants_.push_back(c);
        constants_.push_back(quantiseConstant(c, o.constantBits));
    }
    for (int r = 0; r <= (1 << fractionBits); ++r)
        fullTable_.push_back(quantiseConstant(std::exp2(double(r) / n), o.constantBits));
    positive_.assign(constants_.size(), 0);
    negative_.assign(constants_.size(), 0);
}

void BinnedAccumulator::reset() {
    std::fill(positive_.begin(), positive_.end(), 0);
    std::fill(negative_.begin(), negative_.end(), 0);
}

void BinnedAccumulator::add(LogCode product) {
    if (product.zero) return;
    const std::int32_t q = product.e >> fractionBits_;  // floor
    const std::int32_t r = product.e & ((std::int32_t{1} << fractionBits_) - 1);
    const std::size_t bin = static_cast<std::size_t>(r >> lowBits_);
    // Plain: the one-hot 1·2^(q − lsb). Hybrid: (n + low)·2^(q − lsb − F), i.e. 2^q·(1 + low/n).
    const bool hybrid = lowBits_ > 0;
    const std::uint64_t mantissa =
        hybrid ? (std::uint64_t{1} << fractionBits_) + std::uint64_t(r & ((1 << lowBits_) - 1)) : 1;
    const std::int64_t shift = std::int64_t{q} - lsb_ - (hybrid ? fractionBits_ : 0);
    std::uint64_t increment = 0;
    if (shift < 0) {
        // Below the LSB: the bits under it are lost (all of a one-hot).
        if (shift <= -64 || (mantissa & ((std::uint64_t{1} << -shift) - 1)) != 0) ++counts_.underflows;
        increment = shift <= -64 ? 0 : mantissa >> -shift;
        if (increment == 0) return;
    } else {
        if (shift + static_cast<std::int64_t>(std::bit_width(mantissa)) > width_) {
            ++counts_.overflows;
            (product.negative ? negative_ : positive_)[bin] = maxValue_;
            return;
        }
        increment = mantissa << shift;
    }
    std::uint64_t& acc = (product.negative ? negative_ : positive_)[bin];
    acc += increment;  // both < 2^62: no wrap-around in 64 bits
    if (acc > maxValue_) {
        ++counts_.overflows;
        acc = maxValue_;
    }
}

double BinnedAccumulator::sum() const {
    double s = 0;
    for (std::size_t bin = 0; bin < constants_.size(); ++bin) {
        const auto net = static_cast<std::int64_t>(positive_[bin]) - static_cast<std::int64_t>(negative_[bin]);
        s += double(net) * constants_[bin];
    }
    return std::ldexp(s, lsb_);  // hybrid increments carry their F fraction bits inside the shift
}

LogCode BinnedAccumulator::convertBack(double s, ConvertBack how) const {
    if (how == ConvertBack::None) throw std::invalid_argument("convertBack: no conversion requested");
    if (s == 0.0 || !std::isfinite(s)) return s == 0.0 ? LogCode::ofZero() : LogCode::of(s < 0, INT32_MAX);
    int exponent = 0;
    const double mantissa = 2.0 * std::frexp(std::fabs(s), &exponent);  // [1, 2): the leading one's position
    std::int32_t q = exponent - 1;
    const std::int32_t n = std::int32_t{1} << fractionBits_;
    std::int32_t r = 0;
    while (r + 1 < n && fullTable_[static_cast<std::size_t>(r + 1)] <= mantissa) ++r;
    if (how == ConvertBack::Nearest &&
        mantissa >= 0.5 * (fullTable_[static_cast<std::size_t>(r)] + fullTable_[static_cast<std::size_t>(r + 1)]))
        ++r;
    if (r == n) {
        r = 0;
        ++q;
    }
    return LogCode::of(s < 0, q * n + r);
}

double BinnedAccumulator::constantRelativeError() const {
    double worst = 0;
    for (std::size_t i = 0; i < constants_.size(); ++i)
        worst = std::max(worst, std::fabs(constants_[i] / exactConstants_[i] - 1.0));
    return worst;
}

namespace {

class LnsBinnedMatmul final : public MatmulAlgorithm {
public:
    std::string name() const override { return "lns-binned"; }
    std::string description() const override {
        return "NVIDIA's LNS accumulation: exact integer sums of shifted ones per remainder and sign, then n "
               "table constants; optional hybrid binning and convert-back; accumulator range events counted";
    }
    bool shownByDefault() const override { return false; }
    bool elementwise() const override { return true; }
    bool needsLogFormat() const override { return true; }
    std::optional<std::string> supports(const MatmulProblem&, const MatmulOptions& options) const override {
        if (!options.logFormat || options.logFormat->kind != numeric::FormatKind::Log)
            return "needs a logarithmic --format (e.g. lns8.3: sign, 4 integer and 3 fraction bits of log2|x|)";
        if (!options.compute.native) return "accumulates in integer bins; --compute does not apply";
        if (options.logFormat->logFractionBits > 16) return "more than 16 fraction bits (65536 bins) is not supported";
        return std::nullopt;
    }
    std::size_t workspaceBytes(const MatmulProblem& p, const MatmulOptions& options) const override {
        const int f = options.logFormat ? options.logFormat->logFractionBits : 0;
        return (p.m * p.k + p.k * p.n) * std::int64_t(sizeof(LogCode)) + 2 * 8 * (std::int64_t{1} << f);
    }

protected:
    MatmulReport doRun(const MatmulProblem& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                     const MatmulOptions& options) const override {
        const LogCodec codec = LogCodec::fromFormat(*options.logFormat);
        BinnedAccumulator acc(codec.fractionBits(), options.binned);
        RangeCounts in, out;
        std::vector<LogCode> ca(a.size()), cb(b.size());
        for (std::size_t i = 0; i < a.size(); ++i) ca[i] = codec.encode(a[i], &in);
        for (std::int64_t q = 0; q < p.k; ++q)  // B transposed: each column contiguous
            for (std::int64_t j = 0; j < p.n; ++j)
                cb[static_cast<std::size_t>(j * p.k + q)] = codec.encode(b[static_cast<std::size_t>(q * p.n + j)], &in);
        for (std::int64_t i = 0; i < p.m; ++i)
            for (std::int64_t j = 0; j < p.n; ++j) {
                acc.reset();
                const LogCode* rowA = ca.data() + i * p.k;
                const LogCode* colB = cb.data() + j * p.k;
                for (std::int64_t q = 0; q < p.k; ++q) acc.add(logMultiply(rowA[q], colB[q]));
                double s = acc.sum();
                if (options.binned.convertBack != ConvertBack::None)
                    s = codec.decode(codec.clampToRange(acc.convertBack(s, options.binned.convertBack), &out));
                c[static_cast<std::size_t>(i * p.n + j)] = static_cast<float>(s);
            }
        MatmulReport report;
        report.note = numeric::formatName(*options.logFormat);
        report.inputOverflows = in.overflows;
        report.inputUnderflows = in.underflows;
        report.accumulatorOverflows = acc.counts().overflows;
        report.accumulatorUnderflows = acc.counts().underflows;
        report.outputOverflows = out.overflows;
        report.outputUnderflows = out.underflows;
        return report;
    }
};

}  // namespace

std::unique_ptr<MatmulAlgorithm> makeLnsBinnedMatmul() { return std::make_unique<LnsBinnedMatmul>(); }

}  // namespace ks::matmul
