// Accumulator models: the tensor-core model against the worked examples of Fasi, Higham, Mikaitis and Pranesh's test
// suite (north-numerical-computing/tensor-cores-numerical-behavior: inputs and the results V100 and T4/A100 gave, in
// binary32 mode), promotion and the summation orders on sums whose value is known by hand (bf16 stalls at 256), the
// names and presets, and what is refused.
#include <QTest>

#include <cfloat>
#include <cmath>
#include <random>
#include <vector>

#include "test_support.hpp"

#include "numeric/arithmetic.hpp"
#include "numeric/compute_spec.hpp"
#include "numeric/modelled_dot.hpp"

using namespace ks::numeric;

namespace {

/// One mma output as the suite sets it up: c + Σ a_i·b_i, the pairs given (the rest of K = 16 zero).
double mma(const char* spec, std::vector<double> a, std::vector<double> b, double c) {
    a.resize(16, 0.0);
    b.resize(16, 0.0);
    const ModelledDot dot(parseComputeSpec(spec));
    return dot(c, a.data(), 1, b.data(), 1, 16);
}

const double u24 = std::ldexp(1.0, -24), u23 = std::ldexp(1.0, -23), u22 = std::ldexp(1.0, -22);
const double belowOne16 = 1 - std::ldexp(1.0, -11);

}  // namespace

class TestModelledDot : public QObject {
    Q_OBJECT

private slots:
    // Each case: the suite's inputs and the value the GPU returned, for V100 (groups of 4, no extra bit) and for T4/A100
    // (one more bit on the right: tc8x25; the suite's cases use at most 4 products, so the group size does not show).
    void tensorCoreWorkedExamples_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<std::vector<double>>("a");
        QTest::addColumn<std::vector<double>>("b");
        QTest::addColumn<double>("c");
        QTest::addColumn<double>("expected");
        const std::vector<double> ones(4, 1.0);
        for (const char* spec : {"volta-fp16-tc", "ampere-fp16-tc"}) {
            const bool volta = std::string(spec) == "volta-fp16-tc";
            QTest::addRow("%s: products are exact", spec)
                << spec << std::vector<double>{belowOne16} << std::vector<double>{belowOne16} << 0.0
                << 1 - std::ldexp(1.0, -10) + u22;
            QTest::addRow("%s: four exact products", spec)
                << spec << std::vector<double>(4, belowOne16) << std::vector<double>(4, belowOne16) << 0.0
                << 4 * (1 - std::ldexp(1.0, -10) + u22);
            QTest::addRow("%s: accumulated in binary32", spec)
                << spec << std::vector<double>(4, volta ? 1.0 : 0.5) << std::vector<double>(4, u24) << 1.0 << 1.0;
            for (int j = 0; j < 4; ++j) {
                std::vector<double> a(4, volta ? 1.0 : 0.5), b(4, u24);
                a[std::size_t(j)] = 1, b[std::size_t(j)] = 1;
                QTest::addRow("%s: the sum starts from the largest (1 at %d)", spec, j) << spec << a << b << u24 << 1.0;
            }
            QTest::addRow("%s: round down for positive values", spec)
                << spec << ones << std::vector<double>{2, u23 + u24} << 0.0 << 2.0;
            QTest::addRow("%s: round up for negative values", spec)
                << spec << ones << std::vector<double>{-2, -u23 - u24} << 0.0 << -2.0;
            QTest::addRow("%s: no extra bits in the alignment", spec)
                << spec << std::vector<double>{1} << std::vector<double>{1} << -(1 - u24) << (volta ? u23 : u24);
            QTest::addRow("%s: normalisation in addition", spec)
                << spec << ones << std::vector<double>(4, u24) << 1 - u24 << 1 + u23;
            QTest::addRow("%s: normalisation in subtraction", spec)
                << spec << std::vector<double>{1, 1} << std::vector<double>{1, -u24} << -1 + u24 << (volta ? u23 : 0.0);
            for (int i = 0; i < 4; ++i) {
                std::vector<double> b(4, 1.0);
                b[std::size_t(i)] = u23;
                QTest::addRow("%s: carry out (small term at %d)", spec, i) << spec << ones << b << 1 + u22 + u23 << 4 + 2 * u22;
            }
            QTest::addRow("%s: a third carry bit", spec)
                << spec << ones << std::vector<double>{1, 1.5, 1.75, 1.875} << 1.875 << 8.0;
            QTest::addRow("%s: round down in normalisation", spec) << spec << ones << ones << 1 + u22 + u23 << 5.0;
            QTest::addRow("%s: round up in normalisation (negative)", spec)
                << spec << ones << std::vector<double>(4, -1.0) << -1 - u22 - u23 << -5.0;
        }
    }
    void tensorCoreWorkedExamples() {
        QFETCH(QString, spec);
        QFETCH(std::vector<double>, a);
        QFETCH(std::vector<double>, b);
        QFETCH(double, c);
        QFETCH(double, expected);
        KS_COMPARE_EXACT(mma(qPrintable(spec), a, b, c), expected);
    }

    // The suite's monotonicity cases: a larger accumulator gives a smaller result.
    void tensorCoreIsNotMonotonic() {
        const std::vector<double> a(4, 1.0), b(4, u24);
        const double partial = mma("volta-fp16-tc", a, b, 1 - u24), larger = mma("volta-fp16-tc", a, b, 1.0);
        KS_COMPARE_EXACT(partial, 1 + u23);
        KS_COMPARE_EXACT(larger, 1.0);
        const std::vector<double> half(4, 0.5), small = {u24, u24, u24, u23 + u24};
        const double partialA = mma("ampere-fp16-tc", half, small, 1 - u24), largerA = mma("ampere-fp16-tc", half, small, 1.0);
        QVERIFY(largerA < partialA);
    }

    // bf16 stalls at 256 (256 + 1 ties to the even 256); partial sums of 128 ones promoted into float32 do not, nor do the
    // pairwise, blocked and compensated orders (every partial sum of ones up to 1024 there is a bf16 number).
    void ordersAndPromotionOnOnes_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<double>("expected");
        QTest::newRow("sequential") << "bf16" << 256.0;
        QTest::newRow("sequential promoted") << "bf16:acc=sequential,promote128" << 1024.0;
        QTest::newRow("sequential promoted every 512") << "bf16:acc=sequential,promote512" << 512.0;
        QTest::newRow("pairwise") << "bf16:acc=pairwise" << 1024.0;
        QTest::newRow("blocked64") << "bf16:acc=blocked64" << 1024.0;
        QTest::newRow("kahan") << "bf16:acc=kahan" << 1024.0;
        // FP22 with its 14 bits holds every integer to 16384: no stall; e8m7 tensor-core sums (8 bits) stall as bf16 does.
        QTest::newRow("tensor core, 14 bits") << "bf16/fp64/e8m13:acc=tc4x14" << 1024.0;
        QTest::newRow("tensor core, 8 bits") << "bf16/fp64/bf16:acc=tc4x8" << 256.0;
    }
    void ordersAndPromotionOnOnes() {
        QFETCH(QString, spec);
        QFETCH(double, expected);
        const std::vector<double> ones(1024, 1.0);
        const ComputeSpec s = parseComputeSpec(spec.toStdString());
        if (s.accumulation.plain()) {
            // The kernels' own order, written out: the reference for the plain specification.
            EmulatedArithmetic arith(s);
            double acc = 0;
            for (double x : ones) acc = arith.add(acc, arith.mul(x, x));
            KS_COMPARE_EXACT(acc, expected);
            return;
        }
        const ModelledDot dot(s);
        KS_COMPARE_EXACT(dot(0.0, ones.data(), 1, ones.data(), 1, 1024), expected);
    }

    // The fast engine's eight dot products side by side give operator()'s bits: every preset, narrow and wide aligned
    // widths, accumulation formats that overflow and underflow, promotion, the other orders; values across magnitudes
    // with zeros of both signs, exact cancellations, infinities and NaN, and tiny terms whose products fall below
    // double's normal range (e11m10 storage); every lane count and length, both operand layouts.
    void lanesMatchTheScalarDot_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<int>("magnitudes");  // spread of binary exponents of the operands
        QTest::addColumn<int>("centre");      // their centre
        for (const char* preset : {"volta-fp16-tc", "ampere-fp16-tc", "ampere-bf16-tc", "hopper-fp8", "hopper-fp8-promoted"})
            QTest::newRow(preset) << preset << 6 << 0;
        QTest::newRow("3 aligned bits") << "fp16/fp64/fp32:acc=tc4x3" << 6 << 0;
        QTest::newRow("53 aligned bits") << "bf16/fp64/fp64:acc=tc16x53" << 30 << 0;
        QTest::newRow("e5m2 sums overflow") << "e5m2/fp64/e5m2:acc=tc8x10" << 6 << 6;
        QTest::newRow("e5m2 sums underflow") << "e5m2/fp64/e5m2:acc=tc8x10" << 4 << -9;
        QTest::newRow("promotion every 3") << "fp16/fp64/fp32:acc=tc4x14,promote3" << 6 << 0;
        QTest::newRow("below double's normal range") << "e11m10/fp64/e11m10:acc=tc4x24" << 40 << -515;
        QTest::newRow("near double's overflow") << "e11m10/fp64/fp64:acc=tc2x24" << 8 << 508;
        QTest::newRow("pairwise (scalar per lane)") << "fp16/fp32:acc=pairwise" << 6 << 0;
    }
    void lanesMatchTheScalarDot() {
        QFETCH(QString, spec);
        QFETCH(int, magnitudes);
        QFETCH(int, centre);
        const ComputeSpec s = parseComputeSpec(spec.toStdString());
        const ModelledDot dot(s);
        std::mt19937_64 rng(7);
        std::uniform_real_distribution<double> uniform(-1, 1);
        std::uniform_int_distribution<int> exponent(centre - magnitudes / 2, centre + magnitudes / 2), kind(0, 99);
        const Rounder store(s.storage, Rounding::NearestEven);
        const auto value = [&] {
            const int k = kind(rng);
            if (k == 0) return 0.0;
            if (k == 1) return -0.0;
            if (k == 2 && centre == 0) return std::numeric_limits<double>::infinity() * (uniform(rng) < 0 ? -1.0 : 1.0);
            if (k == 3 && centre == 0) return std::numeric_limits<double>::quiet_NaN();
            return store(std::ldexp(uniform(rng), exponent(rng)));
        };
        const int kMaxLength = 130;
        constexpr int L = ModelledDot::kLanes;
        std::vector<double> a(std::size_t(kMaxLength * L)), b(a.size());
        for (int trial = 0; trial < 60; ++trial) {
            for (auto& v : a) v = value();
            for (auto& v : b) v = value();
            if (trial % 3 == 0)  // exact cancellation: lane 0's second half undoes its first
                for (int i = 0; i < kMaxLength / 2; ++i) a[std::size_t((kMaxLength / 2 + i) * L)] = -a[std::size_t(i * L)], b[std::size_t((kMaxLength / 2 + i) * L)] = b[std::size_t(i * L)];
            const int lengths[] = {0, 1, 3, 4, 17, 64, kMaxLength};
            const int length = lengths[trial % 7], lanes = 1 + trial % L;
            double initial[L];
            for (auto& v : initial) v = trial % 2 ? value() : 0.0;
            double got[L], gotRows[L];
            // Layout 1: lanes are columns of a row-major matrix (gemm's B); a shared row (stride 1).
            dot.lanes(initial, a.data(), 0, 1, b.data(), 1, L, length, got, lanes);
            // Layout 2: lanes are rows (a layer's weights), a shared column of a.
            dot.lanes(initial, a.data(), 0, L, b.data(), kMaxLength, 1, length, gotRows, lanes);
            for (int l = 0; l < lanes; ++l) {
                const double want = dot(initial[l], a.data(), 1, b.data() + l, L, length);
                const double wantRows = dot(initial[l], a.data(), L, b.data() + l * kMaxLength, 1, length);
                if (!ks::test::sameResult(got[l], want) || !ks::test::sameResult(gotRows[l], wantRows))
                    QFAIL(qPrintable(QStringLiteral("trial %1, lane %2 of %3, length %4: %5 against %6, %7 against %8")
                                         .arg(trial).arg(l).arg(lanes).arg(length).arg(got[l], 0, 'g', 17).arg(want, 0, 'g', 17)
                                         .arg(gotRows[l], 0, 'g', 17).arg(wantRows, 0, 'g', 17)));
            }
        }
    }

    void specialValues() {
        const Rounder rz(Format::fp32(), Rounding::TowardZero);
        const double inf = INFINITY;
        KS_COMPARE_EXACT(ModelledDot::tensorCoreStep(1.0, std::vector<double>{inf, 1.0}, 24, rz), inf);
        QVERIFY(std::isnan(ModelledDot::tensorCoreStep(1.0, std::vector<double>{inf, -inf}, 24, rz)));
        QVERIFY(std::isnan(ModelledDot::tensorCoreStep(NAN, std::vector<double>{1.0}, 24, rz)));
        KS_COMPARE_EXACT(ModelledDot::tensorCoreStep(0.0, std::vector<double>{0.0, -0.0}, 24, rz), 0.0);
        // Beyond float32's range the truncation toward zero gives its largest finite value.
        KS_COMPARE_EXACT(ModelledDot::tensorCoreStep(3e38, std::vector<double>{3e38}, 24, rz), double(FLT_MAX));
    }

    void namesAndPresets() {
        const ComputeSpec volta = parseComputeSpec("volta-fp16-tc");
        QVERIFY(volta.storage == Format::fp16() && volta.product == Format::fp64() && volta.accumulate == Format::fp32());
        QCOMPARE(volta.accumulation.order, SummationOrder::TensorCore);
        QCOMPARE(volta.accumulation.groupSize, 4);
        QCOMPARE(volta.accumulation.alignedBits, 24);
        QCOMPARE(QString::fromStdString(computeSpecName(volta)), QStringLiteral("volta-fp16-tc"));
        QCOMPARE(QString::fromStdString(computeSpecName(parseComputeSpec("e4m3/fp64/e8m13:acc=tc4x14,promote128"))),
                 QStringLiteral("hopper-fp8-promoted"));
        for (const auto& preset : computeSpecPresets()) {
            QVERIFY(parseComputeSpec(preset.name) == parseComputeSpec(preset.spec));
            QVERIFY(!preset.source.empty());
        }
        const ComputeSpec blocked = parseComputeSpec("fp16/fp32:acc=blocked32,promote256");
        QCOMPARE(QString::fromStdString(computeSpecName(blocked)), QStringLiteral("fp16/fp32:acc=blocked32,promote256"));
        QVERIFY(parseComputeSpec("fp16:acc=sequential").accumulation.plain());
        for (const char* bad : {"fp16:acc=tc4", "fp16:acc=tc0x24", "fp16:acc=tc4x60", "fp16:acc=blocked0", "fp16:acc=fast",
                                "fp16:acc=pairwise,promote", "fp16:acc=pairwise,every8"}) {
            try {
                parseComputeSpec(bad);
                QFAIL(bad);
            } catch (const std::invalid_argument& e) {
                QVERIFY2(std::string(e.what()).find("accumulator model") != std::string::npos, e.what());
            }
        }
    }

    void refusals_data() {
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QString>("says");
        QTest::newRow("inexact products") << "fp16/fp32:acc=tc4x24" << "exact products";
        QTest::newRow("wide operands") << "fp64/fp64/fp32:acc=tc4x24" << "26 bits";
        QTest::newRow("stochastic") << "bf16:sr:acc=pairwise" << "stochastic";
        QTest::newRow("fixed-point sums") << "fp16/fixed16.8:acc=pairwise" << "float format";
    }
    void refusals() {
        QFETCH(QString, spec);
        QFETCH(QString, says);
        const ComputeSpec s = parseComputeSpec(spec.toStdString());
        const auto reason = accumulatorRefusal(s);
        QVERIFY(reason);
        QVERIFY2(QString::fromStdString(*reason).contains(says), reason->c_str());
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ModelledDot{s});
    }
};

QTEST_APPLESS_MAIN(TestModelledDot)
#include "tst_modelled_dot.moc"
