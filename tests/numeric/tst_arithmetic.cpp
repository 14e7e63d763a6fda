// Emulated arithmetic: each operation rounded once from its exact result. Reference: the exact result
// in binary128 (__float128: exact for these operands' sums, products and fmas), rounded by comparing
// with its two neighbours in the format; constructed cases where rounding the double result again
// (double rounding) gives the wrong answer.
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

#include "numeric/arithmetic.hpp"

using namespace ks::numeric;

Q_DECLARE_METATYPE(ks::numeric::Rounding)

namespace {

using Quad = __float128;
constexpr double inf = std::numeric_limits<double>::infinity();

/// Correct rounding of an exact value to a float format, by its neighbours lo <= exact < hi.
double referenceRound(Quad exact, const Format& f, Rounding r) {
    const double d = static_cast<double>(exact);
    double lo = roundTo(d, f, Rounding::Down);
    if (static_cast<Quad>(lo) > exact) lo = roundTo(std::nextafter(lo, -inf), f, Rounding::Down);
    if (static_cast<Quad>(lo) == exact) return lo;
    const double hi = roundTo(std::nextafter(lo, inf), f, Rounding::Up);
    switch (r) {
    case Rounding::Down: return lo;
    case Rounding::Up: return hi;
    case Rounding::TowardZero: return exact > 0 ? lo : hi;
    case Rounding::NearestEven:
    case Rounding::Stochastic: {
        const Quad below = exact - lo, above = hi - exact;
        if (below < above) return lo;
        if (above < below) return hi;
        return (encodeFloat(lo, f) & 1) == 0 ? lo : hi;
    }
    }
    return lo;
}

/// A random float32 value ±m·2^k with a full 24-bit significand and k spread over [-12, 4].
double randomOperand(std::mt19937_64& rng) {
    const double m = static_cast<double>((rng() >> 40) | (1u << 23));  // 24 bits
    const int k = static_cast<int>(rng() % 17) - 12;
    return (rng() & 1 ? -1 : 1) * std::ldexp(m, k - 23);
}

}  // namespace

class tst_Arithmetic : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void doubleRoundingCases() {
        // Each exact result is 1 + 2^-11 (an fp16 tie) plus a tiny positive amount that the double
        // result loses: correct fp16 rounding goes up to 1 + 2^-10; rounding the double goes down to 1.
        EmulatedArithmetic fp16(ComputeSpec::uniform(Format::fp16()));
        const double up = 1 + 0x1p-10;
        const double a = 1 + 0x1p-30, b = 1 + 0x1p-40, c = 0x1p-11 - 0x1p-30 - 0x1p-40;
        QCOMPARE(roundTo(std::fma(a, b, c), Format::fp16(), Rounding::NearestEven), 1.0);  // the trap
        QCOMPARE(fp16.fma(a, b, c), up);
        QCOMPARE(roundTo((1 + 0x1p-11) + 0x1p-60, Format::fp16(), Rounding::NearestEven), 1.0);
        QCOMPARE(fp16.add(1 + 0x1p-11, 0x1p-60), up);
        QCOMPARE(fp16.sub(1 + 0x1p-11, -0x1p-60), up);
        QCOMPARE(fp16.add(-(1 + 0x1p-11), -0x1p-60), -up);
        const double m1 = 1 + 0x1p-49, m2 = 1 + 0x1p-11 - 0x1p-49;
        QCOMPARE(roundTo(m1 * m2, Format::fp16(), Rounding::NearestEven), 1.0);
        QCOMPARE(fp16.mul(m1, m2), up);
        // Exactly on the tie: to even.
        QCOMPARE(fp16.add(1, 0x1p-11), 1.0);
        QCOMPARE(fp16.add(1 + 0x1p-10, 0x1p-11), 1 + 0x1p-9);
    }

    void fp64DirectedModes() {
        EmulatedArithmetic up(ComputeSpec::uniform(Format::fp64(), Rounding::Up));
        EmulatedArithmetic down(ComputeSpec::uniform(Format::fp64(), Rounding::Down));
        EmulatedArithmetic zero(ComputeSpec::uniform(Format::fp64(), Rounding::TowardZero));
        EmulatedArithmetic nearest(ComputeSpec::uniform(Format::fp64()));
        QCOMPARE(nearest.add(1, 0x1p-60), 1.0);
        QCOMPARE(up.add(1, 0x1p-60), std::nextafter(1.0, 2.0));
        QCOMPARE(down.add(1, 0x1p-60), 1.0);
        QCOMPARE(down.add(1, -0x1p-60), std::nextafter(1.0, 0.0));
        QCOMPARE(zero.add(-1, -0x1p-60), -1.0);
        QCOMPARE(up.div(1, 3), std::nextafter(1.0 / 3, 1.0));  // 1/3 rounds down to nearest
        QCOMPARE(down.div(1, 3), 1.0 / 3);
        QCOMPARE(up.mul(1 + 0x1p-52, 1 + 0x1p-52), 1 + 0x1p-51 + 0x1p-52);
        QCOMPARE(nearest.mul(1 + 0x1p-52, 1 + 0x1p-52), 1 + 0x1p-51);
    }

    void matchesExactRounding_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<Rounding>("rounding");
        for (const char* f : {"fp16", "bf16", "e4m3", "e5m2", "tf32", "e8m3", "fp16-nosub", "e6m20"})
            for (Rounding r : {Rounding::NearestEven, Rounding::TowardZero, Rounding::Up, Rounding::Down})
                QTest::newRow(qPrintable(QString("%1 %2").arg(f).arg(QString::fromStdString(roundingName(r))))) << QString(f) << r;
    }
    void matchesExactRounding() {
        QFETCH(QString, format);
        QFETCH(Rounding, rounding);
        const Format f = parseFormat(format.toStdString());
        EmulatedArithmetic arith(ComputeSpec::uniform(f, rounding));
        std::mt19937_64 rng(99);
        int naiveWrong = 0;
        for (int i = 0; i < 20000; ++i) {
            const double a = randomOperand(rng), b = randomOperand(rng), c = randomOperand(rng);
            const Quad qa = a, qb = b, qc = c;
            struct Case {
                const char* op;
                double got;
                Quad exact;
                double naive;
            };
            const Case cases[] = {
                {"add", arith.add(a, b), qa + qb, a + b},
                {"sub", arith.sub(a, c), qa - qc, a - c},
                {"mul", arith.mul(a, b), qa * qb, a * b},
                {"fma", arith.fma(a, b, c), qa * qb + qc, std::fma(a, b, c)},
                {"div", arith.div(a, b), qa / qb, a / b},
            };
            for (const auto& k : cases) {
                // Overflow and saturation are covered by tst_rounding's tables; the neighbour-based
                // reference here needs the exact result inside the format's finite range.
                if (k.exact > static_cast<Quad>(maxFinite(f)) || -k.exact > static_cast<Quad>(maxFinite(f))) continue;
                const double expected = referenceRound(k.exact, f, rounding);
                if (k.got != expected)
                    QFAIL(qPrintable(QString("%1(%2, %3, %4) = %5, expected %6")
                                         .arg(k.op)
                                         .arg(a, 0, 'a')
                                         .arg(b, 0, 'a')
                                         .arg(c, 0, 'a')
                                         .arg(k.got, 0, 'a')
                                         .arg(expected, 0, 'a')));
                naiveWrong += roundTo(k.naive, f, rounding) != expected;
            }
        }
        qInfo("rounding the double result again (double rounding) differs in %d of the 100000 random operations", naiveWrong);
    }

    void scaledIntegerStages() {
        // Per-tensor int8 operands: products exact, accumulation in fp32.
        EmulatedArithmetic arith(parseComputeSpec("int8/fp32"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, arith.store(0.5));
        std::vector<double> operand{-1.0, 0.5, 0.3};
        arith.storeTensor(operand);
        const double scale = 1.0 / 127;
        QCOMPARE(operand[0], -1.0);
        QCOMPARE(operand[1], std::nearbyint(0.5 / scale) * scale);
        QCOMPARE(operand[2], std::nearbyint(0.3 / scale) * scale);
        // An integer format without a scale cannot accumulate.
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, EmulatedArithmetic(ComputeSpec::uniform(parseFormat("int8"))));
        // With a fixed scale it can.
        EmulatedArithmetic fixedScale(ComputeSpec::uniform(parseFormat("int8@0.25")));
        QCOMPARE(fixedScale.add(1.0, 0.3), 1.25);
        QCOMPARE(fixedScale.mul(10.0, 10.0), 127 * 0.25);  // saturates
    }

    void nativeArithmetic() {
        NativeArithmetic<float> f;
        QCOMPARE(f.div(1.0f, 4.0f), 0.25f);
        QCOMPARE(f.fma(2.0f, 3.0f, 1.0f), 7.0f);
        QCOMPARE(f.store(0.1f), 0.1f);
    }

    void stochasticArithmeticIsReproducible() {
        ComputeSpec spec = parseComputeSpec("bf16:sr:seed=5");
        EmulatedArithmetic a1(spec), a2(spec);
        double s1 = 0, s2 = 0;
        for (int i = 0; i < 1000; ++i) {
            s1 = a1.add(s1, 0.001);
            s2 = a2.add(s2, 0.001);
        }
        QCOMPARE(s1, s2);
        // Stochastic accumulation keeps growing where nearest-even stagnates (0.001 < half an ulp of 1 in bf16
        // once the sum passes 0.5): the classic reason to use it.
        EmulatedArithmetic nearest(parseComputeSpec("bf16"));
        double sn = 0;
        for (int i = 0; i < 1000; ++i) sn = nearest.add(sn, 0.001);
        QVERIFY(std::fabs(s1 - 1.0) < std::fabs(sn - 1.0));
    }
};

QTEST_APPLESS_MAIN(tst_Arithmetic)
#include "tst_arithmetic.moc"
