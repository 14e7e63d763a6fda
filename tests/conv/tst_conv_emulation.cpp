// Every convolution algorithm on the fast engine (float32 lanes, conv_lanes.hpp, where the spec allows;
// otherwise FastEmulatedArithmetic's double lanes, or the reference for fft) against the same algorithm
// on the reference EmulatedArithmetic, bit for bit (a NaN matching
// any NaN: its sign and payload are unspecified), for specs across the float families, shapes with
// padding and stride, and data that reaches subnormals, overflow and NaN.
#include <QtTest>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "base/isa.hpp"
#include "base/parallel.hpp"
#include "conv/conv_lanes.hpp"
#include "conv/conv_registry.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/fast_arithmetic.hpp"
#include "numeric/mx.hpp"
#include "test_support.hpp"

using namespace ks;

namespace {

std::vector<double> data(std::int64_t count, bool specials, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    std::uniform_int_distribution<int> kind(0, 199);
    std::vector<double> v(static_cast<std::size_t>(count));
    for (auto& x : v) {
        const int k = kind(rng);
        x = static_cast<float>(uniform(rng));  // the data the float32 front ends give
        if (specials && k == 0) x = 70000.0;   // beyond fp16 and e4m3
        if (specials && k == 1) x = 3e-7;      // an fp16 subnormal
        if (specials && k == 2) x = std::numeric_limits<double>::quiet_NaN();
    }
    return v;
}

/// Data for the float32 lanes' masks and zero taps: besides data()'s specials, −0 (an all-negative-zero
/// sum stays −0 only if the outside zeros are skipped) and ±∞ (∞ · 0 is NaN where a zero tap is added).
std::vector<double> signedZerosAndInfinities(std::int64_t count, std::uint64_t seed) {
    std::vector<double> v = data(count, true, seed);
    std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
    std::uniform_int_distribution<int> kind(0, 99);
    for (auto& x : v) {
        const int k = kind(rng);
        if (k < 15) x = -0.0;
        if (k == 15) x = std::numeric_limits<double>::infinity();
        if (k == 16) x = -std::numeric_limits<double>::infinity();
    }
    return v;
}

QString firstDifference(const std::vector<double>& got, const std::vector<double>& want) {
    for (std::size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(got[i]) && std::isnan(want[i])) continue;
        if (std::bit_cast<std::uint64_t>(got[i]) != std::bit_cast<std::uint64_t>(want[i]))
            return QStringLiteral("output %1: got %2, want %3").arg(i).arg(got[i], 0, 'g', 17).arg(want[i], 0, 'g', 17);
    }
    return {};
}

}  // namespace

class tst_ConvEmulation : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void fastEngineIsTheReference_data() {
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<QString>("spec");
        for (const auto* algorithm : conv::convAlgorithms()) {
            for (const char* spec : {"fp16", "bf16", "e4m3", "fp16/fp32", "bf16/fp32", "e5m2/fp16/fp32", "tf32", "fp16-nosub",
                                     "e8m13", "bf16/e8m14", "e5m12-nosub", "fp32/e11m30"})
                QTest::addRow("%s %s", algorithm->name().c_str(), spec)
                    << QString::fromStdString(algorithm->name()) << QString::fromLatin1(spec);
        }
    }
    void fastEngineIsTheReference() {
        QFETCH(QString, algorithm);
        QFETCH(QString, spec);
        const conv::ConvAlgorithm& algo = conv::convAlgorithm(algorithm.toStdString());
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        QVERIFY(!numeric::fastArithmeticRefusal(compute));
        const conv::ConvProblem problems[] = {conv::ConvProblem::layer(2, 3, 9, 9, 4, 3, 1, 1),
                                              conv::ConvProblem::layer(1, 2, 11, 10, 3, 3, 2, 1),
                                              conv::ConvProblem::layer(1, 2, 12, 12, 2, 5)};
        std::uint64_t seed = 5;
        int ran = 0;
        for (const auto& p : problems) {
            if (algo.supports(p)) continue;
            for (bool specials : {false, true}) {
                const auto x = data(p.inputCount(), specials, seed++), w = data(p.weightCount(), specials, seed++);
                const auto b = data(p.K, false, seed++);
                std::vector<double> fast(static_cast<std::size_t>(p.outputCount())), reference(fast.size());
                numeric::EmulatedArithmetic fastRequest(compute, numeric::EmulationEngine::Fast);
                numeric::EmulatedArithmetic referenceOnly(compute, numeric::EmulationEngine::Reference);
                algo.run(p, x.data(), w.data(), b.data(), fast.data(), fastRequest);
                algo.run(p, x.data(), w.data(), b.data(), reference.data(), referenceOnly);
                for (std::size_t i = 0; i < fast.size(); ++i) {
                    if (std::isnan(fast[i]) && std::isnan(reference[i])) continue;
                    QVERIFY2(std::bit_cast<std::uint64_t>(fast[i]) == std::bit_cast<std::uint64_t>(reference[i]),
                             qPrintable(QStringLiteral("%1, output %2: fast %3, reference %4")
                                            .arg(QString::fromStdString(p.toString()))
                                            .arg(i)
                                            .arg(fast[i], 0, 'g', 17)
                                            .arg(reference[i], 0, 'g', 17)));
                }
                ++ran;
            }
        }
        QVERIFY(ran > 0);
    }

    // A scaled storage format blocks the input and the weights along C (conv_algorithm.hpp): every algorithm,
    // either engine, gives the bits of float32 emulation on operands the test blocked itself with mxQuantize on
    // the channel-last transposes (one block of 32 channels and a short one of 8). The bias is not quantised.
    void scaledStorageBlocksAlongChannels_data() {
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<bool>("reference");
        for (const auto* algorithm : conv::convAlgorithms())
            for (bool reference : {false, true})
                QTest::addRow("%s %s", algorithm->name().c_str(), reference ? "reference" : "fast")
                    << QString::fromStdString(algorithm->name()) << reference;
    }
    void scaledStorageBlocksAlongChannels() {
        QFETCH(QString, algorithm);
        QFETCH(bool, reference);
        const conv::ConvAlgorithm& algo = conv::convAlgorithm(algorithm.toStdString());
        const conv::ConvProblem p = conv::ConvProblem::layer(2, 40, 6, 6, 3, 3, 1, 1);
        if (algo.supports(p)) QSKIP("the algorithm does not take this shape");
        auto x = data(p.inputCount(), false, 71), w = data(p.weightCount(), false, 72);
        const auto b = data(p.K, false, 73);
        // Magnitudes that differ from channel to channel and pixel to pixel (or tap), so that blocks laid any
        // other way would have other scales.
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::ldexp(x[i], int((i / 36 + i % 36) % 7) - 3);
        for (std::size_t i = 0; i < w.size(); ++i) w[i] = std::ldexp(w[i], int((i / 9 + 2 * (i % 9)) % 7) - 3);
        // Channel-last copies, blocked along C by mxQuantize, put back.
        auto blockedAlongC = [&](const std::vector<double>& t, std::int64_t outer, std::int64_t inner) {
            std::vector<double> last(t.size()), q(t.size()), back(t.size());
            for (std::int64_t o = 0; o < outer; ++o)
                for (std::int64_t c = 0; c < p.C; ++c)
                    for (std::int64_t i = 0; i < inner; ++i)
                        last[std::size_t((o * inner + i) * p.C + c)] = t[std::size_t((o * p.C + c) * inner + i)];
            numeric::mxQuantize(std::span<const double>(last), std::span<double>(q), p.C, numeric::MxElement::E2M1);
            for (std::int64_t o = 0; o < outer; ++o)
                for (std::int64_t c = 0; c < p.C; ++c)
                    for (std::int64_t i = 0; i < inner; ++i)
                        back[std::size_t((o * p.C + c) * inner + i)] = q[std::size_t((o * inner + i) * p.C + c)];
            return back;
        };
        const auto qx = blockedAlongC(x, p.N, p.H * p.W), qw = blockedAlongC(w, p.K, p.R * p.S);
        const auto engine = reference ? numeric::EmulationEngine::Reference : numeric::EmulationEngine::Fast;
        std::vector<double> got(static_cast<std::size_t>(p.outputCount())), want(got.size()), plain(got.size());
        algo.runEmulated(p, x.data(), w.data(), b.data(), got.data(), numeric::parseComputeSpec("mxfp4/fp32"), engine);
        algo.runEmulated(p, qx.data(), qw.data(), b.data(), want.data(), numeric::parseComputeSpec("fp32"), engine);
        algo.runEmulated(p, x.data(), w.data(), b.data(), plain.data(), numeric::parseComputeSpec("fp32"), engine);
        QCOMPARE(firstDifference(got, want), QString());
        QVERIFY(!firstDifference(got, plain).isEmpty());
    }

    // An accumulator model in a convolution: direct and im2col compute it (1024 channels of ones, a 1×1 kernel: bf16
    // stalls at 256 in the kernels' order, not pairwise), with the bias after the products; the algorithms whose sums
    // run through transforms refuse it by name, as the studies' supports() says.
    void accumulatorModelsInConvolutions() {
        const conv::ConvProblem p = conv::ConvProblem::layer(1, 1024, 2, 2, 2, 1);
        const std::vector<double> x(std::size_t(p.inputCount()), 1.0), w(std::size_t(p.weightCount()), 1.0), b = {8.0, -16.0};
        for (const auto* algorithm : conv::convAlgorithms()) {
            if (algorithm->supports(p)) continue;
            for (bool reference : {false, true}) {
                const auto engine = reference ? numeric::EmulationEngine::Reference : numeric::EmulationEngine::Fast;
                std::vector<double> plain(std::size_t(p.outputCount())), pairwise(plain.size());
                const auto pairwiseSpec = numeric::parseComputeSpec("bf16:acc=pairwise");
                if (!algorithm->modelsAccumulation()) {
                    QVERIFY(algorithm->emulationRefusal(pairwiseSpec));
                    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                             algorithm->runEmulated(p, x.data(), w.data(), b.data(), pairwise.data(),
                                                                    pairwiseSpec, engine));
                    continue;
                }
                algorithm->runEmulated(p, x.data(), w.data(), nullptr, plain.data(), numeric::parseComputeSpec("bf16"), engine);
                algorithm->runEmulated(p, x.data(), w.data(), b.data(), pairwise.data(), pairwiseSpec, engine);
                for (std::size_t i = 0; i < plain.size(); ++i) {
                    KS_COMPARE_EXACT(plain[i], 256.0);
                    KS_COMPARE_EXACT(pairwise[i], i < 4 ? 1032.0 : 1008.0);  // the bias, added after the products
                }
            }
        }
    }

    // direct, im2col and Winograd on float32 lanes (conv_lanes.hpp), in every instruction set this CPU
    // runs and on one and two threads, against the reference engine: shapes of several 256-pixel blocks
    // (and of many 16-tile blocks), a batch, padding, stride and a 1×1 kernel where the algorithm takes
    // them; −0, ±∞ and NaN in inputs and weights, so that the outside taps' mask (direct) and zeros
    // (im2col, Winograd) show; with a bias and without; products of stored values with float32 sums
    // (Winograd's transforms under "fp16/fp32", "e4m3/fp32": the round-to-odd products).
    void patchLanesAreTheReference_data() {
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<QString>("spec");
        for (const char* algorithm : {"direct", "im2col", "winograd-2x2", "winograd-4x4", "winograd-6x6", "fft"})
            for (const char* spec : {"fp16", "bf16", "e4m3", "e5m2-sat", "fp16/fp32", "e4m3/fp32", "e4m3-nosub/fp16", "e3m2",
                                     "fp16:rz", "bf16:ru", "e4m3:rd", "fp16/fp32:rd", "e5m2-sat:ru"})
                QTest::addRow("%s %s", algorithm, spec) << QString::fromLatin1(algorithm) << QString::fromLatin1(spec);
        // Stochastic rounding: every rounding drawn at its site, so blocks, lanes and threads agree with the
        // reference's loops (direct and im2col so far; Winograd's and the FFT's transforms are not keyed).
        for (const char* algorithm : {"direct", "im2col"})
            for (const char* spec : {"fp16:sr", "e4m3:sr:seed=4", "e5m2/fp16:sr", "fp16-nosub:sr", "e5m2/fp32/fp16:sr", "bf16:sr", "fp16/fp32:sr"})
                QTest::addRow("%s %s", algorithm, spec) << QString::fromLatin1(algorithm) << QString::fromLatin1(spec);
    }
    void patchLanesAreTheReference() {
        QFETCH(QString, algorithm);
        QFETCH(QString, spec);
        const conv::ConvAlgorithm& algo = conv::convAlgorithm(algorithm.toStdString());
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        QVERIFY2(!conv::lanes::patchRefusal(compute), conv::lanes::patchRefusal(compute)->c_str());
        QVERIFY(algo.fastEmulationPath(compute).starts_with("float32 "));
        const conv::ConvProblem problems[] = {conv::ConvProblem::layer(2, 3, 19, 17, 5, 3, 1, 1),
                                              conv::ConvProblem::layer(1, 4, 40, 37, 3, 3, 2, 2),
                                              conv::ConvProblem::layer(1, 5, 21, 21, 4, 1),
                                              conv::ConvProblem::layer(1, 2, 6, 7, 33, 5, 1, 2),
                                              conv::ConvProblem::layer(1, 3, 30, 29, 4, 3, 1, 0),
                                              conv::ConvProblem::layer(2, 2, 70, 9, 3, 3, 1, 2)};
        std::uint64_t seed = 101;
        int ran = 0;
        const int savedThreads = threadCount();
        for (const auto& p : problems) {
            if (algo.supports(p)) continue;
            ++ran;
            const auto x = signedZerosAndInfinities(p.inputCount(), seed++);
            const auto w = signedZerosAndInfinities(p.weightCount(), seed++);
            const auto b = data(p.K, false, seed++);
            for (const double* bias : {b.data(), static_cast<const double*>(nullptr)}) {
                std::vector<double> want(static_cast<std::size_t>(p.outputCount()));
                numeric::EmulatedArithmetic referenceOnly(compute, numeric::EmulationEngine::Reference);
                algo.run(p, x.data(), w.data(), bias, want.data(), referenceOnly);
                for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
                    if (!isaSupported(isa)) continue;
                    for (int threads : {1, 2}) {
                        setIsa(isa);
                        setThreadCount(threads);
                        std::vector<double> got(want.size(), -1.0);
                        numeric::EmulatedArithmetic fast(compute, numeric::EmulationEngine::Fast);
                        algo.run(p, x.data(), w.data(), bias, got.data(), fast);
                        setIsa(std::nullopt);
                        setThreadCount(savedThreads);
                        const QString difference = firstDifference(got, want);
                        QVERIFY2(difference.isEmpty(), qPrintable(QStringLiteral("%1, %2, %3 thread(s), bias %4: %5")
                                                                      .arg(QString::fromStdString(p.toString()))
                                                                      .arg(QString::fromStdString(isaName(isa)))
                                                                      .arg(threads)
                                                                      .arg(bias ? "yes" : "no")
                                                                      .arg(difference)));
                    }
                }
            }
        }
        QVERIFY(ran >= 3);
    }
};

QTEST_APPLESS_MAIN(tst_ConvEmulation)
#include "tst_conv_emulation.moc"
