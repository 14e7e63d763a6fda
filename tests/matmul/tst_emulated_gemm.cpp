// The fast emulation engine (matmul/emulated_gemm) against the reference it replaces for speed: the
// naive and fused loops of naive_matmul.hpp over EmulatedArithmetic, compared bit for bit on every
// output, for formats across the families (IEEE, finite-only, saturating, without subnormals, mixed
// storage/product/accumulation), on data that reaches each format's subnormals, its overflow, NaN and
// infinities, on one thread and on several (the same bits), and over column counts that end inside a
// vector (NaN matching NaN whatever its sign). What the engine does not cover it refuses, naming why.
#include <QTest>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "base/isa.hpp"
#include "base/parallel.hpp"
#include "matmul/emulated_gemm.hpp"
#include "matmul/lane_kernels.hpp"
#include "matmul/naive_matmul.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/fast_arithmetic.hpp"
#include "numeric/lane_rounding.hpp"
#include "numeric/round_nearest_even.hpp"
#include "test_support.hpp"

using namespace ks;
using namespace ks::matmul;

namespace {

/// Values spread over the format's whole range and beyond it: normal, subnormal and overflowing
/// magnitudes for `maxExponent` (the format's largest binade), exact zeros of both signs, and with
/// `specials` a few infinities and NaNs.
std::vector<float> operand(std::int64_t count, int maxExponent, bool specials, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> mantissa(1.0, 2.0);
    std::uniform_int_distribution<int> exponent(-2 * maxExponent - 12, maxExponent + 1);
    std::uniform_int_distribution<int> kind(0, 99);
    std::vector<float> v(static_cast<std::size_t>(count));
    for (auto& x : v) {
        const int k = kind(rng);
        const double sign = (rng() & 1) ? -1.0 : 1.0;
        if (k < 3) x = static_cast<float>(sign * 0.0);
        else if (specials && k < 4) x = static_cast<float>(sign * std::numeric_limits<double>::infinity());
        else if (specials && k < 5) x = std::numeric_limits<float>::quiet_NaN();
        else if (k < 60) x = static_cast<float>(sign * mantissa(rng) * std::ldexp(1.0, exponent(rng) / 3));  // mostly moderate
        else x = static_cast<float>(sign * mantissa(rng) * std::ldexp(1.0, exponent(rng)));
    }
    return v;
}

/// Float32 inputs for a lane rounding to `f`: a stride through all 2^32 patterns, and around the format's
/// edges (its largest finite value and overflow threshold, its smallest step and normal, zeros, infinities,
/// NaN), both signs.
std::vector<float> roundingProbes(const numeric::Format& f) {
    std::vector<float> in;
    for (std::uint64_t bits = 0; bits < (1ull << 32); bits += 65521) in.push_back(std::bit_cast<float>(std::uint32_t(bits)));
    for (double edge : {numeric::maxFinite(f), numeric::minNormal(f), numeric::minPositive(f), 0.0,
                        double(std::numeric_limits<float>::infinity())}) {
        const std::uint32_t e = std::bit_cast<std::uint32_t>(float(edge));
        for (std::uint32_t d = 0; d < 4096; ++d)
            for (std::uint32_t sign : {0u, 0x80000000u}) {
                in.push_back(std::bit_cast<float>((e + d) | sign));
                if (e >= d) in.push_back(std::bit_cast<float>((e - d) | sign));
            }
    }
    return in;
}

std::vector<float> reference(EmulatedOrder order, const numeric::ComputeSpec& spec, std::int64_t m, std::int64_t k,
                             std::int64_t n, const std::vector<float>& a, const std::vector<float>& b) {
    std::vector<float> c(static_cast<std::size_t>(m * n));
    numeric::EmulatedArithmetic arith(spec);
    if (order == EmulatedOrder::RoundedProducts) naiveMatmul(arith, m, k, n, a.data(), b.data(), c.data());
    else fmaMatmul(arith, m, k, n, a.data(), b.data(), c.data());
    return c;
}

/// The first element whose bits differ, described, or empty. A NaN matches any NaN: IEEE 754 leaves a
/// NaN's sign and payload unspecified, and x86 returns the first operand's NaN when both are NaN, an
/// order the compiler may swap in vector code (a + b = b + a otherwise).
QString firstDifference(const std::vector<float>& got, const std::vector<float>& want, std::int64_t n) {
    for (std::size_t i = 0; i < got.size(); ++i)
        if (std::bit_cast<std::uint32_t>(got[i]) != std::bit_cast<std::uint32_t>(want[i]) &&
            !(std::isnan(got[i]) && std::isnan(want[i])))
            return QStringLiteral("C(%1, %2): fast %3 (0x%4), reference %5 (0x%6)")
                .arg(qint64(i) / n)
                .arg(qint64(i) % n)
                .arg(double(got[i]), 0, 'g', 9)
                .arg(std::bit_cast<std::uint32_t>(got[i]), 8, 16, QLatin1Char('0'))
                .arg(double(want[i]), 0, 'g', 9)
                .arg(std::bit_cast<std::uint32_t>(want[i]), 8, 16, QLatin1Char('0'));
    return {};
}

/// C(0, j) = start_j + 1 · term_j on the float32 lanes' rows in every instruction set (a layer's sums start from
/// its bias), against EmulatedArithmetic from the same start (the product step 0, the sum step 1 of element j):
/// the first difference, or empty. `want` receives the reference's.
QString laneSumsAgainstTheReference(const numeric::ComputeSpec& spec, const std::vector<float>& start,
                                    const std::vector<float>& term, std::vector<float>& want) {
    const numeric::LaneSpec laneSpec = numeric::laneSpec(spec, EmulatedOrder::RoundedProducts);
    const std::int64_t n = std::int64_t(start.size());
    const float one = 1.0f;
    want.assign(start.size(), 0.0f);
    numeric::EmulatedArithmetic arith(spec, numeric::EmulationEngine::Reference);
    for (std::int64_t j = 0; j < n; ++j) {
        arith.at(numeric::randomTensor(numeric::RandomTensor::Output), std::uint64_t(j), 0);
        want[std::size_t(j)] = float(arith.add(double(start[std::size_t(j)]), arith.mul(1.0, double(term[std::size_t(j)]))));
    }
    for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
        if (!isaSupported(isa)) continue;
        std::vector<float> got(want.size(), -1.0f);
        lanes::GemmArgs args{&laneSpec, EmulatedOrder::RoundedProducts, 1, n, &one, 1, term.data(), n, start.data(), got.data(), n};
        args.random = numeric::randomKey(spec.seed, numeric::randomTensor(numeric::RandomTensor::Output));
        args.elementRow = std::uint32_t(n);
        lanes::kernelsFor(isa).rows(args, 0, 1);
        const QString difference = firstDifference(got, want, n);
        if (!difference.isEmpty()) return QString::fromStdString(isaName(isa)) + QStringLiteral(": ") + difference;
    }
    return {};
}

}  // namespace

class tst_EmulatedGemm : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // The transforms' lane kernel (lanes::Kernels::combine: a small matrix applied across tiles side by
    // side, as Winograd's stages) against EmulatedArithmetic's mul and add in the same order, from +0,
    // then the term: stored coefficients times stored values, and times accumulated values (float32 ones
    // under "…/fp32"), whose products a narrow product format must round once. Besides random values, products
    // that float32 rounds onto a midpoint of the product format while the exact product lies past it
    // (found by search for each format): rounding the float32 product again would tie to even, wrongly.
    void combineIsTheReference_data() {
        QTest::addColumn<QString>("spec");
        for (const char* spec : {"fp16", "bf16", "e4m3", "fp16/fp32", "e4m3/fp32", "e5m2/fp16/fp32", "e4m3-nosub/fp16", "e5m2-sat"})
            QTest::newRow(spec) << QString::fromLatin1(spec);
    }
    void combineIsTheReference() {
        QFETCH(QString, spec);
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        QVERIFY2(!numeric::laneMixedProductRefusal(compute), numeric::laneMixedProductRefusal(compute)->c_str());
        const numeric::LaneSpec laneSpec = numeric::laneSpec(compute, EmulatedOrder::RoundedProducts);
        const auto storedParams = numeric::rneParams<double>(compute.storage);
        const auto productParams = numeric::rneParams<double>(compute.product);
        const auto store = [&](float x) { return float(numeric::roundNearestEven(double(x), storedParams)); };
        // A 3 × 4 matrix with a zero entry left out, coefficients stored; one of them 3, for the search.
        const std::vector<int> start = {0, 3, 6, 10}, column = {0, 1, 3, 0, 1, 2, 0, 1, 2, 3};
        std::vector<float> coefficient = operand(10, 7, false, 21);
        for (auto& c : coefficient) c = store(c);
        coefficient[3] = 3.0f;
        const std::int64_t length = 2 * lanes::kCombineLength, outer = 3;
        for (bool accumulated : {false, true}) {
            std::vector<float> in = operand(outer * 4 * length, accumulated ? 100 : 15, true, accumulated ? 22 : 23);
            if (!accumulated) for (auto& x : in) x = store(x);
            if (accumulated) {
                // Row 1's first entry is 3 · in[0][0][v]: put the double-rounding cases in group 0's first row.
                int found = 0;
                for (int j = 0; j < 4000 && found < int(length); ++j) {
                    const float x = float(std::ldexp(1.0 + j * std::ldexp(1.0, -12), -2)) / 3.0f * float(1 + j % 5);
                    for (float y = x, k = 0; k < 8 && found < int(length); ++k, y = std::nextafter(y, 1.0f)) {
                        const double exact = 3.0 * double(y);
                        if (numeric::roundNearestEven(double(float(exact)), productParams) !=
                            numeric::roundNearestEven(exact, productParams))
                            in[static_cast<std::size_t>(found++)] = y;
                    }
                }
                if (compute.product.mantissaBits < 23) QVERIFY2(found > 0, "no double-rounding case found");
                // Accumulated values are the accumulation format's (with a narrow one the products are exact).
                const auto accumulatedParams = numeric::rneParams<double>(compute.accumulate);
                for (auto& x : in) x = float(numeric::roundNearestEven(double(x), accumulatedParams));
            }
            const float term = 0.375f;
            for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
                if (!isaSupported(isa)) continue;
                std::vector<float> got(static_cast<std::size_t>(outer * 3 * length), -1.0f);
                lanes::CombineArgs args{&laneSpec, accumulated, 3, start.data(), column.data(), coefficient.data(),
                                        outer, length, in.data(), 4 * length, got.data(), 3 * length};
                args.term = accumulated ? &term : nullptr;
                lanes::kernelsFor(isa).combine(args);
                numeric::EmulatedArithmetic arith(compute, numeric::EmulationEngine::Reference);
                for (std::int64_t o = 0; o < outer; ++o)
                    for (int i = 0; i < 3; ++i)
                        for (std::int64_t v = 0; v < length; ++v) {
                            double acc = 0.0;
                            for (int e = start[i]; e < start[i + 1]; ++e)
                                acc = arith.add(acc, arith.mul(coefficient[e], in[static_cast<std::size_t>((o * 4 + column[e]) * length + v)]));
                            if (args.term) acc = arith.add(acc, term);
                            const float want = float(acc), have = got[static_cast<std::size_t>((o * 3 + i) * length + v)];
                            if (std::isnan(want) && std::isnan(have)) continue;
                            QVERIFY2(std::bit_cast<std::uint32_t>(want) == std::bit_cast<std::uint32_t>(have),
                                     qPrintable(QStringLiteral("%1, %2 input, group %3 row %4 lane %5: got %6, want %7")
                                                    .arg(QString::fromStdString(isaName(isa)))
                                                    .arg(accumulated ? "accumulated" : "stored")
                                                    .arg(o).arg(i).arg(v)
                                                    .arg(double(have), 0, 'g', 9)
                                                    .arg(double(want), 0, 'g', 9)));
                        }
            }
        }
    }

    // The directed lane roundings (LaneMethod::Directed; DirectedBits for bf16, tf32, e8m1; DirectedMagic for
    // the narrower exponents) against the reference Rounder on float32 inputs:
    // a stride through all 2^32 patterns, and around each format's edges (its largest finite value and
    // overflow threshold, its smallest step and normal, zeros, infinities, NaN), in every instruction set.
    void directedRoundingIsTheRounder_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("rounding");
        for (const char* format : {"fp16", "bf16", "e4m3", "e5m2", "e5m2-sat", "e4m3-fn-inf", "fp16-nosub", "bf16-nosub", "e3m2", "tf32", "e8m1"})
            for (const char* rounding : {"rz", "ru", "rd"})
                QTest::addRow("%s %s", format, rounding) << QString::fromLatin1(format) << QString::fromLatin1(rounding);
    }
    void directedRoundingIsTheRounder() {
        QFETCH(QString, format);
        QFETCH(QString, rounding);
        const numeric::Format f = numeric::parseFormat(format.toStdString());
        const numeric::Rounding mode = numeric::parseRounding(rounding.toStdString());
        const numeric::Rounder reference(f, mode);
        std::vector<float> in = roundingProbes(f);
        std::vector<float> want(in.size());
        for (std::size_t i = 0; i < in.size(); ++i) want[i] = float(reference(double(in[i])));
        for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
            if (!isaSupported(isa)) continue;
            std::vector<float> got(in.size());
            lanes::kernelsFor(isa).round(numeric::laneRounding(f, mode), in.data(), got.data(), std::int64_t(in.size()));
            for (std::size_t i = 0; i < in.size(); ++i) {
                if (std::isnan(want[i]) && std::isnan(got[i])) continue;
                if (std::bit_cast<std::uint32_t>(want[i]) != std::bit_cast<std::uint32_t>(got[i]))
                    QFAIL(qPrintable(QStringLiteral("%1: %2 (0x%3) gives %4, the Rounder %5")
                                        .arg(QString::fromStdString(isaName(isa)))
                                        .arg(double(in[i]), 0, 'g', 9)
                                        .arg(std::bit_cast<std::uint32_t>(in[i]), 8, 16, QLatin1Char('0'))
                                        .arg(double(got[i]), 0, 'g', 9)
                                        .arg(double(want[i]), 0, 'g', 9)));
            }
        }
    }

    // The stochastic lane rounding of exact float32 values (LaneMethod::Stochastic with no error term, the
    // stores) against the reference Rounder at the same sites: a stride through all 2^32 patterns and the
    // formats' edges, in every instruction set.
    void stochasticRoundingIsTheRounder_data() {
        QTest::addColumn<QString>("format");
        for (const char* format : {"fp16", "bf16", "e4m3", "e5m2", "e4m3-fn-inf", "fp16-nosub", "bf16-nosub", "e3m2", "tf32", "e8m3"})
            QTest::newRow(format) << QString::fromLatin1(format);
    }
    void stochasticRoundingIsTheRounder() {
        QFETCH(QString, format);
        const numeric::Format f = numeric::parseFormat(format.toStdString());
        const numeric::Rounder reference(f, numeric::Rounding::Stochastic);
        std::vector<float> in = roundingProbes(f);
        // Each value twice more at other sites: both neighbours must turn up.
        const std::size_t distinct = in.size();
        for (int copy = 0; copy < 2; ++copy) in.insert(in.end(), in.begin(), in.begin() + std::ptrdiff_t(distinct));
        const numeric::RandomKey key = numeric::randomKey(20261206, 5);
        const std::uint32_t base = 0xFFFFF000u;  // the element numbers wrap past 2^32
        std::vector<float> want(in.size());
        numeric::RandomSite site{key, 0, 0};
        std::size_t roundedUp = 0, roundedDown = 0;
        for (std::size_t i = 0; i < in.size(); ++i) {
            site.element = base + std::uint32_t(i);
            want[i] = float(reference(double(in[i]), &site));
            if (i >= distinct && std::isfinite(want[i]) && want[i] != want[i % distinct]) {
                (std::fabs(want[i]) > std::fabs(want[i % distinct]) ? roundedUp : roundedDown)++;
            }
        }
        QVERIFY(roundedUp > 100 && roundedDown > 100);  // the sites do draw differently
        for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
            if (!isaSupported(isa)) continue;
            std::vector<float> got(in.size());
            matmul::laneRoundStochastic(f, key, base, in.data(), got.data(), std::int64_t(in.size()), isa);
            for (std::size_t i = 0; i < in.size(); ++i) {
                if (std::isnan(want[i]) && std::isnan(got[i])) continue;
                if (std::bit_cast<std::uint32_t>(want[i]) != std::bit_cast<std::uint32_t>(got[i]))
                    QFAIL(qPrintable(QStringLiteral("%1: %2 (0x%3) at element %4 gives %5, the Rounder %6")
                                        .arg(QString::fromStdString(isaName(isa)))
                                        .arg(double(in[i]), 0, 'g', 9)
                                        .arg(std::bit_cast<std::uint32_t>(in[i]), 8, 16, QLatin1Char('0'))
                                        .arg(base + std::uint32_t(i))
                                        .arg(double(got[i]), 0, 'g', 9)
                                        .arg(double(want[i]), 0, 'g', 9)));
            }
        }
    }

    void bitIdenticalToTheReference_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<int>("maxExponent");  // the largest binade of the narrowest format in the spec
        for (const char* order : {"naive", "fma"}) {
            const auto row = [&](const char* spec, int maxExponent) {
                QTest::addRow("%s %s", order, spec) << QStringLiteral("%1|%2").arg(QLatin1String(order), QLatin1String(spec))
                                                    << maxExponent;
            };
            row("fp16", 15);
            row("bf16", 127);
            row("e4m3", 8);
            row("e5m2", 15);
            row("fp16/fp32", 15);
            row("bf16/fp32", 127);
            row("e4m3/fp32", 8);
            row("e5m2/fp16/fp32", 15);
            row("tf32", 127);
            row("fp16-nosub", 15);
            row("e4m3-fn-inf", 8);  // finite-only, overflow gives NaN
            row("fp16-sat", 15);
            row("e3m4/bf16", 4);
            row("e8m10/fp32", 127);
            row("fp32", 127);
            row("fp64", 127);
            row("e11m30/fp64", 127);
            // Wide products into narrower accumulators: the sums are inexact in double, and only the
            // error terms (round-to-odd) keep the second rounding from being a double rounding.
            row("fp64/e11m40", 127);
            row("fp32/e8m13", 127);
            row("fp64/fp32", 127);
            // Float32 lanes: each rounding method (Fp16, Magic, Bits) and each kind of sum (native,
            // rounded twice, round-to-odd when the accumulator does not hold the products).
            row("e5m2/fp16", 15);
            row("fp16/e5m2", 15);
            row("e4m3/e5m2", 8);
            row("bf16-nosub", 127);
            row("e8m3", 127);
            row("e5m2-sat", 15);
            row("e6m5/fp32", 31);
            row("e7m2", 63);
            row("e4m3-nosub/fp16", 8);
            // Directed modes on float32 lanes (the double lanes round to nearest only): every method's
            // directed step, overflow to the largest finite value or beyond, flushing formats, finite-only
            // and saturating ones, wide products into narrow sums.
            row("fp16:rz", 15);
            row("fp16:ru", 15);
            row("bf16:rd", 127);
            row("e4m3:ru", 8);
            row("e4m3:rz", 8);
            row("e5m2:rd", 15);
            row("fp16/fp32:rd", 15);
            row("bf16/fp32:ru", 127);
            row("e5m2-sat:ru", 15);
            row("e4m3-fn-inf:rd", 8);
            row("e4m3-nosub/fp16:ru", 8);
            row("bf16-nosub:rz", 127);
            row("fp16/e5m2:rd", 15);
            row("fp32/fp16/fp32:rz", 15);
            row("tf32:rd", 127);
            // Stochastic rounding on float32 lanes: every rounding drawn at its site (random_bits.hpp), so
            // the lanes, the blocking and the threads give the reference's bits; sums exact by TwoSum,
            // subnormal and flushing formats, finite-only overflow, float32 products (not rounded).
            row("fp16:sr", 15);
            row("e4m3:sr:seed=3", 8);
            row("e5m2:sr", 15);
            row("fp16/e5m2:sr", 15);
            row("e5m2/fp16:sr:seed=9", 15);
            row("e4m3-fn-inf:sr", 8);
            row("fp16-nosub:sr", 15);
            row("e4m3-nosub/fp16:sr", 8);
            row("e5m2/fp32/fp16:sr", 15);
            row("e3m2:sr", 4);
            row("fp16/fp32:sr", 15);  // float32 sums: between the TwoSum value and its neighbour
            row("e4m3/fp32:sr:seed=8", 8);
            // 8 exponent bits, the rounded-products order only (the fused one needs exact products): products
            // below float32's precision (formed scaled) and sums beyond its range (formed from halves).
            if (QLatin1String(order) == QLatin1String("naive")) {
                row("bf16:sr", 127);
                row("tf32:sr:seed=5", 127);
                row("bf16-nosub:sr", 127);
                row("e8m3:sr", 127);
                row("e4m3-fn-inf/bf16:sr", 8);
                row("bf16/e5m2:sr", 15);
                row("bf16/bf16/fp32:sr", 127);  // float32 sums near FLT_MAX: formed from halves past it
                row("e8m2/fp32:sr:seed=4", 127);
            }
        }
    }
    void bitIdenticalToTheReference() {
        QFETCH(QString, spec);
        QFETCH(int, maxExponent);
        const QStringList parts = spec.split(QLatin1Char('|'));
        const EmulatedOrder order = parts[0] == QLatin1String("naive") ? EmulatedOrder::RoundedProducts
                                                                        : EmulatedOrder::FusedMultiplyAdd;
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(parts[1].toStdString());
        // Every engine that covers the spec: double lanes, and float32 lanes in each instruction set this
        // CPU runs (the generic one always).
        struct Engine {
            EmulationLanes lanes;
            Isa isa;
        };
        std::vector<Engine> engines;
        if (!numeric::fastArithmeticRefusal(compute)) engines.push_back({EmulationLanes::Float64, activeIsa()});
        if (!numeric::laneRefusal(compute, order))
            for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512})
                if (isaSupported(isa)) engines.push_back({EmulationLanes::Float32, isa});
        QVERIFY2(!engines.empty(), numeric::laneRefusal(compute, order)->c_str());
        // Shapes: a single term, columns ending inside a vector, more columns than one block (256).
        const std::int64_t shapes[][3] = {{1, 1, 1}, {3, 7, 5}, {5, 40, 19}, {4, 33, 300}};
        std::uint64_t seed = 11;
        for (const auto& s : shapes)
            for (bool specials : {false, true}) {
                const std::int64_t m = s[0], k = s[1], n = s[2];
                const auto a = operand(m * k, maxExponent, specials, seed++), b = operand(k * n, maxExponent, specials, seed++);
                const auto want = reference(order, compute, m, k, n, a, b);
                for (const Engine& engine : engines)
                    for (int threads : {1, 2}) {
                        setThreadCount(threads);
                        setIsa(engine.isa);
                        std::vector<float> got(want.size(), -1.0f);
                        fastEmulatedGemm(order, compute, m, k, n, a.data(), b.data(), got.data(), engine.lanes);
                        setIsa(std::nullopt);
                        const QString difference = firstDifference(got, want, n);
                        QVERIFY2(difference.isEmpty(),
                                 qPrintable(QStringLiteral("%1 lanes, %2: %3×%4×%5, %6 thread(s), specials %7: %8")
                                                .arg(engine.lanes == EmulationLanes::Float32 ? "float32" : "double")
                                                .arg(QString::fromStdString(isaName(engine.isa)))
                                                .arg(m).arg(k).arg(n).arg(threads).arg(specials).arg(difference)));
                    }
            }
        setThreadCount(std::max(1, int(std::thread::hardware_concurrency())));
    }

    // Stochastic rounding with 8 exponent bits: products far below float32's precision (2^-160 to 2^-100,
    // where float32 keeps fewer bits than a product has, or none), which the lanes form scaled; their sums
    // stay that small, so every rounding counts.
    void stochasticTinyProducts_data() {
        QTest::addColumn<QString>("spec");
        for (const char* spec : {"bf16:sr", "tf32:sr:seed=2", "e8m3:sr", "bf16-nosub:sr", "e8m1:sr"})
            QTest::newRow(spec) << QString::fromLatin1(spec);
    }
    void stochasticTinyProducts() {
        QFETCH(QString, spec);
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        QVERIFY2(!numeric::laneRefusal(compute, EmulatedOrder::RoundedProducts),
                 numeric::laneRefusal(compute, EmulatedOrder::RoundedProducts)->c_str());
        std::mt19937_64 rng(31);
        std::uniform_real_distribution<double> mantissa(1.0, 2.0);
        std::uniform_int_distribution<int> exponent(-80, -50);
        auto tiny = [&](std::int64_t count) {
            std::vector<float> v(static_cast<std::size_t>(count));
            for (auto& x : v) x = float(((rng() & 1) ? -1 : 1) * mantissa(rng) * std::ldexp(1.0, exponent(rng)));
            return v;
        };
        const std::int64_t m = 5, k = 33, n = 70;
        const auto a = tiny(m * k), b = tiny(k * n);
        const auto want = reference(EmulatedOrder::RoundedProducts, compute, m, k, n, a, b);
        std::size_t nonZero = 0;
        for (float w : want) nonZero += w != 0;
        QVERIFY(nonZero > want.size() / 2);  // the products' roundings reach the output
        for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
            if (!isaSupported(isa)) continue;
            setIsa(isa);
            std::vector<float> got(want.size(), -1.0f);
            fastEmulatedGemm(EmulatedOrder::RoundedProducts, compute, m, k, n, a.data(), b.data(), got.data(), EmulationLanes::Float32);
            setIsa(std::nullopt);
            const QString difference = firstDifference(got, want, n);
            QVERIFY2(difference.isEmpty(), qPrintable(QString::fromStdString(isaName(isa)) + QStringLiteral(": ") + difference));
        }
    }

    // Stochastic float32 sums at their edges, through the lane rows from given float32 starting values (a
    // layer's sums start from its bias): just below a power of two (where the step below is half), past
    // FLT_MAX by less than 2^104 (float32's sum is ∞, the exact one may still round to FLT_MAX), and random
    // values; each case at many sites, against EmulatedArithmetic from the same start.
    void stochasticFloat32SumsAtTheirEdges() {
        const numeric::ComputeSpec spec = numeric::parseComputeSpec("bf16/bf16/fp32:sr:seed=6");
        const float maxFloat = std::numeric_limits<float>::max();
        const std::pair<float, float> cases[] = {{1.0f, -0x1p-30f},       {-1.0f, 0x1p-29f},      {0x1p-100f, -0x1p-126f},
                                                 {maxFloat, 0x1.8p103f},  {-maxFloat, -0x1p104f}, {maxFloat, 0x1p120f},
                                                 {0x1.000002p0f, -0x1p-25f}, {0x1p-126f, 0x1p-133f}};
        constexpr std::int64_t kSites = 2048;
        std::mt19937_64 rng(17);
        std::vector<float> start, term;
        for (const auto& c : cases)
            for (std::int64_t i = 0; i < kSites; ++i) {
                start.push_back(c.first);
                term.push_back(c.second);
            }
        for (std::int64_t i = 0; i < kSites; ++i) {
            start.push_back(float(std::ldexp(double(rng() >> 40) - 0x1p23, int(rng() % 60) - 30)));
            term.push_back(float(numeric::roundTo(std::ldexp(double(rng() >> 40) - 0x1p23, int(rng() % 60) - 50), numeric::Format::bf16(), numeric::Rounding::NearestEven)));
        }
        std::vector<float> want;
        const QString difference = laneSumsAgainstTheReference(spec, start, term, want);
        std::size_t finitePastMax = 0, belowPowerOfTwo = 0;
        for (std::int64_t j = 0; j < kSites; ++j) {
            finitePastMax += std::isfinite(want[std::size_t(3 * kSites + j)]);
            belowPowerOfTwo += want[std::size_t(j)] < 1.0f;
        }
        QVERIFY(finitePastMax > kSites / 8 && finitePastMax < kSites / 2);  // P = 1/4
        QVERIFY(belowPowerOfTwo > kSites / 100 && belowPowerOfTwo < kSites / 20);  // P = 2^-6
        QVERIFY2(difference.isEmpty(), qPrintable(difference));
    }

    // Inexact float32 sums (the term 17 to 27 binades below the start, so that TwoSum's error is rarely zero) at 2^18
    // sites: where the draw's top bits equal the sum's dropped bits (one site in 2^13 for fp16, 2^16 for bf16)
    // only the draw's low bits and the error decide, which the lanes' integer step cannot (its rare lanes).
    void stochasticSumsWhoseDrawTiesTheDroppedBits_data() {
        QTest::addColumn<QString>("spec");
        for (const char* spec : {"fp16:sr", "fp16-nosub:sr:seed=12", "bf16:sr:seed=5"}) QTest::newRow(spec) << QString::fromLatin1(spec);
    }
    void stochasticSumsWhoseDrawTiesTheDroppedBits() {
        QFETCH(QString, spec);
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        std::mt19937_64 rng(29);
        std::vector<float> start, term;
        constexpr std::int64_t kSites = std::int64_t(1) << 18;
        std::int64_t inexact = 0;
        for (std::int64_t i = 0; i < kSites; ++i) {
            const int e = int(rng() % 9) + 6;  // fp16's terms stay above its smallest step
            auto stored = [&](int exponent) {
                const double x = ((rng() & 1) ? -1 : 1) * std::ldexp(1.0 + double(rng() >> 12) * 0x1p-52, exponent);
                return float(numeric::roundTo(x, compute.storage, numeric::Rounding::NearestEven));
            };
            start.push_back(stored(e));
            term.push_back(stored(e - 17 - int(rng() % 11)));
            const float s = start.back() + term.back();
            inexact += double(s) != double(start.back()) + double(term.back());
        }
        QVERIFY(inexact > kSites / 2);
        std::vector<float> want;
        const QString difference = laneSumsAgainstTheReference(compute, start, term, want);
        QVERIFY2(difference.isEmpty(), qPrintable(difference));
    }

    // Sums below a narrow format's smallest step from starting values with bits far below it (a fraction of
    // the draw's units), which products of stored values never have.
    void stochasticSumsBelowTheSmallestStep_data() {
        QTest::addColumn<QString>("spec");
        for (const char* spec : {"fp16:sr", "e4m3:sr:seed=2", "bf16:sr"}) QTest::newRow(spec) << QString::fromLatin1(spec);
    }
    void stochasticSumsBelowTheSmallestStep() {
        QFETCH(QString, spec);
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        const int q = std::ilogb(numeric::minPositive(compute.accumulate));
        std::mt19937_64 rng(23);
        std::vector<float> start, term;
        for (int i = 0; i < 4096; ++i) {
            start.push_back(float(((rng() & 1) ? -1 : 1) * std::ldexp(1.0 + double(rng() >> 41) * 0x1p-23, q - 1 - int(rng() % 20))));
            const double t = std::ldexp(double(rng() % 7) - 3, q);  // a few smallest steps, or zero
            term.push_back(float(numeric::roundTo(t, compute.storage, numeric::Rounding::NearestEven)));
        }
        std::vector<float> want;
        const QString difference = laneSumsAgainstTheReference(compute, start, term, want);
        QVERIFY2(difference.isEmpty(), qPrintable(difference));
    }

    // A sum whose exact value lies just below a midpoint of the accumulator's grid, by less than a double
    // can hold: rounded to double first it would land on the midpoint and tie to even, upwards. Operands
    // (row of A, column of B): 1 + 2^-13 times 1, then 2^-7(1 + 2^-23) times 2^-7(1 − 2^-23), whose
    // product is 2^-14 − 2^-60; the correctly rounded 14-bit sum is 1 + 2^-13 (random data hits such
    // cases too rarely to notice the round-to-odd step missing).
    void noDoubleRoundingBelowAMidpoint_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<bool>("fused");
        QTest::newRow("naive, exact products") << "fp64/fp64/e8m13" << false;
        QTest::newRow("fused") << "fp32/e8m13" << true;
    }
    void noDoubleRoundingBelowAMidpoint() {
        QFETCH(QString, spec);
        QFETCH(bool, fused);
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        const std::vector<float> a = {float(1 + std::ldexp(1.0, -13)), float(std::ldexp(1 + std::ldexp(1.0, -23), -7))};
        const std::vector<float> b = {1.0f, float(std::ldexp(1 - std::ldexp(1.0, -23), -7))};
        const EmulatedOrder order = fused ? EmulatedOrder::FusedMultiplyAdd : EmulatedOrder::RoundedProducts;
        float c = 0;
        fastEmulatedGemm(order, compute, 1, 2, 1, a.data(), b.data(), &c);
        KS_COMPARE_EXACT(c, float(1 + std::ldexp(1.0, -13)));
        KS_COMPARE_EXACT(reference(order, compute, 1, 2, 1, a, b)[0], c);
    }

    // The fused order on float32 lanes: 1 + (1044/1024)·(2009·2^-22) = 1 + 2^-11 + 244·2^-32 lies just
    // above the midpoint between fp16's 1 and 1 + 2^-10; its float32 sum is the midpoint itself, which a
    // second rounding would tie to even, down to 1. Round-to-odd keeps the sticky bit: 1 + 2^-10.
    void floatLanesFusedSumIsRoundedOnce() {
        const numeric::ComputeSpec compute = numeric::parseComputeSpec("fp16");
        const std::vector<float> a = {1.0f, 1044.0f / 1024.0f}, b = {1.0f, float(std::ldexp(2009.0, -22))};
        for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
            if (!isaSupported(isa)) continue;
            setIsa(isa);
            float c = 0;
            fastEmulatedGemm(EmulatedOrder::FusedMultiplyAdd, compute, 1, 2, 1, a.data(), b.data(), &c,
                             EmulationLanes::Float32);
            setIsa(std::nullopt);
            KS_COMPARE_EXACT(c, float(1 + std::ldexp(1.0, -10)));
        }
        KS_COMPARE_EXACT(reference(EmulatedOrder::FusedMultiplyAdd, compute, 1, 2, 1, a, b)[0], float(1 + std::ldexp(1.0, -10)));
    }

    // Large enough for the threads to split the rows: the same bits on any thread count.
    void threadsDoNotChangeBits() {
        const numeric::ComputeSpec spec = numeric::parseComputeSpec("bf16/fp32");
        const std::int64_t m = 64, k = 96, n = 80;
        const auto a = operand(m * k, 127, false, 3), b = operand(k * n, 127, false, 4);
        std::vector<float> one(std::size_t(m * n)), two(std::size_t(m * n));
        setThreadCount(1);
        fastEmulatedGemm(EmulatedOrder::RoundedProducts, spec, m, k, n, a.data(), b.data(), one.data());
        setThreadCount(2);
        fastEmulatedGemm(EmulatedOrder::RoundedProducts, spec, m, k, n, a.data(), b.data(), two.data());
        setThreadCount(std::max(1, int(std::thread::hardware_concurrency())));
        QVERIFY(firstDifference(one, two, n).isEmpty());
        QCOMPARE(firstDifference(two, reference(EmulatedOrder::RoundedProducts, spec, m, k, n, a, b), n), QString());
    }

    // Which specs the float32 lanes take, and how: the methods and sums the rows above exercise.
    void floatLanesChooseTheirMethod_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<bool>("fused");
        QTest::addColumn<QString>("plan");  // product method, accumulation method, sum; or the refusal
        QTest::newRow("fp16") << "fp16" << false << "Fp16 Fp16 RoundTwice";
        QTest::newRow("bf16") << "bf16" << false << "SignedBits SignedBits RoundTwice";
        QTest::newRow("e4m3") << "e4m3" << false << "Magic Magic RoundTwice";
        QTest::newRow("fp16/fp32") << "fp16/fp32" << false << "Fp16 Identity Native";
        QTest::newRow("fp16/e5m2") << "fp16/e5m2" << false << "Fp16 Magic RoundToOdd";
        QTest::newRow("fused fp16") << "fp16" << true << "Fp16 Fp16 RoundToOdd";
        QTest::newRow("fused bf16/fp32") << "bf16/fp32" << true << "SignedBits Identity Native";
        QTest::newRow("tf32 products underflow") << "tf32" << false << "underflow";
        QTest::newRow("fused bf16: inexact products") << "bf16" << true << "exact in float32";
        QTest::newRow("fp32 products into fp16") << "fp32/fp16/fp32" << false << "not exact in float32";
        QTest::newRow("e8m13 too precise") << "e8m13" << false << "more than 11 bits";
        QTest::newRow("e9m5 too wide") << "e9m5" << false << "beyond float32's range";
        QTest::newRow("bf16-sat") << "bf16-sat" << false << "saturates";
        QTest::newRow("stochastic") << "fp16:sr" << false << "Stochastic Stochastic RoundToOdd";
        QTest::newRow("stochastic, fp32 products") << "e5m2/fp32/fp16:sr" << true << "Identity Stochastic RoundToOdd";
        QTest::newRow("stochastic bf16") << "bf16:sr" << false << "Stochastic Stochastic RoundToOdd";
        QTest::newRow("stochastic fused bf16: inexact products") << "bf16:sr" << true << "exact in float32";
        QTest::newRow("stochastic fp32 sums") << "fp16/fp32:sr" << false << "Stochastic Identity RoundToOdd";
        QTest::newRow("stochastic fp32 operands") << "fp32/fp16:sr" << false << "float32 operands";
        QTest::newRow("toward zero") << "fp16:rz" << false << "Fp16 Fp16 RoundTwice";  // F16C in MXCSR's mode
        QTest::newRow("fused up") << "bf16/fp32:ru" << true << "DirectedBits Identity Native";
        QTest::newRow("down, nosub") << "bf16-nosub:rd" << false << "Directed Directed RoundTwice";
        QTest::newRow("fused down, narrow sums") << "e4m3:rd" << true << "DirectedMagic DirectedMagic RoundTwice";
        QTest::newRow("down, fp32 products into fp16") << "fp32/fp16/fp32:rd" << false << "Fp16 Identity Native";
    }
    void floatLanesChooseTheirMethod() {
        QFETCH(QString, spec);
        QFETCH(bool, fused);
        QFETCH(QString, plan);
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        const EmulatedOrder order = fused ? EmulatedOrder::FusedMultiplyAdd : EmulatedOrder::RoundedProducts;
        if (auto refusal = numeric::laneRefusal(compute, order)) {
            QVERIFY2(refusal->find(plan.toStdString()) != std::string::npos, refusal->c_str());
            float x = 1, y = 1, z = 0;
            // Refused for the format's extremes only: ones run (operandsDecideTheLanes).
            if (numeric::laneRefusalDependsOnData(compute, order)) {
                fastEmulatedGemm(order, compute, 1, 1, 1, &x, &y, &z, EmulationLanes::Float32);
                QCOMPARE(std::bit_cast<std::uint32_t>(z), std::bit_cast<std::uint32_t>(1.0f));
            } else {
                QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                         fastEmulatedGemm(order, compute, 1, 1, 1, &x, &y, &z, EmulationLanes::Float32));
            }
            return;
        }
        const numeric::LaneSpec lanes = numeric::laneSpec(compute, order);
        const char* methods[] = {"Identity", "Fp16", "Magic", "Bits", "SignedBits", "Directed", "Stochastic", "DirectedBits", "DirectedMagic"};
        const char* sums[] = {"Native", "RoundTwice", "RoundToOdd"};
        QCOMPARE(QStringLiteral("%1 %2 %3")
                     .arg(methods[int(lanes.product.method)], methods[int(lanes.accumulate.method)], sums[int(lanes.sum)]),
                 plan);
    }

    // The kernels are compiled only for the combinations laneCombinationExists() names: every spec that
    // laneSpec() accepts, over every lane format (each family, exponent and precision, with and without
    // subnormals, saturating, finite-only), alone and beside other formats, in every mode and order, is one.
    void everyLaneSpecHasItsKernels() {
        std::vector<numeric::Format> formats{numeric::Format::fp32()};
        for (int e = 2; e <= 8; ++e)
            for (int m = 0; m <= 10; ++m)
                for (bool subnormals : {true, false})
                    for (auto overflow : {numeric::Overflow::Infinity, numeric::Overflow::Saturate})
                        for (auto specials : {numeric::Specials::Ieee, numeric::Specials::FiniteOnlyOcp}) {
                            const numeric::Format f{.exponentBits = e, .mantissaBits = m, .subnormals = subnormals,
                                                    .overflow = overflow, .specials = specials};
                            try {
                                numeric::validate(f);  // (finite-only formats need a mantissa bit)
                            } catch (const numeric::FormatError&) {
                                continue;
                            }
                            if (!numeric::laneFormatRefusal(f)) formats.push_back(f);
                        }
        const numeric::Format others[] = {numeric::Format::fp32(), numeric::parseFormat("fp16"),
                                          numeric::parseFormat("bf16"), numeric::parseFormat("e4m3"),
                                          numeric::parseFormat("e5m2")};
        int made = 0;
        for (const numeric::Format& f : formats)
            for (const numeric::Format& g : others)
                for (auto rounding : {numeric::Rounding::NearestEven, numeric::Rounding::TowardZero, numeric::Rounding::Up,
                                      numeric::Rounding::Down, numeric::Rounding::Stochastic})
                    for (auto order : {EmulatedOrder::RoundedProducts, EmulatedOrder::FusedMultiplyAdd})
                        for (auto [storage, product, accumulate] : {std::tuple{f, f, f}, std::tuple{f, f, g}, std::tuple{f, g, g},
                                                                    std::tuple{g, f, f}, std::tuple{g, g, f}, std::tuple{f, g, f}}) {
                            numeric::ComputeSpec spec;
                            spec.storage = storage;
                            spec.product = product;
                            spec.accumulate = accumulate;
                            spec.rounding = rounding;
                            spec.native = false;
                            try {
                                numeric::laneSpec(spec, order);
                                ++made;
                            } catch (const std::invalid_argument&) {  // a refusal, with its reason
                            } catch (const std::logic_error& e) {
                                QFAIL(e.what());
                            }
                        }
        QVERIFY2(made > 20000, qPrintable(QString::number(made)));
    }

    // Formats with float32's exponent range (bf16, tf32, e8mY) are refused float32 lanes for their extremes,
    // where products of two stored values fall below float32's precision; the operands' own range decides.
    // Data within [2^lo, 2^hi) and zeros: on float32 lanes when every product is exact in float32, otherwise on
    // the double lanes (or, for stochastic rounding, which they do not run, refused with the reason); the
    // reference's bits either way, on every instruction set.
    void operandsDecideTheLanes_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<int>("lo");
        QTest::addColumn<int>("hi");
        QTest::addColumn<bool>("float32Lanes");
        QTest::newRow("bf16 fma, moderate") << "fma|bf16" << -40 << 40 << true;
        QTest::newRow("bf16 fma, products below 2^-149") << "fma|bf16" << -80 << -60 << false;
        QTest::newRow("bf16 fma, products near FLT_MAX") << "fma|bf16" << 50 << 64 << false;
        QTest::newRow("tf32 naive, moderate") << "naive|tf32" << -50 << 50 << true;
        QTest::newRow("tf32 naive, products below 2^-149") << "naive|tf32" << -75 << -55 << false;
        QTest::newRow("tf32 fma, moderate") << "fma|tf32" << -20 << 20 << true;
        QTest::newRow("e8m5 fma, moderate") << "fma|e8m5" << -10 << 10 << true;
        QTest::newRow("bf16:sr fma, moderate") << "fma|bf16:sr:seed=3" << -30 << 30 << true;
        QTest::newRow("bf16/fp32:sr fma, moderate") << "fma|bf16/fp32:sr" << -30 << 30 << true;
        QTest::newRow("bf16:sr fma, products below 2^-149") << "fma|bf16:sr" << -80 << -60 << false;
    }
    void operandsDecideTheLanes() {
        QFETCH(QString, spec);
        QFETCH(int, lo);
        QFETCH(int, hi);
        QFETCH(bool, float32Lanes);
        const QStringList parts = spec.split(QLatin1Char('|'));
        const EmulatedOrder order = parts[0] == QLatin1String("naive") ? EmulatedOrder::RoundedProducts
                                                                        : EmulatedOrder::FusedMultiplyAdd;
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(parts[1].toStdString());
        QVERIFY(numeric::laneRefusal(compute, order));  // the format's extremes are refused
        QVERIFY(numeric::laneRefusalDependsOnData(compute, order));
        QVERIFY(!fastEngineRefusal(compute, order));
        std::mt19937_64 rng(5);
        std::uniform_int_distribution<int> exponent(lo, hi - 1);
        auto data = [&](std::int64_t count) {
            std::vector<float> v(static_cast<std::size_t>(count));
            for (auto& x : v) {
                const std::uint32_t fraction = static_cast<std::uint32_t>(rng()) & 0x7fffffu;
                x = (rng() % 16 == 0) ? 0.0f : std::ldexp(std::bit_cast<float>(0x3f800000u | fraction), exponent(rng));
                if (rng() & 1) x = -x;
            }
            return v;
        };
        const std::int64_t m = 9, k = 45, n = 37;
        const auto a = data(m * k), b = data(k * n);
        const auto want = reference(order, compute, m, k, n, a, b);
        const bool doubleLanes = !numeric::fastArithmeticRefusal(compute);
        for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
            if (!isaSupported(isa)) continue;
            setIsa(isa);
            std::vector<float> got(want.size(), -1.0f);
            std::string engine;
            const auto refusal = tryFastEmulatedGemm(order, compute, m, k, n, a.data(), b.data(), got.data(), &engine);
            bool forcedThrew = false;
            std::vector<float> forced(want.size(), -1.0f);
            try {
                fastEmulatedGemm(order, compute, m, k, n, a.data(), b.data(), forced.data(), EmulationLanes::Float32);
            } catch (const std::invalid_argument&) {
                forcedThrew = true;
            }
            setIsa(std::nullopt);
            const QString where = QString::fromStdString(isaName(isa)) + QStringLiteral(": ");
            QCOMPARE(forcedThrew, !float32Lanes);
            if (float32Lanes || doubleLanes) {
                QVERIFY2(!refusal, refusal ? refusal->c_str() : "");
                QCOMPARE(QString::fromStdString(engine),
                         float32Lanes ? QStringLiteral("float32 ") + QString::fromStdString(isaName(isa)) : QStringLiteral("double"));
                const QString difference = firstDifference(got, want, n);
                QVERIFY2(difference.isEmpty(), qPrintable(where + difference));
            } else {
                QVERIFY(refusal);
                QVERIFY2(refusal->find("these operands") != std::string::npos, refusal->c_str());
                QVERIFY(engine.empty());
            }
            if (float32Lanes) {
                const QString difference = firstDifference(forced, want, n);
                QVERIFY2(difference.isEmpty(), qPrintable(where + QStringLiteral("forced float32 lanes: ") + difference));
            }
        }
    }

    // A tf32 product needs 22 bits: 145·2^-75 · 113·2^-76 = 2^-137 + 2^-151 lies just past the midpoint between
    // 0 and tf32's smallest step 2^-136, and float32, whose last place there is 2^-149, rounds it onto that
    // midpoint, whence a second rounding ties to 0. The operands' range keeps this product off float32 lanes.
    void aProductBelowFloat32sPrecisionLeavesItsLanes() {
        const numeric::ComputeSpec spec = numeric::parseComputeSpec("tf32");
        const float a = std::ldexp(145.0f, -75), b = std::ldexp(113.0f, -76);
        QCOMPARE(double(a) * double(b), std::ldexp(1.0, -137) + std::ldexp(1.0, -151));
        const auto want = reference(EmulatedOrder::RoundedProducts, spec, 1, 1, 1, {a}, {b});
        QCOMPARE(std::bit_cast<std::uint32_t>(want[0]), std::bit_cast<std::uint32_t>(std::ldexp(1.0f, -136)));
        for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
            if (!isaSupported(isa)) continue;
            setIsa(isa);
            float got = -1.0f;
            std::string engine;
            const auto refusal = tryFastEmulatedGemm(EmulatedOrder::RoundedProducts, spec, 1, 1, 1, &a, &b, &got, &engine);
            setIsa(std::nullopt);
            QVERIFY(!refusal);
            QCOMPARE(QString::fromStdString(engine), QStringLiteral("double"));
            QCOMPARE(std::bit_cast<std::uint32_t>(got), std::bit_cast<std::uint32_t>(want[0]));
        }
    }

    // The bounds read from stored values (the smallest non-zero one's last place, the largest's binade), and
    // the refusal's edge: products exact in float32 need their last places to sum to -149 or more.
    void storedExponentsBoundTheProducts() {
        const numeric::Format bf16 = numeric::parseFormat("bf16");
        const std::vector<float> values = {0.0f, -0x1.8p-67f, 3.0f, -0.0f, 0x1p-60f};
        const numeric::StoredExponents e = numeric::storedExponents(bf16, values.data(), std::int64_t(values.size()));
        QCOMPARE(e.lastPlace, -67 - 7);
        QCOMPARE(e.top, 2);
        const std::vector<float> zeros = {0.0f, -0.0f};
        const numeric::StoredExponents z = numeric::storedExponents(bf16, zeros.data(), 2);
        QVERIFY(z.lastPlace > 0 && z.top < -149);  // every product is zero
        const std::vector<float> withInfinity = {1.0f, std::numeric_limits<float>::infinity()};
        const numeric::StoredExponents inf = numeric::storedExponents(bf16, withInfinity.data(), 2);
        QCOMPARE(inf.lastPlace, numeric::storedExponents(bf16).lastPlace);
        QCOMPARE(inf.top, numeric::storedExponents(bf16).top);
        const std::vector<float> subnormal = {0x1p-133f};  // bf16's smallest step: its last place is the format's
        QCOMPARE(numeric::storedExponents(bf16, subnormal.data(), 1).lastPlace, -126 - 7);
        const numeric::ComputeSpec spec = numeric::parseComputeSpec("bf16");
        const EmulatedOrder fused = EmulatedOrder::FusedMultiplyAdd;
        QVERIFY(!numeric::laneRefusal(spec, fused, {-74, 1}, {-75, 1}));
        QVERIFY(numeric::laneRefusal(spec, fused, {-74, 1}, {-76, 1}));
        QVERIFY(!numeric::laneRefusal(spec, fused, {-74, 63}, {-75, 64}));
        QVERIFY(numeric::laneRefusal(spec, fused, {-74, 64}, {-75, 64}));
    }

    void refusesWhatItDoesNotCover_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QString>("reason");
        QTest::newRow("native") << "native" << "native";
        QTest::newRow("stochastic") << "fp32/fp16:sr" << "nearest-even only";  // float32 lanes refuse it too
        QTest::newRow("fixed point") << "fixed16.8" << "fixed16.8";
        QTest::newRow("scaled integer") << "int8@0.01/fp32" << "int8";
        QTest::newRow("LNS") << "lns16.10" << "lns16.10";
    }
    void refusesWhatItDoesNotCover() {
        QFETCH(QString, spec);
        QFETCH(QString, reason);
        const auto refusal = numeric::fastArithmeticRefusal(numeric::parseComputeSpec(spec.toStdString()));
        QVERIFY(refusal);
        QVERIFY2(refusal->find(reason.toStdString()) != std::string::npos, refusal->c_str());
        float x = 1, y = 1, z = 0;
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 fastEmulatedGemm(EmulatedOrder::RoundedProducts,
                                                  numeric::parseComputeSpec(spec.toStdString()), 1, 1, 1, &x, &y, &z));
    }
};

QTEST_APPLESS_MAIN(tst_EmulatedGemm)
#include "tst_emulated_gemm.moc"
