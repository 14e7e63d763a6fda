// Convolution algorithms, `direct` included, against the long double seven-loop reference of
// conv_test_util.hpp (not our direct): the assignment's test
// matrix, every other kind of shape, the registry, validation messages, the single-channel call
// and "find".
#include <QTest>

#include <algorithm>
#include <cmath>
#include <string_view>

#include "conv/conv2d.hpp"
#include "conv/conv_find.hpp"
#include "conv/conv_registry.hpp"
#include "conv_test_util.hpp"
#include "test_support.hpp"

using namespace ks::conv;
using ks::conv::test::Operands;

Q_DECLARE_METATYPE(ks::conv::ConvProblem)

namespace {

#ifdef KS_SANITIZE_BUILD
constexpr int kAssignmentSeeds = 5;  // sanitizer build: ~20x slower, same cases with fewer seeds
#else
constexpr int kAssignmentSeeds = 100;  // the assignment's count
#endif

std::int64_t roundUpToOdd(std::int64_t v) { return v % 2 ? v : v + 1; }

}  // namespace

class TestConv : public QObject {
    Q_OBJECT

private slots:
    // The assignment's matrix: odd n = 3, 7, ..., 47, randn data, k = round_up_to_odd(n / 2) and 3×3,
    // mean (over seeds) of the mean absolute error. `bound` is the assignment's; `tight` is ours,
    // a few times above the worst we measured (recorded next to each value).
    void assignmentMatrix_data() {
        QTest::addColumn<int>("n");
        QTest::addColumn<int>("k");
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<double>("bound");
        QTest::addColumn<double>("tight");
        for (int n = 3; n <= 47; n += 4) {
            for (int k : {static_cast<int>(roundUpToOdd(n / 2)), 3}) {
                for (const ConvAlgorithm* a : convAlgorithms()) {
                    const ConvProblem p = ConvProblem::single(n, n, k, k);
                    if (a->supports(p)) continue;  // Winograd: 3×3 only (tested below that it says so)
                    const std::string name = a->name();
                    const bool wino = name.rfind("winograd", 0) == 0;
                    const bool fft = name == "fft";
                    const double bound = fft ? 1e-2 : wino ? 1e-3 : 1e-4;
                    // Ours: the error of a k×k sum of randn products grows about like k²·u (sequential
                    // accumulation); measured (Release, 100 seeds) direct 1.3e-8·k², e.g. 6.7e-6 at
                    // k = 23, im2col (Eigen's blocked sums) 2.3e-6, fft 3.8e-6; 3×3: F(6×6) ≤ 2.6e-6, F(4×4)
                    // 1.9e-6 (n = 3: one output from one mostly padded tile; 2.2e-6 over the sanitizer
                    // build's 5 seeds), F(2×2) ≤ 2.5e-7.
                    const double tight = name == "winograd-6x6" || name == "winograd-4x4" ? 5e-6 : wino ? 2e-6 : 2e-8 * k * k + 1e-6;
                    QTest::addRow("n=%d k=%d %s", n, k, name.c_str()) << n << k << QString::fromStdString(name)
                                                                   << bound << tight;
                }
                if (n / 2 <= 3 && roundUpToOdd(n / 2) == 3) break;  // both kernels are 3×3
            }
        }
    }
    void assignmentMatrix() {
        QFETCH(int, n);
        QFETCH(int, k);
        QFETCH(QString, algorithm);
        QFETCH(double, bound);
        QFETCH(double, tight);
        const ConvAlgorithm& algo = convAlgorithm(algorithm.toStdString());
        const ConvProblem p = ConvProblem::single(n, n, k, k);
        double sum = 0;
        std::vector<float> y(static_cast<std::size_t>(p.outputCount()));
        for (int seed = 0; seed < kAssignmentSeeds; ++seed) {
            const Operands o(p, 1000 + static_cast<std::uint64_t>(seed));
            const auto ref = test::referenceConvolution(p, o);
            algo.run(p, o.xf.data(), o.wf.data(), o.bf.data(), y.data());
            sum += test::meanAbsError(y, ref);
        }
        const double mean = sum / kAssignmentSeeds;
        QVERIFY2(mean < bound, qPrintable(QString("mean abs error %1 >= assignment bound %2").arg(mean).arg(bound)));
        QVERIFY2(mean < tight, qPrintable(QString("mean abs error %1 >= our bound %2").arg(mean).arg(tight)));
    }

    // Every algorithm on every shape it supports, float32 and double, against the long double reference.
    void shapes_data() {
        QTest::addColumn<ConvProblem>("problem");
        QTest::addColumn<QString>("algorithm");
        const auto layer = [](std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t k,
                              std::int64_t r, std::int64_t s, std::int64_t stride, std::int64_t pad) {
            ConvProblem p = ConvProblem::layer(n, c, h, w, k, r, stride, pad);
            p.S = s;
            return p;
        };
        ConvProblem asym = layer(1, 3, 12, 17, 2, 3, 5, 1, 0);
        asym.strideH = 2;
        asym.strideW = 3;
        asym.padH = 1;
        asym.padW = 2;
        const std::vector<std::pair<const char*, ConvProblem>> shapes = {
            {"even 8x8 k3", layer(1, 1, 8, 8, 1, 3, 3, 1, 0)},
            {"even 32x32 k3", layer(1, 1, 32, 32, 1, 3, 3, 1, 0)},
            {"even 20x20 k4", layer(1, 1, 20, 20, 1, 4, 4, 1, 0)},
            {"rect 9x30 k3", layer(1, 1, 9, 30, 1, 3, 3, 1, 0)},
            {"rect 31x6 k3", layer(1, 1, 31, 6, 1, 3, 3, 1, 0)},
            {"rect 15x22 k3x7", layer(1, 1, 15, 22, 1, 3, 7, 1, 0)},
            {"1x1 kernel", layer(1, 1, 10, 13, 1, 1, 1, 1, 0)},
            {"1x1 kernel channels", layer(2, 16, 7, 7, 24, 1, 1, 1, 0)},
            {"kernel = input 3x3", layer(1, 1, 3, 3, 1, 3, 3, 1, 0)},
            {"kernel = input 11x11", layer(1, 1, 11, 11, 1, 11, 11, 1, 0)},
            {"kernel = input 4x9", layer(1, 1, 4, 9, 1, 4, 9, 1, 0)},
            {"1x1 input", layer(1, 1, 1, 1, 1, 1, 1, 1, 0)},
            {"tiny 3x3 pad 1", layer(1, 1, 1, 1, 1, 3, 3, 1, 1)},
            {"batch 4", layer(4, 3, 13, 11, 5, 3, 3, 1, 0)},
            {"channels 64->32 pad 1", layer(1, 64, 14, 14, 32, 3, 3, 1, 1)},
            {"channels 32->64 odd", layer(2, 32, 9, 7, 64, 3, 3, 1, 1)},
            {"stride 2 pad 1", layer(1, 8, 16, 16, 8, 3, 3, 2, 1)},
            {"stride 2 pad 3 k7", layer(2, 3, 23, 23, 4, 7, 7, 2, 3)},
            {"stride 3 k5", layer(1, 2, 20, 17, 3, 5, 5, 3, 0)},
            {"pad 2 k3", layer(1, 4, 10, 12, 3, 3, 3, 1, 2)},
            {"pad 4 > kernel", layer(1, 2, 5, 6, 2, 3, 3, 1, 4)},
            {"asymmetric stride/pad", asym},
            {"resnet-ish 1x64x20x20", layer(1, 64, 20, 20, 64, 3, 3, 1, 1)},
            {"large k 64x64 k15", layer(1, 1, 64, 64, 1, 15, 15, 1, 0)},
        };
        for (const auto& [label, p] : shapes)
            for (const ConvAlgorithm* a : convAlgorithms())
                if (!a->supports(p))
                    QTest::addRow("%s %s", label, a->name().c_str()) << p << QString::fromStdString(a->name());
    }
    void shapes() {
        QFETCH(ConvProblem, problem);
        QFETCH(QString, algorithm);
        const ConvAlgorithm& algo = convAlgorithm(algorithm.toStdString());
        const Operands o(problem, 7);
        const auto ref = test::referenceConvolution(problem, o);
        // error scale: the sum of |x·w| terms of one output grows like sqrt(C·R·S) for random data
        const double scale = std::sqrt(static_cast<double>(problem.C * problem.R * problem.S));
        std::vector<float> yf(static_cast<std::size_t>(problem.outputCount()), std::nanf(""));
        algo.run(problem, o.xf.data(), o.wf.data(), o.bf.data(), yf.data());
        const double floatErr = test::maxAbsError(yf, ref) / scale;
        // measured worst over these shapes (randn data): winograd-6x6 1.7e-5, winograd-4x4 1.5e-5 (64 channels),
        // winograd-2x2 and the others ≤ 3.1e-6
        const double floatBound = algorithm == "winograd-6x6" || algorithm == "winograd-4x4" ? 4e-5 : 8e-6;
        QVERIFY2(floatErr < floatBound, qPrintable(QString("float32 max abs error / sqrt(CRS) = %1").arg(floatErr)));
        std::vector<double> yd(static_cast<std::size_t>(problem.outputCount()), std::nan(""));
        algo.run(problem, o.x.data(), o.w.data(), o.b.data(), yd.data());
        const double doubleErr = test::maxAbsError(yd, ref) / scale;
        QVERIFY2(doubleErr < 1e-13, qPrintable(QString("double max abs error / sqrt(CRS) = %1").arg(doubleErr)));
        // without bias as well (bias = nullptr is a separate code path)
        const auto refNoBias = test::referenceConvolution(problem, o, false);
        algo.run(problem, o.xf.data(), o.wf.data(), nullptr, yf.data());
        QVERIFY(test::maxAbsError(yf, refNoBias) / scale < floatBound);
        // a prepared plan is reusable: a second input through the same plan
        const Operands o2(problem, 8);
        Operands mixed = o2;
        mixed.w = o.w;
        mixed.wf = o.wf;
        const auto ref2 = test::referenceConvolution(problem, mixed);
        auto plan = algo.plan(problem, o.wf.data());
        plan->execute(o.xf.data(), o.bf.data(), yf.data());
        plan->execute(o2.xf.data(), o2.bf.data(), yf.data());
        QVERIFY(test::maxAbsError(yf, ref2) / scale < floatBound);
    }

    void unsupportedShapesSayWhy_data() {
        QTest::addColumn<QString>("algorithm");
        QTest::addColumn<ConvProblem>("problem");
        QTest::addColumn<QString>("reasonContains");
        for (const char* w : {"winograd-2x2", "winograd-4x4", "winograd-6x6"}) {
            QTest::addRow("%s 5x5", w) << QString(w) << ConvProblem::single(10, 10, 5, 5) << "3x3 kernels";
            QTest::addRow("%s 3x5", w) << QString(w) << ConvProblem::single(10, 10, 3, 5) << "3x5";
            QTest::addRow("%s stride 2", w) << QString(w) << ConvProblem::layer(1, 1, 10, 10, 1, 3, 2) << "stride";
        }
    }
    void unsupportedShapesSayWhy() {
        QFETCH(QString, algorithm);
        QFETCH(ConvProblem, problem);
        QFETCH(QString, reasonContains);
        const ConvAlgorithm& algo = convAlgorithm(algorithm.toStdString());
        const auto reason = algo.supports(problem);
        QVERIFY(reason.has_value());
        QVERIFY2(QString::fromStdString(*reason).contains(reasonContains), reason->c_str());
        std::vector<float> x(static_cast<std::size_t>(problem.inputCount())), w(static_cast<std::size_t>(problem.weightCount())),
            y(static_cast<std::size_t>(problem.outputCount()));
        try {
            algo.run(problem, x.data(), w.data(), nullptr, y.data());
            QFAIL("running an unsupported shape must throw");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(QString(e.what()).contains(reasonContains), e.what());
            QVERIFY2(QString(e.what()).contains(algorithm), e.what());
        }
    }

    void registry() {
        const auto& all = convAlgorithms();
        QVERIFY(all.size() >= 6);
        QCOMPARE(all.front()->name(), std::string("direct"));
        QCOMPARE(&convAlgorithm("naive"), &convAlgorithm("direct"));
        QCOMPARE(&convAlgorithm("winograd"), &convAlgorithm("winograd-2x2"));
        for (const char* name : {"im2col", "winograd-4x4", "winograd-6x6", "fft"})
            QCOMPARE(convAlgorithm(name).name(), std::string(name));
        try {
            convAlgorithm("torch");
            QFAIL("unknown name must throw");
        } catch (const std::invalid_argument& e) {
            const QString what = e.what();
            QVERIFY2(what.contains("'torch'") && what.contains("im2col") && what.contains("naive"), e.what());
        }
        for (const ConvAlgorithm* a : all) {
            QVERIFY(!a->description().empty());
            const ConvProblem p = ConvProblem::layer(2, 8, 20, 20, 16, 3, 1, 1);
            KS_COMPARE_EXACT(a->flops(p), 2.0 * 2 * 16 * 8 * 20 * 20 * 9);  // an integer below 2^53: exact
        }
        QCOMPARE(convAlgorithm("direct").workspaceBytes(ConvProblem::single(8, 8, 3, 3)), std::size_t{0});
        QVERIFY(convAlgorithm("im2col").workspaceBytes(ConvProblem::single(8, 8, 3, 3)) >= 9 * 36 * sizeof(float));
    }

    void validation_data() {
        QTest::addColumn<ConvProblem>("problem");
        QTest::addColumn<QString>("message");
        ConvProblem p;
        p.C = 0;
        QTest::newRow("no channels") << p << "input channels C";
        p = ConvProblem::single(4, 4, 5, 3);
        QTest::newRow("kernel larger") << p << "larger than the padded input";
        p = ConvProblem::single(4, 4, 3, 3);
        p.strideW = 0;
        QTest::newRow("stride 0") << p << "stride width";
        p = ConvProblem::single(4, 4, 3, 3);
        p.padH = -1;
        QTest::newRow("negative pad") << p << "padding";
    }
    void validation() {
        QFETCH(ConvProblem, problem);
        QFETCH(QString, message);
        const auto error = problem.validationError();
        QVERIFY(error.has_value());
        QVERIFY2(QString::fromStdString(*error).contains(message), error->c_str());
        std::vector<float> buffer(64);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 convAlgorithm("direct").run(problem, buffer.data(), buffer.data(), nullptr, buffer.data()));
    }

    // The assignment's call, checked against values worked out by hand: cross-correlation, not convolution.
    void singleChannelIsCrossCorrelation() {
        ks::TensorF image({3, 3}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9});
        ks::TensorF kernel({2, 2}, std::vector<float>{1, 0, 0, -1});
        for (const ConvAlgorithm* a : convAlgorithms()) {
            if (a->supports(ConvProblem::single(3, 3, 2, 2))) continue;
            const ks::TensorF y = conv2dSingle(image, kernel, 0.5f, a->name());
            QCOMPARE(y.shape(), (ks::Shape{2, 2}));
            // x[i][j] − x[i+1][j+1] + ½: sums of small integers and ½, exact in float32 when the algorithm sums
            // the products themselves (direct, im2col); the transforms (FFT) round on the way.
            const bool sumsProducts = a->name() == "direct" || a->name() == "im2col";
            for (float v : y.storage()) {
                if (sumsProducts)
                    KS_COMPARE_EXACT(v, -3.5f);
                else
                    QVERIFY2(std::fabs(v - -3.5f) < 1e-5f, a->name().c_str());
            }
        }
        ks::TensorF kernel3({3, 3}, std::vector<float>{0, 0, 0, 0, 0, 1, 0, 0, 0});  // picks x[i+1][j+2]
        ks::TensorF image5({4, 5});
        for (int i = 0; i < 20; ++i) image5[static_cast<std::size_t>(i)] = static_cast<float>(i * i % 7);
        for (const char* name : {"naive", "im2col", "winograd", "winograd-4x4", "winograd-6x6", "fft"}) {
            const ks::TensorF y = conv2dSingle(image5, kernel3, 0.0f, name);
            QCOMPARE(y.shape(), (ks::Shape{2, 3}));
            for (int i = 0; i < 2; ++i)
                for (int j = 0; j < 3; ++j) {
                    const float picked = image5[static_cast<std::size_t>((i + 1) * 5 + j + 2)];
                    const float v = y[static_cast<std::size_t>(i * 3 + j)];
                    if (std::string_view(name) == "naive" || std::string_view(name) == "im2col")
                        KS_COMPARE_EXACT(v, picked);  // one product by 1, the others by 0: exact
                    else
                        QVERIFY2(std::fabs(v - picked) < 1e-5f, name);
                }
        }
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, conv2dSingle(image, kernel, 0, "magic"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, conv2dSingle(image, ks::TensorF({5, 5}), 0, "direct"));
        const ks::TensorF bias({2}, std::vector<float>{1, 2});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, conv2d(image, kernel, &bias, "direct"));
    }

    void findTimesAndRanksEveryAlgorithm() {
        const ConvProblem p = ConvProblem::layer(1, 4, 12, 12, 4, 3, 1, 1);
        ConvFindOptions options;
        options.timing.minRepeats = 2;
        options.timing.minSeconds = 0;
        const auto results = findConvAlgorithms(p, options);
        QCOMPARE(results.size(), convAlgorithms().size());
        for (std::size_t i = 0; i < results.size(); ++i) {
            QVERIFY(!results[i].unsupported);
            QVERIFY(results[i].medianSeconds > 0);
            QVERIFY(results[i].gflops > 0);
            QVERIFY2(results[i].maxAbsError < 1e-4, qPrintable(QString("%1: %2").arg(results[i].algorithm.c_str()).arg(results[i].maxAbsError)));
            if (i) QVERIFY(results[i - 1].medianSeconds <= results[i].medianSeconds);
        }
        // a 5×5 kernel: the Winograd variants come last, with their reason
        const auto r5 = findConvAlgorithms(ConvProblem::layer(1, 2, 9, 9, 2, 5), options);
        QVERIFY(r5.back().unsupported && r5.back().unsupported->find("3x3") != std::string::npos);
        QVERIFY(!r5.front().unsupported);
    }

    void chooseRespectsTolerance() {
        const ConvProblem p = ConvProblem::layer(1, 8, 10, 10, 2, 3, 1, 1);
        ConvFindOptions options;
        options.timing.minRepeats = 1;
        options.timing.minSeconds = 0;
        const auto fp16 = ks::numeric::ComputeSpec::uniform(ks::numeric::Format::fp16());
        std::vector<ConvFindResult> results;
        const auto loose = chooseConvAlgorithm(p, fp16, 1.0, options, &results);
        QVERIFY(loose.has_value());
        QVERIFY(loose->maxAbsError <= 1.0);
        QCOMPARE(loose->algorithm, results.front().algorithm);  // the fastest one qualifies
        // a tolerance between the best and the worst fp16 error excludes the worst algorithm
        double best = 1e9, worst = 0;
        std::string worstName;
        for (const auto& r : results) {
            QVERIFY(r.maxAbsError > 1e-5);  // fp16 rounding really happened
            best = std::min(best, r.maxAbsError);
            if (r.maxAbsError > worst) worst = r.maxAbsError, worstName = r.algorithm;
        }
        const auto tight = chooseConvAlgorithm(p, fp16, 0.5 * (best + worst), options);
        QVERIFY(tight.has_value());
        QVERIFY(tight->algorithm != worstName);
        QVERIFY(tight->maxAbsError < worst);
        QVERIFY(!chooseConvAlgorithm(p, fp16, 0.0, options).has_value());
    }
};

QTEST_MAIN(TestConv)
#include "tst_conv.moc"
