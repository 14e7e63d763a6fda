// The matmul methods against double-precision references: every method on every shape, the
// assignment's logmatmul accuracy, the low-rank factorisation against Eckart–Young, the randomized
// SVD against the exact truncation, special operands, emulated arithmetic, and clear shape errors.
#include <QTest>
#include <cmath>
#include <limits>

#include "matmul/low_rank_factor.hpp"
#include "matmul/matmul_registry.hpp"
#include "matmul/svd_matmul.hpp"
#include "matmul_test_util.hpp"
#include "test_support.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/format.hpp"
#include "numeric/mx.hpp"

using namespace ks;
using namespace ks::matmul;
using namespace ks::matmul::test;

namespace {

double frobeniusDistance(const std::vector<float>& x, const std::vector<double>& y) {
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) s += (double(x[i]) - y[i]) * (double(x[i]) - y[i]);
    return std::sqrt(s);
}

double frobeniusDistance(const std::vector<float>& x, std::span<const float> y) {
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) s += (double(x[i]) - double(y[i])) * (double(x[i]) - double(y[i]));
    return std::sqrt(s);
}

/// A (rows×cols) = Q1 · diag(sigma) · Q2ᵀ with Q1, Q2 random signed permutations: singular values known.
TensorF knownSpectrum(std::int64_t rows, std::int64_t cols, const std::vector<double>& sigma, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<std::int64_t> pr(static_cast<std::size_t>(rows)), pc(static_cast<std::size_t>(cols));
    std::iota(pr.begin(), pr.end(), 0);
    std::iota(pc.begin(), pc.end(), 0);
    std::shuffle(pr.begin(), pr.end(), rng);
    std::shuffle(pc.begin(), pc.end(), rng);
    TensorF a({rows, cols});
    for (std::size_t i = 0; i < sigma.size(); ++i) {
        const float sign = (rng() & 1) ? -1.0f : 1.0f;
        a[static_cast<std::size_t>(pr[i] * cols + pc[i])] = sign * static_cast<float>(sigma[i]);
    }
    return a;
}

}  // namespace

class TestMatmul : public QObject {
    Q_OBJECT

private slots:
    void registryListsEveryMethod() {
        const auto names = matmulAlgorithmNames();
        const std::vector<std::string> expected = {"naive", "dense", "svd", "log", "lns-sequential", "lns-binned"};
        QCOMPARE(names, expected);
        for (const auto* m : matmulAlgorithms()) QVERIFY(!m->description().empty());
        try {
            (void)matmulAlgorithm("winograd");
            QFAIL("an unknown method must be an error");
        } catch (const std::invalid_argument& e) {
            QVERIFY(std::string(e.what()).find("'winograd'") != std::string::npos);
            QVERIFY(std::string(e.what()).find("lns-binned") != std::string::npos);
        }
    }

    void methodsMatchReference_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("n");
        // The last two are big enough for the threaded split (by rows, then by columns).
        const int shapes[][3] = {{1, 1, 1}, {1, 7, 1}, {3, 5, 7}, {17, 31, 9}, {64, 64, 64}, {5, 200, 3}, {150, 100, 130}, {20, 300, 400}};
        for (const QString& method : {QStringLiteral("naive"), QStringLiteral("dense"), QStringLiteral("svd"), QStringLiteral("log")})
            for (const auto& s : shapes)
                QTest::addRow("%s %dx%dx%d", qPrintable(method), s[0], s[1], s[2]) << method << s[0] << s[1] << s[2];
    }
    void methodsMatchReference() {
        QFETCH(QString, method);
        QFETCH(int, m);
        QFETCH(int, k);
        QFETCH(int, n);
        for (int seed = 0; seed < kSeeds; ++seed) {
            const TensorF a = randomMatrix(m, k, 100 + seed), b = randomMatrix(k, n, 200 + seed);
            const TensorF c = ks::matmul::matmul(a, b, method.toStdString());
            const Reference ref = referenceProduct(a, b);
            QCOMPARE(c.shape(), (Shape{m, n}));
            // Float32 summation bound γ_k·Σ|a||b| (k·u), plus the log/exp round trip's few ulps per product.
            const double u = std::ldexp(1.0, -24);
            const double relative = (k + 2) * u + (method == "log" ? 16 * u : 0.0);
            for (std::size_t i = 0; i < c.size(); ++i)
                QVERIFY2(std::fabs(double(c[i]) - ref.c[i]) <= relative * ref.absSum[i] + 1e-30,
                         qPrintable(QString("element %1: %2 vs %3").arg(i).arg(c[i]).arg(ref.c[i])));
        }
    }

    // The assignment's logmatmul test: M, N, K ∈ {2, 8, 32, 128}, mean absolute error < 1e-5 vs a plain product.
    void logMatchesDenseOnAssignmentShapes_data() {
        QTest::addColumn<int>("m");
        QTest::addColumn<int>("k");
        QTest::addColumn<int>("n");
        for (int m : {2, 8, 32, 128})
            for (int k : {2, 8, 32, 128})
                for (int n : {2, 8, 32, 128}) QTest::addRow("%dx%dx%d", m, k, n) << m << k << n;
    }
    void logMatchesDenseOnAssignmentShapes() {
        QFETCH(int, m);
        QFETCH(int, k);
        QFETCH(int, n);
        double meanError = 0;
        const int seeds = (m * k * n >= 128 * 128 * 32) ? 2 : kSeeds;
        for (int seed = 0; seed < seeds; ++seed) {
            const TensorF a = randomMatrix(m, k, 7 * seed + 1), b = randomMatrix(k, n, 7 * seed + 2);
            meanError += meanAbsDifference(ks::matmul::matmul(a, b, "log"), ks::matmul::matmul(a, b, "dense"));
        }
        meanError /= seeds;
        QVERIFY2(meanError < 1e-5, qPrintable(QString::number(meanError)));
    }

    void logWithLnsFormatQuantisesTheLogs() {
        // Every product of lns quantised operands is ±2^(e/n) with e an integer: check one product exactly.
        MatmulOptions options;
        options.logFormat = numeric::parseFormat("lns8.3");
        const TensorF a({1, 1}, {3.0f}), b({1, 1}, {-5.0f});
        const TensorF c = ks::matmul::matmul(a, b, "log", options);
        // log2 3 · 8 = 12.68 → 13; log2 5 · 8 = 18.58 → 19 (nearest in the linear domain agrees here).
        KS_COMPARE_EXACT(c[0], -16.0f);  // -2^((13 + 19) / 8)
    }

    void svdWithoutRanksIsTheFloat32Product() {
        // No rank: the matrices exactly, multiplied in float32. Reference: the long double product; a float32
        // dot product of length k is within γ_k = k·u/(1 − k·u) of it relative to Σ|a·b| (Higham, 3.1), u = 2^-24.
        const int k = 53;
        const TensorF a = randomMatrix(37, k, 1), b = randomMatrix(k, 29, 2);
        const TensorF viaSvd = ks::matmul::matmul(a, b, "svd");
        const Reference ref = referenceProduct(a, b);
        const double u = 0x1p-24, gamma = k * u / (1 - k * u);
        double worst = 0;
        for (std::size_t i = 0; i < ref.c.size(); ++i)
            worst = std::max(worst, std::fabs(double(viaSvd[i]) - ref.c[i]) / ref.absSum[i]);
        QVERIFY2(worst <= gamma, qPrintable(QString("%1 of Σ|a·b|, bound %2").arg(worst).arg(gamma)));
    }

    void svdFullRankReproduces_data() {
        QTest::addColumn<int>("rankA");
        QTest::addColumn<int>("rankB");
        QTest::addRow("A full") << 30 << 0;
        QTest::addRow("B full") << 0 << 25;
        QTest::addRow("both above min") << 1000 << 1000;
    }
    void svdFullRankReproduces() {
        QFETCH(int, rankA);
        QFETCH(int, rankB);
        const TensorF a = randomMatrix(30, 40, 3), b = randomMatrix(40, 25, 4);
        const TensorF c = ks::matmul::matmul(a, b, "svd", {}, rankA ? std::optional<std::int64_t>(rankA) : std::nullopt,
                                             rankB ? std::optional<std::int64_t>(rankB) : std::nullopt);
        const Reference ref = referenceProduct(a, b);
        double norm = 0;
        for (double v : ref.c) norm += v * v;
        QVERIFY(frobeniusDistance(c.storage(), ref.c) <= 1e-5 * std::sqrt(norm));
    }

    // Eckart–Young: the best rank-r error in the Frobenius norm is the tail of the singular values.
    void eckartYoungOnKnownSpectra_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::addColumn<int>("rank");
        for (int r : {1, 3, 8, 20}) QTest::addRow("60x40 rank %d", r) << 60 << 40 << r;
        QTest::addRow("40x70 rank 5") << 40 << 70 << 5;
    }
    void eckartYoungOnKnownSpectra() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        QFETCH(int, rank);
        std::vector<double> sigma;
        for (int i = 0; i < std::min(rows, cols); ++i) sigma.push_back(10.0 * std::pow(0.8, i));
        const TensorF a = knownSpectrum(rows, cols, sigma, 11);
        const LowRankFactor f = LowRankFactor::truncatedSvd(a.span(), rows, cols, rank);
        QCOMPARE(f.rank(), std::int64_t(rank));
        double tail = 0;
        for (std::size_t i = static_cast<std::size_t>(rank); i < sigma.size(); ++i) tail += sigma[i] * sigma[i];
        const double predicted = std::sqrt(tail);
        const double actual = frobeniusDistance(f.reconstruct(), a.span());
        QVERIFY2(std::fabs(actual - predicted) <= 1e-5 * sigma[0],
                 qPrintable(QString("%1 vs %2").arg(actual).arg(predicted)));
        QVERIFY(std::fabs(f.predictedFrobeniusError() - predicted) <= 1e-5 * sigma[0]);
        for (std::size_t i = 0; i < sigma.size(); ++i) QVERIFY(std::fabs(f.singularValues()[i] - sigma[i]) < 1e-5);
    }

    void lowRankPlusNoise() {
        // A = G1·G2 (rank 6) + 1e-3·N: at rank 6 the error is at most ‖1e-3·N‖_F (Eckart–Young is optimal),
        // at rank 5 it is dominated by the sixth singular value.
        const int rows = 80, cols = 50, r = 6;
        const TensorF g1 = randomMatrix(rows, r, 21), g2 = randomMatrix(r, cols, 22), noise = randomMatrix(rows, cols, 23, 1e-3);
        TensorF a({rows, cols});
        double noiseNorm = 0;
        const Reference low = referenceProduct(g1, g2);
        for (std::size_t i = 0; i < a.size(); ++i) {
            a[i] = static_cast<float>(low.c[i]) + noise[i];
            noiseNorm += double(noise[i]) * noise[i];
        }
        noiseNorm = std::sqrt(noiseNorm);
        const LowRankFactor f6 = LowRankFactor::truncatedSvd(a.span(), rows, cols, r);
        const LowRankFactor f5 = LowRankFactor::truncatedSvd(a.span(), rows, cols, r - 1);
        const double e6 = frobeniusDistance(f6.reconstruct(), a.span());
        const double e5 = frobeniusDistance(f5.reconstruct(), a.span());
        QVERIFY2(e6 <= noiseNorm * 1.0001, qPrintable(QString("%1 > %2").arg(e6).arg(noiseNorm)));
        QVERIFY(std::fabs(e5 - f5.predictedFrobeniusError()) <= 1e-4 * e5);
        QVERIFY(e5 > 100 * e6);
    }

    void randomizedMatchesExactTruncation_data() {
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("cols");
        QTest::addColumn<int>("rank");
        QTest::addColumn<double>("decay");
        QTest::addColumn<double>("tolerance");
        QTest::addRow("decaying 200x150 r10") << 200 << 150 << 10 << 0.85 << 1.001;
        QTest::addRow("decaying 150x300 r30") << 150 << 300 << 30 << 0.9 << 1.001;
        QTest::addRow("flat (Gaussian) 200x150 r20") << 200 << 150 << 20 << 1.0 << 1.05;
    }
    void randomizedMatchesExactTruncation() {
        QFETCH(int, rows);
        QFETCH(int, cols);
        QFETCH(int, rank);
        QFETCH(double, decay);
        QFETCH(double, tolerance);
        TensorF a = randomMatrix(rows, cols, 31);
        if (decay < 1.0) {  // a Gaussian matrix scaled column-wise: singular values decay roughly geometrically
            for (int i = 0; i < rows; ++i)
                for (int j = 0; j < cols; ++j) a[static_cast<std::size_t>(i * cols + j)] *= static_cast<float>(std::pow(decay, j));
        }
        const LowRankFactor exact = LowRankFactor::truncatedSvd(a.span(), rows, cols, rank);
        const LowRankFactor randomized = LowRankFactor::randomizedSvd(a.span(), rows, cols, rank, 10, 2, 5);
        QVERIFY(!randomized.exact());
        const double eExact = frobeniusDistance(exact.reconstruct(), a.span());
        const double eRandom = frobeniusDistance(randomized.reconstruct(), a.span());
        QVERIFY(eRandom >= eExact * (1 - 1e-6));  // the truncated SVD is optimal
        QVERIFY2(eRandom <= tolerance * eExact, qPrintable(QString("%1 vs exact %2").arg(eRandom).arg(eExact)));
        for (int i = 0; i < rank; ++i)
            QVERIFY(std::fabs(randomized.singularValues()[static_cast<std::size_t>(i)] - exact.singularValues()[static_cast<std::size_t>(i)]) <=
                    (tolerance - 1 + 1e-3) * exact.singularValues()[0]);
    }

    void factoredProductCostsRankTimesDims() {
        MatmulProblem p{1000, 784, 128, std::nullopt, 32};
        QCOMPARE(p.factoredFlops(), 2.0 * 1000 * 32 * (784 + 128));
        p.rankB = 1000;  // clipped to min(784, 128)
        QCOMPARE(p.factoredFlops(), 2.0 * 1000 * 128 * (784 + 128));
        // Both factored, and the reusable factor used through factoredProduct equals the svd method.
        const TensorF a = randomMatrix(40, 30, 41), b = randomMatrix(30, 20, 42);
        const LowRankFactor fa = LowRankFactor::truncatedSvd(a.span(), 40, 30, 7);
        const LowRankFactor fb = LowRankFactor::truncatedSvd(b.span(), 30, 20, 5);
        TensorF c({40, 20});
        factoredProduct(40, 30, 20, a.data(), &fa, b.data(), &fb, c.data());
        const TensorF viaMethod = ks::matmul::matmul(a, b, "svd", {}, 7, 5);
        QVERIFY(meanAbsDifference(c, viaMethod) < 1e-5);
        // The threaded row split of (X·L)·R, against the reconstruction multiplied in double.
        {
            const TensorF x = randomMatrix(300, 200, 43), w = randomMatrix(200, 100, 44);
            const LowRankFactor fw = LowRankFactor::truncatedSvd(w.span(), 200, 100, 20);
            TensorF y({300, 100});
            fw.multiplyFromLeft(x.data(), 300, y.data());
            const Reference ref = referenceProduct(x, TensorF({200, 100}, fw.reconstruct()));
            for (std::size_t i = 0; i < y.size(); ++i) QVERIFY(std::fabs(y[i] - ref.c[i]) <= 1e-5 * (1 + ref.absSum[i]));
        }
        // Independent: the product of the two reconstructions in double.
        const TensorF ra({40, 30}, fa.reconstruct()), rb({30, 20}, fb.reconstruct());
        const Reference ref = referenceProduct(ra, rb);
        for (std::size_t i = 0; i < c.size(); ++i) QVERIFY(std::fabs(c[i] - ref.c[i]) <= 1e-4 * (1 + ref.absSum[i]));
    }

    void specialOperands_data() {
        QTest::addColumn<QString>("method");
        for (const char* m : {"naive", "dense", "log"}) QTest::addRow("%s", m) << QString(m);
    }
    void specialOperands() {
        QFETCH(QString, method);
        const std::string name = method.toStdString();
        // Zero rows/columns give exact zeros, negative operands keep their signs.
        const TensorF a({2, 3}, {0, 0, 0, -1.5f, 2, -4}), b({3, 2}, {1, -2, 0.5f, 0, -0.25f, 3});
        const TensorF c = ks::matmul::matmul(a, b, name);
        KS_COMPARE_EXACT(c[0], 0.0f);  // +0: bit for bit, so that neither -0 nor a tiny value passes
        KS_COMPARE_EXACT(c[1], 0.0f);
        QVERIFY(std::fabs(c[2] - (-1.5f + 1.0f + 1.0f)) < 1e-6f);
        QVERIFY(std::fabs(c[3] - (3.0f + 0.0f - 12.0f)) < 1e-5f);
        // Tiny: products below float's range underflow to zero like the hardware product does.
        const TensorF tiny({1, 2}, {1e-30f, -1e-30f}), tinyB({2, 1}, {1e-30f, 1e-20f});
        const float t = ks::matmul::matmul(tiny, tinyB, name)[0];
        QVERIFY(std::fabs(double(t) - (-1e-50)) < 1e-45);
        // Huge: an overflowing product is an infinity, not a wrapped or silent finite value.
        const TensorF huge({1, 1}, {1e20f}), hugeB({1, 1}, {-1e20f});
        KS_COMPARE_EXACT(ks::matmul::matmul(huge, hugeB, name)[0], -std::numeric_limits<float>::infinity());
    }

    void lnsMethodsReportRangeEvents() {
        MatmulOptions options;
        options.logFormat = numeric::parseFormat("lns8.3");  // magnitudes 2^−8 … 2^8
        const TensorF a({1, 3}, {1e-6f, 1e6f, 0.0f}), b({3, 1}, {1.0f, 1.0f, 1.0f});
        for (const char* method : {"lns-sequential", "lns-binned"}) {
            MatmulReport report;
            const TensorF c = ks::matmul::matmul(a, b, method, options, std::nullopt, std::nullopt, &report);
            QCOMPARE(report.inputUnderflows, std::int64_t{1});
            QCOMPARE(report.inputOverflows, std::int64_t{1});
            QVERIFY(std::fabs(c[0] - std::exp2(63.0 / 8.0)) < 1e-3);  // the saturated value alone (code 63)
        }
        // And without a log format the lns methods say why they cannot run.
        try {
            (void)ks::matmul::matmul(a, b, "lns-binned");
            QFAIL("lns-binned without a log format must be refused");
        } catch (const std::invalid_argument& e) {
            QVERIFY(std::string(e.what()).find("logarithmic --format") != std::string::npos);
        }
    }

    void emulatedFloat32EqualsNative_data() {
        QTest::addColumn<QString>("method");
        QTest::addRow("naive") << "naive";
        QTest::addRow("dense (fused)") << "dense";
    }
    void emulatedFloat32EqualsNative() {
        // Double rounding through double is innocuous for +, × of floats (53 ≥ 2·24 + 2), so emulated
        // fp32 must reproduce float32 hardware bit for bit: naive's mul-then-add, dense's fmaf chain.
        QFETCH(QString, method);
        const TensorF a = randomMatrix(13, 41, 51), b = randomMatrix(41, 11, 52);
        MatmulOptions emulated;
        emulated.compute = numeric::ComputeSpec::uniform(numeric::Format::fp32());
        const TensorF viaEmulation = ks::matmul::matmul(a, b, method.toStdString(), emulated);
        TensorF expected({13, 11});
        for (int i = 0; i < 13; ++i)
            for (int j = 0; j < 11; ++j) {
                float acc = 0;
                for (int p = 0; p < 41; ++p) {
                    const float x = a[static_cast<std::size_t>(i * 41 + p)], y = b[static_cast<std::size_t>(p * 11 + j)];
                    if (method == "naive") {
                        const float prod = x * y;
                        acc = p == 0 ? prod : acc + prod;
                    } else {
                        acc = std::fma(x, y, acc);
                    }
                }
                expected[static_cast<std::size_t>(i * 11 + j)] = acc;
            }
        QCOMPARE(ks::test::firstBitDifference<float>(viaEmulation.storage(), expected.storage()), std::ptrdiff_t(-1));
    }

    // A scaled storage format quantises A along its rows and B along its columns (K, the reduction axis), then runs
    // the element-wise rest: the same bits as float32 emulation on operands blocked by mxQuantize (tst_mx checks
    // it against the element codes) on A's rows and on Bᵀ's rows. Both engines, both orders.
    void scaledStorageBlocksAlongK_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("format");
        QTest::addColumn<int>("element");
        QTest::addColumn<bool>("reference");
        for (const char* method : {"naive", "dense"})
            for (const auto& [format, element] : {std::pair{"mxfp4", numeric::MxElement::E2M1},
                                                  std::pair{"mxfp8-e4m3", numeric::MxElement::E4M3},
                                                  std::pair{"mxint8", numeric::MxElement::Int8}})
                for (bool reference : {false, true})
                    QTest::addRow("%s %s %s", method, format, reference ? "reference" : "fast")
                        << method << format << int(element) << reference;
    }
    void scaledStorageBlocksAlongK() {
        QFETCH(QString, method);
        QFETCH(QString, format);
        QFETCH(int, element);
        QFETCH(bool, reference);
        const auto e = static_cast<numeric::MxElement>(element);
        const std::int64_t M = 5, K = 77, N = 6;  // K: two blocks of 32 and a short one
        const TensorF a = randomMatrix(M, K, 91), b = randomMatrix(K, N, 92);
        TensorF qa({M, K}), bt({N, K}), qbt({N, K}), qb({K, N});
        numeric::mxQuantize(a.storage(), qa.storage(), K, e);
        for (std::int64_t k = 0; k < K; ++k)
            for (std::int64_t n = 0; n < N; ++n) bt[std::size_t(n * K + k)] = b[std::size_t(k * N + n)];
        numeric::mxQuantize(bt.storage(), qbt.storage(), K, e);
        for (std::int64_t k = 0; k < K; ++k)
            for (std::int64_t n = 0; n < N; ++n) qb[std::size_t(k * N + n)] = qbt[std::size_t(n * K + k)];
        MatmulOptions scaled, elementwise;
        scaled.compute = numeric::parseComputeSpec(format.toStdString() + "/fp32");
        elementwise.compute = numeric::parseComputeSpec("fp32");
        scaled.emulation = elementwise.emulation = reference ? Emulation::Reference : Emulation::Fast;
        const TensorF got = ks::matmul::matmul(a, b, method.toStdString(), scaled);
        const TensorF want = ks::matmul::matmul(qa, qb, method.toStdString(), elementwise);
        QCOMPARE(ks::test::firstBitDifference<float>(got.storage(), want.storage()), std::ptrdiff_t(-1));
        // And the blocks matter: without them the product differs.
        const TensorF unquantised = ks::matmul::matmul(a, b, method.toStdString(), elementwise);
        QVERIFY(ks::test::firstBitDifference<float>(got.storage(), unquantised.storage()) != -1);
    }

    void scaledStorageIsRefusedWhereItHasNoMeaning() {
        const TensorF a = randomMatrix(4, 8, 1), b = randomMatrix(8, 4, 2);
        MatmulOptions options;
        options.compute = numeric::parseComputeSpec("mxfp4/fp32");
        for (const char* method : {"log", "svd", "lns-sequential"}) {
            try {
                ks::matmul::matmul(a, b, method, options);
                QFAIL(method);
            } catch (const std::invalid_argument& e) {
                QVERIFY2(std::string(e.what()).find(method) != std::string::npos, e.what());
            }
        }
    }

    // An accumulator model reaches the product through naive and dense alike: 1024 ones summed in bf16 stall at 256 in
    // the kernels' own order, and do not pairwise or promoted; a V100 tensor core truncates 2 + 3·2^-24 to 2 where
    // float32's nearest sum gives 2 + 2^-22 (Fasi et al.'s "round down" case).
    void accumulatorModelsInTheProduct_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("spec");
        QTest::addColumn<int>("k");
        QTest::addColumn<double>("expected");
        for (const char* method : {"naive", "dense"}) {
            QTest::addRow("%s bf16", method) << method << "bf16" << 1024 << 256.0;
            QTest::addRow("%s bf16 pairwise", method) << method << "bf16:acc=pairwise" << 1024 << 1024.0;
            QTest::addRow("%s bf16 promoted", method) << method << "bf16:acc=sequential,promote128" << 1024 << 1024.0;
            QTest::addRow("%s fp32", method) << method << "fp16/fp64/fp32" << 2 << 2 + std::ldexp(1.0, -22);
            QTest::addRow("%s volta", method) << method << "volta-fp16-tc" << 2 << 2.0;
        }
    }
    void accumulatorModelsInTheProduct() {
        QFETCH(QString, method);
        QFETCH(QString, spec);
        QFETCH(int, k);
        QFETCH(double, expected);
        TensorF a({2, k}), b({k, 3});
        for (auto& x : a.storage()) x = 1.0f;
        for (auto& x : b.storage()) x = 1.0f;
        if (k == 2)
            for (int j = 0; j < 3; ++j) b[std::size_t(j)] = 2.0f, b[std::size_t(3 + j)] = float(std::ldexp(3.0, -24));
        MatmulOptions options;
        options.compute = numeric::parseComputeSpec(spec.toStdString());
        MatmulReport report;
        const TensorF c = ks::matmul::matmul(a, b, method.toStdString(), options, std::nullopt, std::nullopt, &report);
        for (float v : c.storage()) KS_COMPARE_EXACT(double(v), expected);
        if (!options.compute.accumulation.plain()) QVERIFY(QString::fromStdString(report.note).contains("accumulator model"));
    }

    // The fast engine's modelled products (eight columns side by side) give the reference's bits, on shapes whose
    // columns do not fill the lanes; the notes say which ran.
    void accumulatorModelsOnBothEngines() {
        const TensorF a = uniformMatrix(5, 77, 71), b = uniformMatrix(77, 21, 72);
        for (const char* spec : {"volta-fp16-tc", "hopper-fp8", "hopper-fp8-promoted", "bf16:acc=pairwise"})
            for (const char* method : {"naive", "dense"}) {
                MatmulOptions fast, reference;
                fast.compute = reference.compute = numeric::parseComputeSpec(spec);
                reference.emulation = Emulation::Reference;
                MatmulReport fastReport, referenceReport;
                const TensorF f = ks::matmul::matmul(a, b, method, fast, std::nullopt, std::nullopt, &fastReport);
                const TensorF r = ks::matmul::matmul(a, b, method, reference, std::nullopt, std::nullopt, &referenceReport);
                for (std::size_t i = 0; i < f.size(); ++i)
                    QVERIFY2(ks::test::sameBits(f[i], r[i]), qPrintable(QStringLiteral("%1 %2 at %3").arg(spec, method).arg(i)));
                QVERIFY2(QString::fromStdString(fastReport.note).contains(QStringLiteral("side by side")), fastReport.note.c_str());
                QVERIFY2(QString::fromStdString(referenceReport.note).contains(QStringLiteral("scalar")), referenceReport.note.c_str());
            }
    }

    void lowPrecisionAccumulationIsWorse() {
        const TensorF a = uniformMatrix(8, 512, 61), b = uniformMatrix(512, 8, 62);
        const Reference ref = referenceProduct(a, b);
        auto error = [&](const char* spec, const char* method) {
            MatmulOptions o;
            o.compute = numeric::parseComputeSpec(spec);
            const TensorF c = ks::matmul::matmul(a, b, method, o);
            double e = 0;
            for (std::size_t i = 0; i < c.size(); ++i) e += std::fabs(c[i] - ref.c[i]) / ref.c[i];
            return e / double(c.size());
        };
        // bf16 accumulation of 512 positive terms stagnates (8-bit significand); fp32 does not.
        for (const char* method : {"naive", "dense", "log"}) {
            const double bf16 = error("bf16", method), fp32acc = error("bf16/fp32", method);
            QVERIFY2(bf16 > 0.05 && fp32acc < 0.01, qPrintable(QString("%1: %2 %3").arg(method).arg(bf16).arg(fp32acc)));
        }
    }

    // Only a low-rank algorithm approximates operands; the others would silently compute exactly.
    void ranksOnlyForLowRankAlgorithms() {
        const TensorF a = randomMatrix(6, 8, 1), b = randomMatrix(8, 5, 2);
        for (const MatmulAlgorithm* algorithm : matmulAlgorithms()) {
            MatmulOptions options;
            if (algorithm->needsLogFormat()) options.logFormat = ks::numeric::parseFormat("lns16.10");
            TensorF c({6, 5});
            const MatmulProblem problem{6, 8, 5, std::nullopt, 3};
            if (algorithm->lowRank()) {
                algorithm->run(problem, a.span(), b.span(), c.span(), options);
                continue;
            }
            try {
                algorithm->run(problem, a.span(), b.span(), c.span(), options);
                QFAIL(qPrintable(QString::fromStdString(algorithm->name() + " accepted a rank")));
            } catch (const std::invalid_argument& e) {
                QVERIFY2(std::string(e.what()).find("ranks are for a low-rank algorithm") != std::string::npos, e.what());
            }
        }
    }

    // svd's plan factors B once; each execute is the product with the factors, as a run at that rank.
    void svdPlanFactorsBOnce() {
        const TensorF a = randomMatrix(7, 12, 3), b = randomMatrix(12, 9, 4);
        const MatmulProblem problem{7, 12, 9, std::nullopt, 3};
        const auto plan = matmulAlgorithm("svd").plan(problem, b.span(), {});
        QVERIFY2(plan->note().find("B at rank 3") != std::string::npos, plan->note().c_str());
        QCOMPARE(plan->workspaceBytes(), sizeof(float) * (7 * 3 + 12 * 3 + 3 * 9));
        TensorF planned({7, 9}), run({7, 9});
        plan->execute(a.data(), planned.data());
        matmulAlgorithm("svd").run(problem, a.span(), b.span(), run.span(), {});
        for (std::size_t i = 0; i < run.size(); ++i) QVERIFY(std::fabs(planned[i] - run[i]) <= 1e-5f * (1 + std::fabs(run[i])));
        // Without a rank the plan is the float32 product of B exactly, holding nothing.
        const auto exact = matmulAlgorithm("svd").plan(MatmulProblem{7, 12, 9, std::nullopt, std::nullopt}, b.span(), {});
        QCOMPARE(exact->workspaceBytes(), std::size_t{0});
        QCOMPARE(exact->note(), std::string("no rank: B exactly"));
    }

    void mismatchedShapesAreClearErrors() {
        const TensorF a = randomMatrix(3, 4, 1), b = randomMatrix(5, 2, 2);
        try {
            (void)ks::matmul::matmul(a, b, "dense");
            QFAIL("mismatched shapes must throw");
        } catch (const std::invalid_argument& e) {
            const std::string what = e.what();
            QVERIFY2(what.find("(3, 4)") != std::string::npos && what.find("(5, 2)") != std::string::npos &&
                         what.find("must equal") != std::string::npos,
                     e.what());
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, MatmulProblem::fromShapes({3}, {3, 2}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, MatmulProblem::fromShapes({3, 0}, {0, 2}));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, MatmulProblem::fromShapes({3, 2}, {2, 2}, 0));
        // Spans that do not match the problem.
        std::vector<float> x(6), y(6), z(3);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, matmulAlgorithm("naive").run(MatmulProblem{2, 3, 2, std::nullopt, std::nullopt}, x, y, z, {}));
    }
};

QTEST_APPLESS_MAIN(TestMatmul)
#include "tst_matmul.moc"
