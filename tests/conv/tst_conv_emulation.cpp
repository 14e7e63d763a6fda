// Every convolution algorithm on the fast engine (float32 lanes, conv_lanes.hpp, where the spec allows;
// otherwise FastEmulatedArithmetic's double lanes, or the reference for fft) against the same algorithm
// on the reference EmulatedArithmetic, bit for bit (a NaN matching
// any NaN: its sign and payload are unspecified), for specs across the float families, shapes with
// padding and stride, and data that reaches subnormals, overflow and NaN.
#include <QTest>

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
#include "conv/winograd_transform.hpp"
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

/// Data rows "algorithm engine": every registered conv algorithm on the fast engine and on the reference.
void everyAlgorithmOnBothEngines() {
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<bool>("reference");
        for (const auto* algorithm : conv::convAlgorithms())
            for (bool reference : {false, true})
                QTest::addRow("%s %s", algorithm->name().c_str(), reference ? "reference" : "fast")
                    << QString::fromStdString(algorithm->name()) << reference;
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
    void scaledStorageBlocksAlongChannels_data() { everyAlgorithmOnBothEngines(); }
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

    // Issue 18: MX blocks on the transformed tiles instead of the spatial operands. The test's own Winograd (the
    // Cook–Toom matrices, checked in tst_winograd against the published F(2, 3)) and its own DFT, in double, with the
    // tiles blocked along C by mxQuantize: the kernels compute their transforms in float32, so they agree to float32's
    // noise, while blocks on the operands (or none) give another result altogether. Algorithms that do not transform
    // their operands give the same bits under both placements.
    void scalesOnTransformedTiles_data() { everyAlgorithmOnBothEngines(); }
    void scalesOnTransformedTiles() {
        QFETCH(QString, algorithm);
        QFETCH(bool, reference);
        const conv::ConvAlgorithm& algo = conv::convAlgorithm(algorithm.toStdString());
        const conv::ConvProblem p = conv::ConvProblem::layer(2, 40, 6, 6, 3, 3, 1, 1);
        if (algo.supports(p)) QSKIP("the algorithm does not take this shape");
        const auto x = data(p.inputCount(), false, 81), w = data(p.weightCount(), false, 82), b = data(p.K, false, 83);
        const auto engine = reference ? numeric::EmulationEngine::Reference : numeric::EmulationEngine::Fast;
        std::vector<double> tiles(static_cast<std::size_t>(p.outputCount())), operands(tiles.size());
        algo.runEmulated(p, x.data(), w.data(), b.data(), tiles.data(), numeric::parseComputeSpec("mxfp4/fp32:scales=tiles"), engine);
        algo.runEmulated(p, x.data(), w.data(), b.data(), operands.data(), numeric::parseComputeSpec("mxfp4/fp32"), engine);
        if (!algo.transformsOperands()) {
            QCOMPARE(firstDifference(tiles, operands), QString());
            return;
        }
        // gather(i) → the C values of line i; blocked along C with MX's E2M1 blocks of 32 (40 = 32 + 8).
        const auto blockAlongC = [&](std::vector<double>& t, std::int64_t lines, auto index) {
            std::vector<double> line(static_cast<std::size_t>(p.C)), q(line.size());
            for (std::int64_t l = 0; l < lines; ++l) {
                for (std::int64_t c = 0; c < p.C; ++c) line[std::size_t(c)] = t[index(l, c)];
                numeric::mxQuantize(std::span<const double>(line), std::span<double>(q), p.C, numeric::MxElement::E2M1);
                for (std::int64_t c = 0; c < p.C; ++c) t[index(l, c)] = q[std::size_t(c)];
            }
        };
        std::vector<double> want(tiles.size());
        const std::int64_t P = p.P(), Q = p.Q();
        if (algorithm.startsWith(QStringLiteral("winograd"))) {
            const int m = algorithm.mid(9, 1).toInt();
            const conv::WinogradTransforms t = conv::cookToom(m, 3);
            const int a = t.alpha;
            // Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, tile by tile.
            const auto sandwich = [](const std::vector<double>& L, int rows, int inner, const double* X) {  // L X Lᵀ
                std::vector<double> LX(std::size_t(rows * inner)), out(std::size_t(rows * rows));
                for (int i = 0; i < rows; ++i)
                    for (int j = 0; j < inner; ++j)
                        for (int k = 0; k < inner; ++k) LX[std::size_t(i * inner + j)] += L[std::size_t(i * inner + k)] * X[k * inner + j];
                for (int i = 0; i < rows; ++i)
                    for (int j = 0; j < rows; ++j)
                        for (int k = 0; k < inner; ++k) out[std::size_t(i * rows + j)] += LX[std::size_t(i * inner + k)] * L[std::size_t(j * inner + k)];
                return out;
            };
            const std::int64_t tilesH = (P + m - 1) / m, tilesW = (Q + m - 1) / m, T = p.N * tilesH * tilesW;
            std::vector<double> U(std::size_t(a * a * p.K * p.C)), V(std::size_t(a * a * p.C * T));
            for (std::int64_t kc = 0; kc < p.K * p.C; ++kc) {
                const auto u = sandwich(t.G, a, 3, w.data() + kc * 9);
                for (int xi = 0; xi < a * a; ++xi) U[std::size_t(xi * p.K * p.C + kc)] = u[std::size_t(xi)];
            }
            for (std::int64_t n = 0; n < p.N; ++n)
                for (std::int64_t c = 0; c < p.C; ++c)
                    for (std::int64_t th = 0; th < tilesH; ++th)
                        for (std::int64_t tw = 0; tw < tilesW; ++tw) {
                            std::vector<double> d(static_cast<std::size_t>(a * a));
                            for (int i = 0; i < a; ++i)
                                for (int j = 0; j < a; ++j) {
                                    const std::int64_t h = th * m + i - p.padH, wc = tw * m + j - p.padW;
                                    if (h >= 0 && h < p.H && wc >= 0 && wc < p.W) d[std::size_t(i * a + j)] = x[std::size_t(((n * p.C + c) * p.H + h) * p.W + wc)];
                                }
                            const auto v = sandwich(t.BT, a, a, d.data());
                            const std::int64_t tile = (n * tilesH + th) * tilesW + tw;
                            for (int xi = 0; xi < a * a; ++xi) V[std::size_t((xi * p.C + c) * T + tile)] = v[std::size_t(xi)];
                        }
            blockAlongC(U, a * a * p.K, [&](std::int64_t l, std::int64_t c) { return std::size_t(l * p.C + c); });
            blockAlongC(V, a * a * T, [&](std::int64_t l, std::int64_t c) { return std::size_t(((l / T) * p.C + c) * T + l % T); });
            for (std::int64_t k = 0; k < p.K; ++k)
                for (std::int64_t tile = 0; tile < T; ++tile) {
                    std::vector<double> M(static_cast<std::size_t>(a * a));
                    for (int xi = 0; xi < a * a; ++xi)
                        for (std::int64_t c = 0; c < p.C; ++c)
                            M[std::size_t(xi)] += U[std::size_t((xi * p.K + k) * p.C + c)] * V[std::size_t((xi * p.C + c) * T + tile)];
                    const auto y = sandwich(t.AT, m, a, M.data());
                    const std::int64_t n = tile / (tilesH * tilesW), th = tile / tilesW % tilesH, tw = tile % tilesW;
                    for (int i = 0; i < m; ++i)
                        for (int j = 0; j < m; ++j)
                            if (th * m + i < P && tw * m + j < Q)
                                want[std::size_t(((n * p.K + k) * P + th * m + i) * Q + tw * m + j)] = y[std::size_t(i * m + j)] + b[std::size_t(k)];
                }
        } else {
            QCOMPARE(algorithm, QStringLiteral("fft"));
            // Spectra of the zero-padded planes at the power-of-two size the emulated FFT uses; the real and the
            // imaginary parts each blocked along C at every frequency; y = Re IDFT(Σ_c X · conj(W)) / F².
            const std::int64_t F = 8, F2 = F * F;  // 6 + 2 rounded up
            const double pi = std::acos(-1.0);
            const auto dft = [&](const std::vector<double>& re, const std::vector<double>& im, int sign, std::vector<double>& outRe,
                                 std::vector<double>& outIm) {
                outRe.assign(std::size_t(F2), 0.0), outIm.assign(std::size_t(F2), 0.0);
                for (std::int64_t u = 0; u < F; ++u)
                    for (std::int64_t v = 0; v < F; ++v)
                        for (std::int64_t i = 0; i < F; ++i)
                            for (std::int64_t j = 0; j < F; ++j) {
                                const double angle = sign * 2 * pi * double((u * i + v * j) % F) / double(F);
                                const double c = std::cos(angle), s = std::sin(angle), r = re[std::size_t(i * F + j)], q = im[std::size_t(i * F + j)];
                                outRe[std::size_t(u * F + v)] += r * c - q * s;
                                outIm[std::size_t(u * F + v)] += r * s + q * c;
                            }
            };
            const auto spectra = [&](const double* planes, std::int64_t count, std::int64_t h, std::int64_t wd, std::int64_t pad,
                                     std::vector<double>& re, std::vector<double>& im) {
                re.assign(std::size_t(count * F2), 0.0), im.assign(re.size(), 0.0);
                for (std::int64_t q = 0; q < count; ++q) {
                    std::vector<double> r(static_cast<std::size_t>(F2)), zero(r.size()), sr, si;
                    for (std::int64_t i = 0; i < h; ++i)
                        for (std::int64_t j = 0; j < wd; ++j) r[std::size_t((i + pad) * F + j + pad)] = planes[(q * h + i) * wd + j];
                    dft(r, zero, -1, sr, si);
                    std::copy(sr.begin(), sr.end(), re.begin() + q * F2);
                    std::copy(si.begin(), si.end(), im.begin() + q * F2);
                }
            };
            std::vector<double> wRe, wIm, xRe, xIm;
            spectra(w.data(), p.K * p.C, 3, 3, 0, wRe, wIm);
            spectra(x.data(), p.N * p.C, p.H, p.W, p.padH, xRe, xIm);
            // Line l = (outer o, frequency f): element c at (o · C + c) · F² + f, for both operands.
            const auto index = [&](std::int64_t l, std::int64_t c) { return std::size_t(((l / F2) * p.C + c) * F2 + l % F2); };
            for (auto* part : {&wRe, &wIm}) blockAlongC(*part, p.K * F2, index);
            for (auto* part : {&xRe, &xIm}) blockAlongC(*part, p.N * F2, index);
            for (std::int64_t n = 0; n < p.N; ++n)
                for (std::int64_t k = 0; k < p.K; ++k) {
                    std::vector<double> accRe(static_cast<std::size_t>(F2)), accIm(accRe.size()), yRe, yIm;
                    for (std::int64_t c = 0; c < p.C; ++c)
                        for (std::int64_t f = 0; f < F2; ++f) {
                            const std::size_t xi = std::size_t((n * p.C + c) * F2 + f), wi = std::size_t((k * p.C + c) * F2 + f);
                            accRe[std::size_t(f)] += xRe[xi] * wRe[wi] + xIm[xi] * wIm[wi];
                            accIm[std::size_t(f)] += xIm[xi] * wRe[wi] - xRe[xi] * wIm[wi];
                        }
                    dft(accRe, accIm, +1, yRe, yIm);
                    for (std::int64_t i = 0; i < P; ++i)
                        for (std::int64_t j = 0; j < Q; ++j)
                            want[std::size_t(((n * p.K + k) * P + i) * Q + j)] = yRe[std::size_t(i * F + j)] / double(F2) + b[std::size_t(k)];
                }
        }
        double largest = 0, differs = 0, operandsDiffer = 0;
        for (std::size_t i = 0; i < want.size(); ++i) {
            largest = std::max(largest, std::fabs(want[i]));
            differs = std::max(differs, std::fabs(tiles[i] - want[i]));
            operandsDiffer = std::max(operandsDiffer, std::fabs(operands[i] - want[i]));
        }
        QVERIFY2(differs <= 1e-5 * largest, qPrintable(QStringLiteral("off by %1 of %2").arg(differs).arg(largest)));
        QVERIFY2(operandsDiffer > 1e-2 * largest, qPrintable(QStringLiteral("operands' blocks off by only %1").arg(operandsDiffer)));
    }

    // The fast engine's modelled convolutions (eight output pixels side by side) give the reference's bits: padding,
    // stride, a bias, an output plane whose pixels do not fill the lanes.
    void accumulatorModelsOnBothEngines() {
        for (const char* name : {"direct", "im2col", "winograd-2x2", "winograd-4x4", "winograd-6x6"})
            for (const char* spec : {"volta-fp16-tc", "hopper-fp8", "hopper-fp8-promoted"}) {
                const conv::ConvAlgorithm& algo = conv::convAlgorithm(name);
                // Stride 2 where the algorithm takes it; Winograd's tiles: 9 of them for 4×4, not filling the lanes.
                const conv::ConvProblem p = conv::ConvProblem::layer(2, 5, 7, 7, 3, 3, algo.transformsOperands() ? 1 : 2, 1);
                const auto x = data(p.inputCount(), false, 91), w = data(p.weightCount(), false, 92), b = data(p.K, false, 93);
                std::vector<double> fast(static_cast<std::size_t>(p.outputCount())), reference(fast.size());
                algo.runEmulated(p, x.data(), w.data(), b.data(), fast.data(), numeric::parseComputeSpec(spec), numeric::EmulationEngine::Fast);
                algo.runEmulated(p, x.data(), w.data(), b.data(), reference.data(), numeric::parseComputeSpec(spec),
                                 numeric::EmulationEngine::Reference);
                QVERIFY2(firstDifference(fast, reference).isEmpty(), qPrintable(QStringLiteral("%1 %2: %3").arg(name, spec, firstDifference(fast, reference))));
            }
    }

    // Winograd's batched products under a model: 1024 channels of ones through F(2×2, 3×3), whose transforms of ones
    // are small exact numbers in bf16. Every output is 9 · 1024 = 9216 when the sums over C are pairwise; bf16's own
    // sequential sums stall (at 256 times the term) and fall short. Both engines.
    void winogradSumsUnderAModel() {
        const conv::ConvProblem p = conv::ConvProblem::layer(1, 1024, 4, 4, 1, 3);  // one 2×2 tile, no padding
        const std::vector<double> x(std::size_t(p.inputCount()), 1.0), w(std::size_t(p.weightCount()), 1.0);
        const conv::ConvAlgorithm& algo = conv::convAlgorithm("winograd-2x2");
        for (const auto engine : {numeric::EmulationEngine::Fast, numeric::EmulationEngine::Reference}) {
            std::vector<double> pairwise(std::size_t(p.outputCount())), plain(pairwise.size());
            algo.runEmulated(p, x.data(), w.data(), nullptr, pairwise.data(), numeric::parseComputeSpec("bf16:acc=pairwise"), engine);
            algo.runEmulated(p, x.data(), w.data(), nullptr, plain.data(), numeric::parseComputeSpec("bf16"), engine);
            for (std::size_t i = 0; i < pairwise.size(); ++i) {
                KS_COMPARE_EXACT(pairwise[i], 9216.0);
                QVERIFY2(plain[i] < 9216.0 / 2, qPrintable(QString::number(plain[i])));
            }
        }
    }

    // An accumulator model in a convolution: direct and im2col compute it (1024 channels of ones, a 1×1 kernel: bf16
    // stalls at 256 in the kernels' order, not pairwise), with the bias after the products; the FFT, whose sums run
    // through butterflies, refuses it by name, as the studies' supports() says (Winograd: winogradSumsUnderAModel).
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
        // reference's loops (direct, im2col and Winograd; the FFT's transforms are not keyed yet).
        for (const char* algorithm : {"direct", "im2col"})
            for (const char* spec : {"fp16:sr", "e4m3:sr:seed=4", "e5m2/fp16:sr", "fp16-nosub:sr", "e5m2/fp32/fp16:sr", "bf16:sr", "fp16/fp32:sr"})
                QTest::addRow("%s %s", algorithm, spec) << QString::fromLatin1(algorithm) << QString::fromLatin1(spec);
        // Winograd's transforms multiply sums too: sums of at most 11 bits (float32 sums stay on the reference).
        for (const char* algorithm : {"winograd-2x2", "winograd-4x4", "winograd-6x6"})
            for (const char* spec : {"fp16:sr", "e4m3:sr:seed=4", "e5m2/fp16:sr", "fp16-nosub:sr", "e5m2/fp32/fp16:sr", "bf16:sr",
                                     "e4m3/bf16:sr:seed=7"})
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

    // Winograd under stochastic rounding with 8-bit exponents and tiny values: the tile products and the second
    // stages' products fall below float32's precision, which the lanes form scaled (LaneSpec::tinyProducts).
    void winogradStochasticTinyValues_data() {
        QTest::addColumn<QString>("spec");
        for (const char* spec : {"tf32:sr", "bf16:sr", "e4m3/bf16:sr:seed=2"}) QTest::newRow(spec) << QString::fromLatin1(spec);
    }
    void winogradStochasticTinyValues() {
        QFETCH(QString, spec);
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        const conv::ConvAlgorithm& algo = conv::convAlgorithm("winograd-4x4");
        QVERIFY2(algo.fastEmulationPath(compute).starts_with("float32 "), algo.fastEmulationPath(compute).c_str());
        const conv::ConvProblem p = conv::ConvProblem::layer(1, 32, 28, 28, 32, 3, 1, 1);  // millions of products
        // Each value 2^-62 to 2^-70 (2^-6 to 2^-9 in e4m3): products near 2^-130, which float32 holds with too few bits
        // (a draw in 2^14 or so tells, for tf32).
        std::mt19937_64 rng(5);
        const bool storedTiny = compute.storage.exponentBits >= 8;
        auto tiny = [&](std::vector<double> v) {
            for (double& x : v) x = double(float(std::ldexp(x, storedTiny ? -62 - int(rng() % 8) : -6 - int(rng() % 4))));
            return v;
        };
        const auto x = tiny(data(p.inputCount(), false, 3)), w = tiny(data(p.weightCount(), false, 4));
        std::vector<double> want(static_cast<std::size_t>(p.outputCount())), got(want.size(), -1.0);
        numeric::EmulatedArithmetic reference(compute, numeric::EmulationEngine::Reference), fast(compute, numeric::EmulationEngine::Fast);
        algo.run(p, x.data(), w.data(), nullptr, want.data(), reference);
        std::size_t nonZero = 0;
        for (double v : want) nonZero += v != 0;
        QVERIFY(nonZero > want.size() / 2);
        algo.run(p, x.data(), w.data(), nullptr, got.data(), fast);
        QVERIFY2(firstDifference(got, want).isEmpty(), qPrintable(firstDifference(got, want)));
    }

    // tf32's float32 lanes depend on the stored operands' range (numeric::laneRefusalDependsOnData): direct and
    // im2col run on them for data of modest range and leave them for the double lanes (or the reference) when a
    // product falls below float32's precision: 145·2^-75 × 113·2^-76 = 2^-137 + 2^-151, which float32 rounds to a
    // tie that tf32 rounds to 0, where the exact product rounds up to 2^-136.
    void patchLanesLookAtTheOperands_data() {
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<QString>("spec");
        for (const char* algorithm : {"direct", "im2col"})
            for (const char* spec : {"tf32", "tf32/fp32"})
                QTest::addRow("%s %s", algorithm, spec) << QString::fromLatin1(algorithm) << QString::fromLatin1(spec);
    }
    void patchLanesLookAtTheOperands() {
        QFETCH(QString, algorithm);
        QFETCH(QString, spec);
        const conv::ConvAlgorithm& algo = conv::convAlgorithm(algorithm.toStdString());
        const numeric::ComputeSpec compute = numeric::parseComputeSpec(spec.toStdString());
        QVERIFY(conv::lanes::patchRefusal(compute) && conv::lanes::patchLanesMayRun(compute));
        QVERIFY2(algo.fastEmulationPath(compute).starts_with("float32 "), algo.fastEmulationPath(compute).c_str());
        const auto outside = algorithm == "direct" ? conv::lanes::OutsideTaps::Skipped : conv::lanes::OutsideTaps::Added;
        struct Case {
            conv::ConvProblem problem;
            std::vector<double> x, w, b;
            bool onLanes;
        };
        const conv::ConvProblem layer = conv::ConvProblem::layer(1, 3, 19, 17, 5, 3, 1, 1), tiny = conv::ConvProblem::layer(1, 1, 2, 2, 1, 1, 1, 0);
        std::vector<Case> cases;
        cases.push_back({layer, data(layer.inputCount(), false, 5), data(layer.weightCount(), false, 6), data(layer.K, false, 7), true});
        Case reaching = cases.back();
        reaching.x[20] = 1.5e-38;  // its products with the weights fall below 2^-149
        reaching.onLanes = false;
        cases.push_back(reaching);
        cases.push_back({tiny, std::vector<double>(4, std::ldexp(145.0, -75)), {std::ldexp(113.0, -76)}, {}, false});
        for (const Case& c : cases) {
            const conv::ConvProblem& p = c.problem;
            const double* bias = c.b.empty() ? nullptr : c.b.data();
            std::vector<double> want(static_cast<std::size_t>(p.outputCount())), got(want.size(), -1.0), lanes(want.size(), -1.0);
            numeric::EmulatedArithmetic reference(compute, numeric::EmulationEngine::Reference);
            algo.run(p, c.x.data(), c.w.data(), bias, want.data(), reference);
            if (&c == &cases.back() && spec == "tf32")
                KS_COMPARE_EXACT(want[0], std::ldexp(1.0, -136));
            const auto refusal = conv::lanes::patchConv(p, compute, outside, c.x.data(), c.w.data(), bias, lanes.data());
            QCOMPARE(!refusal, c.onLanes);
            if (c.onLanes) QVERIFY2(firstDifference(lanes, want).isEmpty(), qPrintable(firstDifference(lanes, want)));
            else QVERIFY(lanes == std::vector<double>(want.size(), -1.0));  // nothing written
            numeric::EmulatedArithmetic fast(compute, numeric::EmulationEngine::Fast);
            algo.run(p, c.x.data(), c.w.data(), bias, got.data(), fast);
            QVERIFY2(firstDifference(got, want).isEmpty(), qPrintable(firstDifference(got, want)));
        }
    }
};

QTEST_APPLESS_MAIN(tst_ConvEmulation)
#include "tst_conv_emulation.moc"
