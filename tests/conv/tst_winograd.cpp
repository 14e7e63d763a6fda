// The float32 Winograd fast path (winograd_avx2.hpp where AVX2 is available) against the
// long double seven-loop reference (conv_test_util.hpp), on the edges of its blocking, with every sgemm kernel set
// this CPU runs (the α² products are sgemm's micro-kernels: blocks of 8, 16 or 32 tiles, tiles of 6 or 12 output
// channels): tile counts around its blocks and groups of 8, blocks spanning images of a batch, output channels around
// the register tiles and the split of K over threads, partial tiles, padding wider than the
// kernel, inputs smaller than a tile, non-default interpolation points, a reused plan, and a
// thread count changed between two executions of one plan.
#include <QTest>

#include <cmath>

#include "base/parallel.hpp"
#include "conv/conv_registry.hpp"
#include "conv/winograd_transform.hpp"
#if defined(__AVX2__) && defined(__FMA__)
#include "conv/winograd_avx2.hpp"
#endif
#include "conv_test_util.hpp"
#include "kernel_set_scope.hpp"
#include "test_support.hpp"

using namespace ks::conv;
using ks::conv::test::Operands;

Q_DECLARE_METATYPE(ks::conv::ConvProblem)

namespace {

ConvProblem layer(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t k, std::int64_t pad) {
    return ConvProblem::layer(n, c, h, w, k, 3, 1, pad);
}

/// max |y − ref| over the scale of one output's sum of C·9 random products (as tst_conv's shapes).
double scaledError(const ConvProblem& p, const std::vector<float>& y, const std::vector<double>& ref) {
    return test::maxAbsError(y, ref) / std::sqrt(static_cast<double>(p.C * 9));
}

/// tst_conv's float32 bounds (measured worst there 1.7e-5 for F(6×6), 3.1e-6 for F(2×2)).
double boundFor(int m) { return m >= 4 ? 4e-5 : 8e-6; }

class ThreadCount {
public:
    explicit ThreadCount(int threads) : saved_(ks::threadCount()) { ks::setThreadCount(threads); }
    ~ThreadCount() { ks::setThreadCount(saved_); }

private:
    int saved_;
};

}  // namespace

class TestWinograd : public QObject {
    Q_OBJECT

private slots:
    void blockingEdges_data() {
        QTest::addColumn<int>("m");
        QTest::addColumn<ConvProblem>("problem");
        QTest::addColumn<int>("threads");
        QTest::addColumn<QString>("kernels");
        const std::vector<std::pair<const char*, ConvProblem>> shapes = {
            // tiles: F(4×4) on H×W pad 1 has ceil(H/4)·ceil(W/4) tiles, F(2×2) ceil(H/2)·ceil(W/2)
            {"1 tile", layer(1, 3, 4, 4, 5, 1)},
            {"tiles < 8", layer(1, 5, 8, 12, 7, 1)},
            {"tiles = 8 (F4) / 24 (F2)", layer(1, 4, 8, 16, 6, 1)},
            {"tiles 9..15", layer(1, 4, 12, 12, 6, 1)},
            {"tiles = 16 (F4)", layer(1, 8, 16, 16, 8, 1)},
            {"tiles 17 (F4)", layer(1, 3, 4, 68, 5, 1)},
            {"tiles 32 (F4)", layer(1, 3, 4, 128, 5, 1)},
            {"tiles 33 (F4): 12x32 blocks' last one tile", layer(1, 3, 4, 132, 5, 1)},
            {"tiles 49 (F4): last block one tile", layer(1, 16, 28, 28, 16, 1)},
            {"batch 3, blocks span images", layer(3, 5, 10, 9, 7, 1)},
            {"batch 5 of 1 tile each", layer(5, 2, 3, 3, 3, 1)},
            {"K = 1", layer(1, 9, 13, 11, 1, 1)},
            {"K = 5 (< 6)", layer(1, 9, 13, 11, 5, 1)},
            {"K = 13 (two groups of 6 + 1)", layer(2, 9, 13, 11, 13, 1)},
            {"K = 25 (two groups of 12 + 1)", layer(1, 5, 13, 11, 25, 1)},
            {"K = 40, C = 1", layer(1, 1, 21, 19, 40, 1)},
            {"C = 9 (not a multiple of 8)", layer(1, 9, 20, 20, 12, 1)},
            {"partial tiles both edges, pad 0", layer(1, 3, 15, 17, 4, 0)},
            {"pad 2", layer(1, 3, 11, 14, 4, 2)},
            {"pad 4 > kernel", layer(1, 2, 5, 6, 3, 4)},
            {"input smaller than a tile (3x3, pad 0)", layer(1, 2, 3, 3, 2, 0)},
            {"one row 1x20 pad 1", layer(1, 2, 1, 20, 2, 1)},
            {"one column 20x1 pad 1", layer(1, 2, 20, 1, 2, 1)},
            {"wide 6x70", layer(1, 3, 6, 70, 6, 1)},
            {"64 channels 20x20", layer(1, 64, 20, 20, 64, 1)},
        };
        for (const QString& kernels : ks::test::runnableKernelSetNames())
            for (int m : {2, 4, 6})
                for (const auto& [label, p] : shapes)
                    for (int threads : {1, 2})
                        QTest::addRow("%s F%d %s, %d thread%s", qPrintable(kernels), m, label, threads,
                                      threads > 1 ? "s" : "")
                            << m << p << threads << kernels;
    }
    void blockingEdges() {
        QFETCH(int, m);
        QFETCH(ConvProblem, problem);
        QFETCH(int, threads);
        QFETCH(QString, kernels);
        const ThreadCount scope(threads);
        const ks::test::KernelSetScope kernelSet(kernels);
        const ConvAlgorithm& algo = convAlgorithm("winograd-" + std::to_string(m) + "x" + std::to_string(m));
        const Operands o(problem, 11);
        const auto ref = test::referenceConvolution(problem, o);
        std::vector<float> y(static_cast<std::size_t>(problem.outputCount()), std::nanf(""));
        auto plan = algo.plan(problem, o.wf.data());
        plan->execute(o.xf.data(), o.bf.data(), y.data());
        const double err = scaledError(problem, y, ref);
        QVERIFY2(err < boundFor(m), qPrintable(QString("float32 max abs error / sqrt(9C) = %1").arg(err)));
        // the plan again, on other data and without bias: its padded copy and workspaces are reused
        Operands o2(problem, 12);
        o2.w = o.w;
        const auto ref2 = test::referenceConvolution(problem, o2, false);
        std::fill(y.begin(), y.end(), std::nanf(""));
        plan->execute(o2.xf.data(), nullptr, y.data());
        const double err2 = scaledError(problem, y, ref2);
        QVERIFY2(err2 < boundFor(m), qPrintable(QString("second execution: %1").arg(err2)));
    }

    // One plan executed with 1 thread, then 2 (the K split changes and more workspaces are made),
    // then from inside a parallel region.
    void threadCountChangesBetweenExecutions() {
        const ConvProblem p = layer(2, 7, 18, 13, 19, 1);
        const Operands o(p, 21);
        const auto ref = test::referenceConvolution(p, o);
        for (const char* name : {"winograd-2x2", "winograd-4x4", "winograd-6x6"}) {
            std::unique_ptr<ConvPlan> plan;
            std::vector<float> y(static_cast<std::size_t>(p.outputCount()));
            {
                const ThreadCount one(1);
                plan = convAlgorithm(name).plan(p, o.wf.data());
                plan->execute(o.xf.data(), o.bf.data(), y.data());
                QVERIFY2(scaledError(p, y, ref) < 4e-5, name);
            }
            const ThreadCount two(2);
            std::fill(y.begin(), y.end(), std::nanf(""));
            plan->execute(o.xf.data(), o.bf.data(), y.data());
            QVERIFY2(scaledError(p, y, ref) < 4e-5, name);
            // inside a parallel region its own parallelFor runs serially: both halves of K in one chunk
            std::fill(y.begin(), y.end(), std::nanf(""));
            ks::parallelFor(2, 1e9, [&](std::int64_t begin, std::int64_t) {
                if (begin == 0) plan->execute(o.xf.data(), o.bf.data(), y.data());
            });
            QVERIFY2(scaledError(p, y, ref) < 4e-5, name);
        }
    }

    // The compile-time matrices of the default points (the zero-skipping kernels) are exactly what
    // cookToom() generates; were they not, the plan would quietly take the slower generic kernels.
    // (No #if around the slot: moc does not see the compiler's __AVX2__.)
    void defaultMatricesAtCompileTimeMatchCookToom() {
#if defined(__AVX2__) && defined(__FMA__)
        QVERIFY(detail::DefaultCoefficients<4>::matches(cookToom(2, 3)));
        QVERIFY(detail::DefaultCoefficients<6>::matches(cookToom(4, 3)));
        QVERIFY(detail::DefaultCoefficients<8>::matches(cookToom(6, 3)));
        QVERIFY(!detail::DefaultCoefficients<6>::matches(cookToom(4, 3, {0, 1, -1, 2, -2})));
        const auto t = cookToom(6, 3);
        for (int i = 0; i < 8; ++i)
            for (int j = 0; j < 8; ++j)
                KS_COMPARE_EXACT(detail::kDefaultMatrices<8>.BT[i][j], t.BT[static_cast<std::size_t>(i * 8 + j)]);
#else
        QSKIP("this build has no AVX2 Winograd path");
#endif
    }

    // Selectable points go through the same float32 path (the coefficients are whatever cookToom
    // generated); F(3×3) (α = 5) takes the generic path.
    void otherPointsAndTileSizes_data() {
        QTest::addColumn<int>("m");
        QTest::addColumn<std::vector<double>>("points");
        QTest::addColumn<double>("bound");
        QTest::addRow("F4 0 1 -1 2 -2") << 4 << std::vector<double>{0, 1, -1, 2, -2} << 1e-4;
        QTest::addRow("F4 0 1 -1 1/2 -2") << 4 << std::vector<double>{0, 1, -1, 0.5, -2} << 1e-4;
        QTest::addRow("F2 0 2 -1") << 2 << std::vector<double>{0, 2, -1} << 2e-5;
        QTest::addRow("F6 0 1 -1 2 -2 1/2 -1/2") << 6 << std::vector<double>{0, 1, -1, 2, -2, 0.5, -0.5} << 1e-4;
        QTest::addRow("F3 default (generic path)") << 3 << std::vector<double>{} << 4e-5;
    }
    void otherPointsAndTileSizes() {
        QFETCH(int, m);
        QFETCH(std::vector<double>, points);
        QFETCH(double, bound);
        const auto algo = makeWinogradConv(m, points);
        for (const ConvProblem& p : {layer(1, 6, 17, 23, 7, 1), layer(2, 16, 12, 12, 20, 1)}) {
            const Operands o(p, 31);
            const auto ref = test::referenceConvolution(p, o);
            std::vector<float> y(static_cast<std::size_t>(p.outputCount()), std::nanf(""));
            algo->run(p, o.xf.data(), o.wf.data(), o.bf.data(), y.data());
            const double err = scaledError(p, y, ref);
            QVERIFY2(err < bound, qPrintable(QString("float32 max abs error / sqrt(9C) = %1").arg(err)));
            // and the double path of the same transforms agrees with the reference to rounding
            std::vector<double> yd(y.size());
            algo->run(p, o.x.data(), o.w.data(), o.b.data(), yd.data());
            QVERIFY(test::maxAbsError(yd, ref) / std::sqrt(p.C * 9.0) < 1e-12);
        }
    }
};

QTEST_MAIN(TestWinograd)
#include "tst_winograd.moc"
