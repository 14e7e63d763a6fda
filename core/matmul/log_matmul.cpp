// log (the assignment's logmatmul): sign and log2|x| of every operand, each product formed by adding
// logs and XOR-ing signs, converted back to linear and summed in ordinary arithmetic.
// Unquantised float32 logs make it an exact-to-rounding log/exp round trip; with an LNS format the
// logs are first rounded to its grid (1/n steps).
#include <memory>
#include <optional>
#include <cmath>
#include <vector>

#include "matmul/log_code.hpp"
#include "matmul/algorithms.hpp"
#include "numeric/arithmetic.hpp"

namespace ks::matmul {

namespace {

/// Σ_p product(i, p, j) in order p = 0…K−1, each addition in the arithmetic (as naive does, at naive's
/// random sites: the p-th product step 2p of element i·n + j, the sum adding it 2p + 1).
template <numeric::Arithmetic Arith, class Product>
void sumProducts(Arith& arith, const MatmulProblem& pr, Product product, float* c) {
    using V = typename Arith::value_type;
    const auto output = numeric::randomTensor(numeric::RandomTensor::Output);
    for (std::int64_t i = 0; i < pr.m; ++i)
        for (std::int64_t j = 0; j < pr.n; ++j) {
            arith.at(output, std::uint64_t(i * pr.n + j), 0);
            V acc = product(i, 0, j);
            for (std::int64_t p = 1; p < pr.k; ++p) {
                arith.at(output, std::uint64_t(i * pr.n + j), std::uint32_t(2 * p));
                const V term = product(i, p, j);
                acc = arith.add(acc, term);
            }
            c[i * pr.n + j] = static_cast<float>(acc);
        }
}

/// Sign as ±1 and log2|x| (−inf for zero, so that a zero operand gives a zero product: 2^−inf = 0).
template <class T>
struct SignedLogs {
    std::vector<T> sign, log2Abs;
};

template <class T, class Store>
SignedLogs<T> signedLogs(std::span<const float> x, std::int64_t rows, std::int64_t cols, bool transpose, Store store) {
    SignedLogs<T> out;
    out.sign.resize(x.size());
    out.log2Abs.resize(x.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t cl = 0; cl < cols; ++cl) {
            const T v = store(T(x[static_cast<std::size_t>(r * cols + cl)]), static_cast<std::size_t>(r * cols + cl));
            const std::size_t at = static_cast<std::size_t>(transpose ? cl * rows + r : r * cols + cl);
            out.sign[at] = std::signbit(v) ? T(-1) : T(1);
            out.log2Abs[at] = std::log2(std::fabs(v));
        }
    return out;
}

std::vector<LogCode> encodeAll(const LogCodec& codec, std::span<const float> x, std::int64_t rows, std::int64_t cols,
                               bool transpose, RangeCounts& counts) {
    std::vector<LogCode> out(x.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t cl = 0; cl < cols; ++cl)
            out[static_cast<std::size_t>(transpose ? cl * rows + r : r * cols + cl)] =
                codec.encode(double(x[static_cast<std::size_t>(r * cols + cl)]), &counts);
    return out;
}

class LogMatmul final : public MatmulAlgorithm {
public:
    std::string name() const override { return "log"; }
    std::string description() const override {
        return "logmatmul: products by adding log2|x| and XOR-ing signs, converted back and summed linearly; "
               "logs unquantised (float32, or double when emulated) or rounded to an LNS --format";
    }
    bool elementwise() const override { return true; }
    std::optional<std::string> supports(const MatmulProblem&, const MatmulOptions& options) const override {
        if (options.logFormat && options.logFormat->kind != numeric::FormatKind::Log)
            return "--format must be logarithmic (e.g. lns8.3) for the log method";
        if (!options.compute.accumulation.plain())
            return "it sums its products its own way; an accumulator model (" +
                   numeric::accumulatorModelName(options.compute.accumulation) + ") is for naive and dense";
        if (options.compute.scaledStorage)
            return "its operands are logarithms; a scaled storage format (" +
                   numeric::scaledFormatName(*options.compute.scaledStorage) + ") is for naive and dense";
        return std::nullopt;
    }
    std::size_t workspaceBytes(const MatmulProblem& p, const MatmulOptions& options) const override {
        const std::int64_t elements = p.m * p.k + p.k * p.n;
        if (options.logFormat) return elements * std::int64_t(sizeof(LogCode));
        return elements * 2 * (options.compute.native ? 4 : 8);
    }

protected:
    MatmulReport doRun(const MatmulProblem& p, std::span<const float> a, std::span<const float> b, std::span<float> c,
                     const MatmulOptions& options) const override {
        MatmulReport report;
        report.note = options.logFormat ? numeric::formatName(*options.logFormat)
                                        : options.compute.native ? "unquantised float32 logs" : "unquantised logs (double)";
        if (options.logFormat) {
            const LogCodec codec = LogCodec::fromFormat(*options.logFormat);
            RangeCounts counts;
            const auto ca = encodeAll(codec, a, p.m, p.k, false, counts);
            const auto cb = encodeAll(codec, b, p.k, p.n, true, counts);  // B transposed: rows of K
            report.inputOverflows = counts.overflows;
            report.inputUnderflows = counts.underflows;
            const int fb = codec.fractionBits();
            auto exactProduct = [&](std::int64_t i, std::int64_t q, std::int64_t j) {
                return decodeLog(logMultiply(ca[static_cast<std::size_t>(i * p.k + q)],
                                             cb[static_cast<std::size_t>(j * p.k + q)]), fb);
            };
            if (options.compute.native) {
                numeric::NativeArithmetic<float> arith;
                sumProducts(arith, p, [&](auto i, auto q, auto j) { return float(exactProduct(i, q, j)); }, c.data());
            } else {
                numeric::EmulatedArithmetic arith(options.compute);
                // mul(x, 1) rounds the converted-back product to the product format.
                sumProducts(arith, p, [&](auto i, auto q, auto j) { return arith.mul(exactProduct(i, q, j), 1.0); },
                            c.data());
            }
            return report;
        }
        if (options.compute.native) {
            const auto la = signedLogs<float>(a, p.m, p.k, false, [](float v, std::size_t) { return v; });
            const auto lb = signedLogs<float>(b, p.k, p.n, true, [](float v, std::size_t) { return v; });
            numeric::NativeArithmetic<float> arith;
            sumProducts(arith, p,
                        [&](std::int64_t i, std::int64_t q, std::int64_t j) {
                            const auto x = static_cast<std::size_t>(i * p.k + q), y = static_cast<std::size_t>(j * p.k + q);
                            return la.sign[x] * lb.sign[y] * std::exp2(la.log2Abs[x] + lb.log2Abs[y]);
                        },
                        c.data());
        } else {
            numeric::EmulatedArithmetic arith(options.compute);
            // Stored at naive's sites: A as RandomTensor::Input, B as Weight, element by element.
            auto storeAt = [&](numeric::RandomTensor tensor) {
                return [&arith, tensor](double v, std::size_t at) {
                    arith.at(numeric::randomTensor(tensor), at, 0);
                    return arith.store(v);
                };
            };
            const auto la = signedLogs<double>(a, p.m, p.k, false, storeAt(numeric::RandomTensor::Input));
            const auto lb = signedLogs<double>(b, p.k, p.n, true, storeAt(numeric::RandomTensor::Weight));
            sumProducts(arith, p,
                        [&](std::int64_t i, std::int64_t q, std::int64_t j) {
                            const auto x = static_cast<std::size_t>(i * p.k + q), y = static_cast<std::size_t>(j * p.k + q);
                            return arith.mul(la.sign[x] * lb.sign[y] * std::exp2(la.log2Abs[x] + lb.log2Abs[y]), 1.0);
                        },
                        c.data());
        }
        return report;
    }
};

}  // namespace

std::unique_ptr<MatmulAlgorithm> makeLogMatmul() { return std::make_unique<LogMatmul>(); }

}  // namespace ks::matmul
