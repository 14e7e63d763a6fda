// The float32 fast paths of `direct` (register tiles vectorised over output columns, or over output
// channels on layers), `fft` (FFTW, split transforms) and `im2col` (its patch rows copied as zeros, a
// run inside the input row, zeros) against the long double seven-loop reference (conv_test_util.hpp), on shapes chosen for their edges:
// output widths around the 8/16/24-column tiles and below one vector, output heights around the
// 4-row (one output channel) and 2-row (two output channels) tiles, odd output channel counts, rectangular and even kernels, 1×1 kernels, kernels as large as the (padded) input,
// row and column strides, padding, batches, channels, transform sizes with large prime factors.
#include <QTest>

#include <cmath>
#include <cstring>

#include "base/parallel.hpp"
#include "conv/conv_registry.hpp"
#include "conv_test_util.hpp"

using namespace ks::conv;
using ks::conv::test::Operands;

Q_DECLARE_METATYPE(ks::conv::ConvProblem)

namespace {

ConvProblem shape(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w, std::int64_t k, std::int64_t r,
                  std::int64_t s, std::int64_t strideH = 1, std::int64_t strideW = 1, std::int64_t padH = 0,
                  std::int64_t padW = 0) {
    ConvProblem p;
    p.N = n, p.C = c, p.H = h, p.W = w, p.K = k, p.R = r, p.S = s;
    p.strideH = strideH, p.strideW = strideW, p.padH = padH, p.padW = padW;
    return p;
}

std::vector<std::pair<std::string, ConvProblem>> edgeShapes() {
    std::vector<std::pair<std::string, ConvProblem>> shapes;
    const auto add = [&](const std::string& label, const ConvProblem& p) { shapes.emplace_back(label, p); };
    // output widths Q around the column tiles (24, 16, 8 wide, the overlapped last 8, scalar below 8),
    // with output heights P = 1..9 around the 4-row tiles
    for (int q : {1, 2, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 40, 47, 48, 49, 50, 71})
        add("Q=" + std::to_string(q) + " P=" + std::to_string(q % 9 + 1) + " k3",
            shape(1, 1, q % 9 + 3, q + 2, 1, 3, 3));
    for (int p = 1; p <= 9; ++p) add("P=" + std::to_string(p) + " Q=26 k5", shape(1, 1, p + 4, 30, 1, 5, 5));
    add("rect 3x7 kernel", shape(1, 1, 19, 40, 1, 3, 7));
    add("rect 7x3 kernel", shape(1, 1, 40, 19, 1, 7, 3));
    add("1x5 kernel", shape(1, 1, 9, 37, 1, 1, 5));
    add("5x1 kernel", shape(1, 1, 37, 9, 1, 5, 1));
    add("even 2x2 kernel", shape(1, 1, 10, 34, 1, 2, 2));
    add("even 64x64 k4", shape(1, 1, 64, 64, 1, 4, 4));
    add("1x1 kernel", shape(1, 1, 13, 29, 1, 1, 1));
    add("1x1 kernel channels", shape(2, 6, 9, 27, 5, 1, 1));
    add("kernel = input 9x30", shape(1, 1, 9, 30, 1, 9, 30));
    add("kernel = input 23x23", shape(1, 1, 23, 23, 1, 23, 23));
    add("kernel = padded input", shape(1, 1, 5, 20, 1, 7, 22, 1, 1, 1, 1));
    add("tiny 3x3 pad 1", shape(1, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1));
    add("1x1 input", shape(1, 1, 1, 1, 1, 1, 1));            // one-point transforms, empty thread chunks
    add("one column 20x1 k3x1", shape(1, 1, 20, 1, 1, 3, 1));
    add("one row 1x30 k1x4", shape(1, 1, 1, 30, 2, 1, 4));
    add("row stride 2", shape(1, 1, 30, 33, 1, 3, 3, 2, 1));
    add("row stride 3 k5 pad 2", shape(1, 2, 31, 40, 2, 5, 5, 3, 1, 2, 2));
    add("column stride 2", shape(1, 1, 30, 33, 1, 3, 3, 1, 2));
    add("stride 2 pad 3 k7", shape(2, 3, 23, 41, 4, 7, 7, 2, 2, 3, 3));
    add("pad 1 k3", shape(1, 1, 32, 32, 1, 3, 3, 1, 1, 1, 1));
    add("pad 3 k7", shape(1, 1, 45, 38, 1, 7, 7, 1, 1, 3, 3));
    add("pad 2x0", shape(1, 1, 20, 26, 1, 5, 5, 1, 1, 2, 0));
    add("pad 0x4 > kernel", shape(1, 1, 20, 26, 1, 3, 3, 1, 1, 0, 4));
    add("batch 3 channels 5->4", shape(3, 5, 13, 30, 4, 3, 3));
    add("channels 16->8 pad 1", shape(1, 16, 14, 27, 8, 3, 3, 1, 1, 1, 1));
    add("channels 3->7 k5 batch 2", shape(2, 3, 17, 35, 7, 5, 5));  // odd K: a last single-channel block
    add("channels 3->4 narrow Q=5", shape(1, 3, 9, 7, 4, 3, 3));      // two-channel blocks, scalar columns
    add("channels 2->3 k7 pad 3", shape(1, 2, 20, 40, 3, 7, 7, 1, 1, 3, 3));
    add("channels 4->2 k11x9", shape(1, 4, 25, 33, 2, 11, 9));
    // layers: tiles of 16 output channels × 6 pixels (K = 12 partial, 16 full, 17 one spare channel,
    // Q = 6n + 1..5 pixel tails, column strides)
    for (int q = 1; q <= 13; ++q)
        add("layer 3->16 k3 Q=" + std::to_string(q), shape(1, 3, 5, q + 2, 16, 3, 3));
    add("layer 8->12 k3 pad 1", shape(1, 8, 9, 11, 12, 3, 3, 1, 1, 1, 1));
    add("layer 5->17 k5 batch 2", shape(2, 5, 12, 13, 17, 5, 5));
    add("layer 16->40 1x1", shape(1, 16, 7, 9, 40, 1, 1));
    add("layer 4->33 k7 stride 2 pad 3", shape(1, 4, 19, 21, 33, 7, 7, 2, 2, 3, 3));
    add("layer 6->4 k3 column stride 2", shape(1, 6, 11, 17, 4, 3, 3, 1, 2));
    add("layer 32->32 14x14 pad 1", shape(1, 32, 14, 14, 32, 3, 3, 1, 1, 1, 1));
    add("large 64x70 k9", shape(1, 1, 64, 70, 1, 9, 9));
    add("large 80x80 k15", shape(1, 1, 80, 80, 1, 15, 15));
    add("large 96x72 k23 pad 5", shape(1, 1, 96, 72, 1, 23, 23, 1, 1, 5, 5));
    add("prime sizes 37x41 k5", shape(1, 1, 37, 41, 1, 5, 5));
    add("prime sizes 53x59 k11 pad 4", shape(1, 2, 53, 59, 3, 11, 11, 1, 1, 4, 4));
    add("odd 127x129 k9", shape(1, 1, 127, 129, 1, 9, 9));
    return shapes;
}

std::vector<float> runFloat(const ConvAlgorithm& algo, const ConvProblem& p, const Operands& o, bool bias) {
    std::vector<float> y(static_cast<std::size_t>(p.outputCount()), std::nanf(""));  // unwritten outputs show as NaN
    algo.run(p, o.xf.data(), o.wf.data(), bias ? o.bf.data() : nullptr, y.data());
    return y;
}

}  // namespace

class TestConvFast : public QObject {
    Q_OBJECT

private slots:
    void cleanup() { ks::setThreadCount(defaultThreads_); }

    void againstReference_data() {
        QTest::addColumn<ConvProblem>("problem");
        QTest::addColumn<QString>("algorithm");
        for (const auto& [label, p] : edgeShapes())
            for (const char* name : {"direct", "fft", "im2col"}) {
                QVERIFY2(!p.validationError(), label.c_str());
                QVERIFY2(!convAlgorithm(name).supports(p), label.c_str());
                QTest::addRow("%s %s", label.c_str(), name) << p << QString(name);
            }
    }
    void againstReference() {
        QFETCH(ConvProblem, problem);
        QFETCH(QString, algorithm);
        const ConvAlgorithm& algo = convAlgorithm(algorithm.toStdString());
        const Operands o(problem, 11);
        // the sum of |x·w| terms of one output grows like sqrt(C·R·S) for random data
        const double scale = std::sqrt(static_cast<double>(problem.C * problem.R * problem.S));
        // measured worst (Release): direct 2.5e-6 (long sequential sums of the large kernels), fft 1.1e-6,
        // im2col 2.1e-6;
        // the same bound as tst_conv's shapes
        const double bound = 8e-6;
        for (bool bias : {true, false}) {
            const auto ref = test::referenceConvolution(problem, o, bias);
            const auto y = runFloat(algo, problem, o, bias);
            const double err = test::maxAbsError(y, ref) / scale;
            QVERIFY2(err < bound, qPrintable(QString("bias %1: max abs error / sqrt(CRS) = %2").arg(bias).arg(err)));
        }
        // a plan is reusable: a second input through the same prepared weights
        const Operands o2(problem, 12);
        Operands mixed = o2;
        mixed.w = o.w;
        const auto ref2 = test::referenceConvolution(problem, mixed);
        auto plan = algo.plan(problem, o.wf.data());
        std::vector<float> y(static_cast<std::size_t>(problem.outputCount()), std::nanf(""));
        plan->execute(o.xf.data(), o.bf.data(), y.data());
        plan->execute(o2.xf.data(), o2.bf.data(), y.data());
        QVERIFY(test::maxAbsError(y, ref2) / scale < bound);
    }

    // The tiles of direct are the same whichever thread computes them, and so are im2col's sums whatever
    // its column blocks (which follow the thread count): one thread and all threads give bit-identical
    // outputs (and so does every FFT split, within rounding).
    void threadsDoNotChangeResults_data() { againstReference_data(); }
    void threadsDoNotChangeResults() {
        QFETCH(ConvProblem, problem);
        QFETCH(QString, algorithm);
        const ConvAlgorithm& algo = convAlgorithm(algorithm.toStdString());
        const Operands o(problem, 13);
        ks::setThreadCount(1);
        const auto one = runFloat(algo, problem, o, true);
        ks::setThreadCount(2);
        const auto two = runFloat(algo, problem, o, true);
        if (algorithm != "fft") {
            QVERIFY(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
        } else {
            std::vector<double> oneAsDouble(one.begin(), one.end());
            const double scale = std::sqrt(static_cast<double>(problem.C * problem.R * problem.S));
            QVERIFY(test::maxAbsError(two, oneAsDouble) / scale < 8e-6);  // measured worst 8.5e-7
        }
    }

    // The assignment's sizes (single channel, 32..512, kernels 3..23) at a few points.
    void assignmentSizes_data() {
        QTest::addColumn<ConvProblem>("problem");
        QTest::addColumn<QString>("algorithm");
#ifdef KS_SANITIZE_BUILD
        const std::vector<int> sizes = {32, 100, 256};  // ~20x slower: the 512 references would take minutes
#else
        const std::vector<int> sizes = {32, 100, 256, 512};
#endif
        for (int n : sizes)
            for (int k : {3, 7, 9, 15, 23})
                for (const char* name : {"direct", "fft"})
                    QTest::addRow("%dx%d k%d %s", n, n, k, name) << ConvProblem::single(n, n, k, k) << QString(name);
    }
    void assignmentSizes() {
        QFETCH(ConvProblem, problem);
        QFETCH(QString, algorithm);
        const Operands o(problem, 21);
        const auto ref = test::referenceConvolution(problem, o);
        const auto y = runFloat(convAlgorithm(algorithm.toStdString()), problem, o, true);
        // the worst of P·Q outputs of a sequential R·S-term sum grows about like R·S·u (u = 6e-8);
        // measured worst (Release): direct 3.5e-7, fft 5.9e-7 (both 512x512 k3)
        const double err = test::maxAbsError(y, ref) / static_cast<double>(problem.R * problem.S);
        qInfo("%s max abs error / RS = %.3g", QTest::currentDataTag(), err);
        QVERIFY2(err < 2e-6, qPrintable(QString("max abs error / RS = %1").arg(err)));
    }

private:
    int defaultThreads_ = ks::threadCount();
};

QTEST_MAIN(TestConvFast)
#include "tst_conv_fast.moc"
