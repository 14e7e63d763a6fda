// The accumulation study against closed-form error bounds for sums of positive terms (Higham, "Accuracy and Stability
// of Numerical Algorithms", 2nd ed.: recursive summation (4.4), pairwise (4.6), compensated (4.8)), the bf16 stall,
// promotion against the same unit without it, the swamping picture growing with k, and bad parameters.
#include <QTest>

#include "test_support.hpp"

#include <cmath>

#include "study/accumulation_study.hpp"

using namespace ks::study;

namespace {

/// The row of `model` at x.
double errorAt(const Table& t, const std::string& model, double x, const char* column = "rel_error_p90") {
    for (std::size_t r = 0; r < t.rowCount(); ++r)
        if (t.labels("model")[r] == model && t.numbers("x")[r] == x) return t.numbers(column)[r];
    return std::nan("");
}

}  // namespace

class TestAccumulationStudy : public QObject {
    Q_OBJECT

private slots:
    // For n positive terms summed with unit roundoff u = 2^-B (B significant bits, nearest), the relative error is at
    // most (n − 1)u / (1 − (n − 1)u) in order, ⌈log2 n⌉u / (1 − …) pairwise, and 2u + O(n u²) compensated.
    void errorsWithinTheClassicalBounds() {
        AccumulationSweep s;
        s.operand = "fp16";
        s.length = 1024;
        s.dots = 16;
        s.models = {"sequential", "pairwise", "kahan"};
        s.values = {12, 16, 20, 24};
        const Table t = runAccumulationSweep(s);
        QCOMPARE(t.rowCount(), std::size_t(12));
        for (int bits : s.values) {
            const double u = std::ldexp(1.0, -bits), n = s.length;
            const double sequential = (n - 1) * u / (1 - (n - 1) * u), pairwise = std::ceil(std::log2(n)) * u / (1 - 10 * u);
            QVERIFY2(errorAt(t, "sequential", bits) <= sequential, qPrintable(QString::number(bits)));
            QVERIFY2(errorAt(t, "pairwise", bits) <= pairwise, qPrintable(QString::number(bits)));
            QVERIFY2(errorAt(t, "kahan", bits) <= 2 * u + n * u * u * 4, qPrintable(QString::number(bits)));
            QVERIFY(errorAt(t, "sequential", bits) > 0);  // the bounds are not met by doing nothing
        }
    }

    // bf16's 8 bits: the running sum of 4096 products of U[0, 1) pairs (about 1024) stalls far below it; pairwise does not.
    void bf16SequentialStalls() {
        AccumulationSweep s;
        s.length = 4096;
        s.dots = 8;
        s.models = {"sequential", "pairwise"};
        s.values = {8};
        const Table t = runAccumulationSweep(s);
        QVERIFY(errorAt(t, "sequential", 8, "rel_error_median") > 0.5);
        QVERIFY(errorAt(t, "pairwise", 8, "rel_error_median") < 0.02);
    }

    // DeepSeek-V3's remedy: at 14 bits, promoting every 128 products into float32 errs less than the unit alone.
    void promotionHelps() {
        AccumulationSweep s;
        s.operand = "e4m3";
        s.length = 4096;
        s.dots = 16;
        s.models = {"tensor core", "tensor core, promoted"};
        s.values = {14};
        const Table t = runAccumulationSweep(s);
        QVERIFY(errorAt(t, "tensor core, promoted", 14, "rel_error_median") < errorAt(t, "tensor core", 14, "rel_error_median") / 4);
        // e4m3 operands, exact products, 14-bit groups of 4 (and promotion every 128) are the Hopper presets.
        QCOMPARE(t.labels("spec")[0], std::string("hopper-fp8"));
        QCOMPARE(t.labels("spec")[1], std::string("hopper-fp8-promoted"));
    }

    void swampingGrows() {
        AccumulationSweep s;
        s.accumulatorBits = 11;
        s.length = 4096;
        s.models = {"sequential"};
        const Table t = runSwamping(s);
        double early = 0, late = 0;
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            if (t.numbers("k")[r] <= 32) early = std::max(early, t.numbers("rel_error")[r]);
            if (t.numbers("k")[r] == 4096) late = t.numbers("rel_error")[r];
        }
        QVERIFY2(late > 10 * early, qPrintable(QStringLiteral("%1 vs %2").arg(late).arg(early)));
        KS_COMPARE_EXACT(t.numbers("k").back(), 4096.0);
    }

    void badParameters() {
        AccumulationSweep s;
        s.models = {"fast"};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, runAccumulationSweep(s));
        s = {};
        s.values = {30};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, runAccumulationSweep(s));
        s = {};
        s.operand = "lns8.3";
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, runAccumulationSweep(s));
        s = {};
        s.operand = "mxfp9";
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, runAccumulationSweep(s));
    }

    // Scaled operands run too (the products of dequantised MX values are exact).
    void scaledOperands() {
        AccumulationSweep s;
        s.operand = "mxfp8";
        s.dots = 4;
        s.length = 256;
        s.models = {"tensor core"};
        s.values = {24};
        const Table t = runAccumulationSweep(s);
        QCOMPARE(t.labels("spec")[0], std::string("mxfp8-e4m3/fp64/fp32:acc=tc4x24"));
        QVERIFY(errorAt(t, "tensor core", 24) < 4096 * std::ldexp(1.0, -23));
    }
};

QTEST_APPLESS_MAIN(TestAccumulationStudy)
#include "tst_accumulation_study.moc"
