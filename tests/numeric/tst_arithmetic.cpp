// Emulated arithmetic: each operation rounded once from its exact result. Reference: the exact result
// in binary128 (__float128), rounded to the format by the format's definition (the grid step 2^q at the
// value, read from the binary128 bit pattern; nothing from core/numeric's rounding), in every format
// including fp64; constructed cases where rounding the double result again (double rounding) gives the
// wrong answer. All comparisons are bit for bit (KS_COMPARE_EXACT / sameBits: -0 differs from +0).
#include <QTest>

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "numeric/arithmetic.hpp"
#include "test_support.hpp"

using namespace ks::numeric;
using ks::test::sameBits;

Q_DECLARE_METATYPE(ks::numeric::Rounding)

namespace {


using Quad = __float128;
constexpr double inf = std::numeric_limits<double>::infinity();

/// An exact result held as value + tail: value is the binary128 result, tail the (exact) part it lost,
/// |tail| at most half a binary128 ulp of value (0 when value is exact).
struct Exact {
    Quad value;
    Quad tail = 0;
};

/// Knuth's TwoSum in binary128: a + b = sum + tail exactly (no overflow here).
Exact exactSum(Quad a, Quad b) {
    const Quad s = a + b;
    const Quad bv = s - a;
    return {s, (a - (s - bv)) + (b - bv)};
}

/// floor(log2 |x|) of a normal binary128 number, from its exponent field (bits 112..126).
int quadExponent(Quad x) {
    std::uint64_t words[2];
    std::memcpy(words, &x, sizeof words);  // little endian: words[1] holds sign and exponent
    return static_cast<int>((words[1] >> 48) & 0x7fff) - 16383;
}

/// 2^e as a binary128 number, built from the exponent field (e in the normal range).
Quad quadPowerOfTwo(int e) {
    const std::uint64_t words[2] = {0, static_cast<std::uint64_t>(e + 16383) << 48};
    Quad x;
    std::memcpy(&x, words, sizeof x);
    return x;
}

/// The two neighbours lo <= m < hi of a magnitude m > 0 on a float format's grid, as the format
/// defines it: step 2^(e - mantissaBits) in the binade [2^e, 2^(e+1)), 2^(emin - mantissaBits) below
/// 2^emin (subnormals), or the one step [0, 2^emin) without subnormals. loEven: lo's code is even.
struct Neighbours {
    Quad lo, hi;
    bool loEven;
};
Neighbours neighbours(Quad m, const Format& f) {
    const int emin = 2 - (1 << (f.exponentBits - 1));
    const int e = quadExponent(m);
    const int step = e >= emin ? e - f.mantissaBits : (f.subnormals ? emin - f.mantissaBits : emin);
    const Quad unit = quadPowerOfTwo(step);
    const auto k = static_cast<std::uint64_t>(m / unit);  // < 2^54: truncation is floor (m > 0), exact
    // The code's last bit is k's last bit (in a binade's lowest value k = 2^mantissaBits is even, and
    // so is its code; without subnormals 0 is even).
    return {static_cast<Quad>(k) * unit, static_cast<Quad>(k + 1) * unit, (k & 1) == 0};
}

/// Correct rounding of an exact nonzero result to a float format (inside its finite range).
double referenceRound(Exact x, const Format& f, Rounding r) {
    if (x.value == 0) return r == Rounding::Down ? -0.0 : 0.0;  // an exact cancellation (IEEE 754 6.3)
    const bool negative = x.value < 0;
    const Quad m = negative ? -x.value : x.value;
    const Quad tail = negative ? -x.tail : x.tail;  // in the magnitude's direction
    Neighbours n = neighbours(m, f);
    // The magnitude's position between lo and hi; `above` the exact one's side of the midpoint.
    bool exact = false, onMidpoint = false, aboveMidpoint = false;
    if (m == n.lo) {
        if (tail == 0) exact = true;
        else if (tail < 0) {
            // Just below a grid value: the neighbours are the grid value below it and lo itself.
            n = neighbours(m - quadPowerOfTwo(quadExponent(m) - 100), f);
            aboveMidpoint = true;
        }
    } else {
        const Quad mid = (n.lo + n.hi) / 2;  // exact: one more bit
        if (m == mid) {
            onMidpoint = tail == 0;
            aboveMidpoint = tail > 0;
        } else {
            aboveMidpoint = m > mid;
        }
    }
    Quad magnitude = n.lo;
    if (!exact) {
        bool up = false;
        switch (r) {
        case Rounding::NearestEven:
        case Rounding::Stochastic: up = onMidpoint ? !n.loEven : aboveMidpoint; break;
        case Rounding::TowardZero: up = false; break;
        case Rounding::Up: up = !negative; break;
        case Rounding::Down: up = negative; break;
        }
        if (up) magnitude = n.hi;
    }
    const double result = static_cast<double>(magnitude);  // a format value: exact in double
    return negative ? -result : result;
}

/// A random float32 value ±m·2^k with a full 24-bit significand and k spread over [-12, 4].
double randomOperand(std::mt19937_64& rng) {
    const double m = static_cast<double>((rng() >> 40) | (1u << 23));  // 24 bits
    const int k = static_cast<int>(rng() % 17) - 12;
    return (rng() & 1 ? -1 : 1) * std::ldexp(m, k - 23);
}

/// A random double ±m·2^k with a full 53-bit significand and k spread over [-12, 4]: sums, products and
/// quotients of these need all of fp64's rounding.
double randomOperand53(std::mt19937_64& rng) {
    const double m = static_cast<double>((rng() >> 11) | (std::uint64_t{1} << 52));  // 53 bits
    const int k = static_cast<int>(rng() % 17) - 12;
    return (rng() & 1 ? -1 : 1) * std::ldexp(m, k - 52);
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
        KS_COMPARE_EXACT(roundTo(std::fma(a, b, c), Format::fp16(), Rounding::NearestEven), 1.0);  // the trap
        KS_COMPARE_EXACT(fp16.fma(a, b, c), up);
        KS_COMPARE_EXACT(roundTo((1 + 0x1p-11) + 0x1p-60, Format::fp16(), Rounding::NearestEven), 1.0);
        KS_COMPARE_EXACT(fp16.add(1 + 0x1p-11, 0x1p-60), up);
        KS_COMPARE_EXACT(fp16.sub(1 + 0x1p-11, -0x1p-60), up);
        KS_COMPARE_EXACT(fp16.add(-(1 + 0x1p-11), -0x1p-60), -up);
        const double m1 = 1 + 0x1p-49, m2 = 1 + 0x1p-11 - 0x1p-49;
        KS_COMPARE_EXACT(roundTo(m1 * m2, Format::fp16(), Rounding::NearestEven), 1.0);
        KS_COMPARE_EXACT(fp16.mul(m1, m2), up);
        // Exactly on the tie: to even.
        KS_COMPARE_EXACT(fp16.add(1, 0x1p-11), 1.0);
        KS_COMPARE_EXACT(fp16.add(1 + 0x1p-10, 0x1p-11), 1 + 0x1p-9);
    }

    void fp64DirectedModes() {
        // fp64 results one ulp apart: the double result of the hardware (nearest) moved by the error term.
        EmulatedArithmetic up(ComputeSpec::uniform(Format::fp64(), Rounding::Up));
        EmulatedArithmetic down(ComputeSpec::uniform(Format::fp64(), Rounding::Down));
        EmulatedArithmetic zero(ComputeSpec::uniform(Format::fp64(), Rounding::TowardZero));
        EmulatedArithmetic nearest(ComputeSpec::uniform(Format::fp64()));
        const double justAboveOne = 1 + 0x1p-52, justBelowOne = 1 - 0x1p-53;
        KS_COMPARE_EXACT(nearest.add(1, 0x1p-60), 1.0);
        KS_COMPARE_EXACT(up.add(1, 0x1p-60), justAboveOne);
        KS_COMPARE_EXACT(down.add(1, 0x1p-60), 1.0);
        KS_COMPARE_EXACT(zero.add(1, 0x1p-60), 1.0);
        KS_COMPARE_EXACT(down.add(1, -0x1p-60), justBelowOne);
        KS_COMPARE_EXACT(zero.add(1, -0x1p-60), justBelowOne);
        KS_COMPARE_EXACT(up.add(1, -0x1p-60), 1.0);
        KS_COMPARE_EXACT(zero.add(-1, -0x1p-60), -1.0);
        KS_COMPARE_EXACT(down.add(-1, -0x1p-60), -justAboveOne);
        KS_COMPARE_EXACT(up.add(-1, -0x1p-60), -1.0);
        KS_COMPARE_EXACT(up.sub(-1, 0x1p-60), -1.0);
        KS_COMPARE_EXACT(down.sub(-1, 0x1p-60), -justAboveOne);
        // 1/3 = 0x1.5555...p-2: the nearest double 0x1.5555555555555p-2 is below it.
        KS_COMPARE_EXACT(nearest.div(1, 3), 0x1.5555555555555p-2);
        KS_COMPARE_EXACT(up.div(1, 3), 0x1.5555555555556p-2);
        KS_COMPARE_EXACT(down.div(1, 3), 0x1.5555555555555p-2);
        KS_COMPARE_EXACT(zero.div(-1, 3), -0x1.5555555555555p-2);
        KS_COMPARE_EXACT(down.div(-1, 3), -0x1.5555555555556p-2);
        // 1/10 = 0x1.999...p-4: the nearest double 0x1.999999999999ap-4 is above it.
        KS_COMPARE_EXACT(nearest.div(1, 10), 0x1.999999999999ap-4);
        KS_COMPARE_EXACT(up.div(1, 10), 0x1.999999999999ap-4);
        KS_COMPARE_EXACT(down.div(1, 10), 0x1.9999999999999p-4);
        KS_COMPARE_EXACT(zero.div(1, -10), -0x1.9999999999999p-4);
        // (1 + 2^-52)^2 = 1 + 2^-51 + 2^-104.
        KS_COMPARE_EXACT(up.mul(1 + 0x1p-52, 1 + 0x1p-52), 1 + 0x1p-51 + 0x1p-52);
        KS_COMPARE_EXACT(nearest.mul(1 + 0x1p-52, 1 + 0x1p-52), 1 + 0x1p-51);
        KS_COMPARE_EXACT(down.mul(1 + 0x1p-52, 1 + 0x1p-52), 1 + 0x1p-51);
        KS_COMPARE_EXACT(down.mul(-(1 + 0x1p-52), 1 + 0x1p-52), -(1 + 0x1p-51 + 0x1p-52));
        KS_COMPARE_EXACT(up.fma(1 + 0x1p-52, 1 - 0x1p-52, -1.0), -0x1p-104);  // exact: no rounding at all
        KS_COMPARE_EXACT(up.fma(1 + 0x1p-52, 1 + 0x1p-52, 1.0), 2 + 0x1p-50);  // 2 + 2^-51 + 2^-104 up
        KS_COMPARE_EXACT(zero.fma(1 + 0x1p-52, 1 + 0x1p-52, 1.0), 2 + 0x1p-51);
        // An exact zero sum is +0, except when rounding down (IEEE 754 section 6.3).
        KS_COMPARE_EXACT(nearest.sub(0.1, 0.1), 0.0);
        KS_COMPARE_EXACT(up.add(0.1, -0.1), 0.0);
        KS_COMPARE_EXACT(down.add(0.1, -0.1), -0.0);
        KS_COMPARE_EXACT(down.add(0.0, 0.0), 0.0);
        KS_COMPARE_EXACT(down.add(-0.0, -0.0), -0.0);
        KS_COMPARE_EXACT(down.fma(2.0, 3.0, -6.0), -0.0);
        KS_COMPARE_EXACT(up.fma(2.0, 3.0, -6.0), 0.0);
        // Fixed point has no -0, also when rounding down.
        EmulatedArithmetic fixedDown(ComputeSpec::uniform(parseFormat("fixed16.8"), Rounding::Down));
        KS_COMPARE_EXACT(fixedDown.sub(0.5, 0.5), 0.0);
    }

    void matchesExactRounding_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<Rounding>("rounding");
        for (const char* f : {"fp16", "bf16", "e4m3", "e5m2", "tf32", "e8m3", "fp16-nosub", "e6m20", "fp64"})
            for (Rounding r : {Rounding::NearestEven, Rounding::TowardZero, Rounding::Up, Rounding::Down})
                QTest::newRow(qPrintable(QString("%1 %2").arg(f).arg(QString::fromStdString(roundingName(r)))))
                    << QString(f) << r;
    }
    void matchesExactRounding() {
        QFETCH(QString, format);
        QFETCH(Rounding, rounding);
        const Format f = parseFormat(format.toStdString());
        EmulatedArithmetic arith(ComputeSpec::uniform(f, rounding));
        // fp64 needs operands with more significant bits than float32's 24, or nothing would round.
        const bool wide = f.mantissaBits == 52;
        std::mt19937_64 rng(99);
        int naiveWrong = 0;
        for (int i = 0; i < 20000; ++i) {
            const double a = wide ? randomOperand53(rng) : randomOperand(rng);
            const double b = wide ? randomOperand53(rng) : randomOperand(rng);
            const double c = wide ? randomOperand53(rng) : randomOperand(rng);
            const Quad qa = a, qb = b, qc = c;
            struct Case {
                const char* op;
                double got;
                Exact exact;
                double naive;
            };
            // Sums and products of these operands are exact in binary128 (at most 106 significant bits);
            // fma keeps its tail from TwoSum. A quotient is not, but for operands of at most 53 bits it lies
            // at least 2^-106 (relative) from every 54-bit number, farther than binary128's 2^-113 rounding:
            // its binary128 value is on the same side of every format value and midpoint.
            const Case cases[] = {
                {"add", arith.add(a, b), {qa + qb}, a + b},
                {"sub", arith.sub(a, c), {qa - qc}, a - c},
                {"mul", arith.mul(a, b), {qa * qb}, a * b},
                {"fma", arith.fma(a, b, c), exactSum(qa * qb, qc), std::fma(a, b, c)},
                {"div", arith.div(a, b), {qa / qb}, a / b},
            };
            for (const auto& k : cases) {
                // Overflow and saturation are covered by tst_rounding's tables; the neighbour-based
                // reference here needs the exact result inside the format's finite range.
                const Quad limit = static_cast<Quad>(maxFinite(f));
                if (k.exact.value > limit || -k.exact.value > limit) continue;
                const double expected = referenceRound(k.exact, f, rounding);
                if (!sameBits(k.got, expected))
                    QFAIL(qPrintable(QString("%1(%2, %3, %4) = %5, expected %6")
                                         .arg(k.op)
                                         .arg(ks::test::hexFloat(a))
                                         .arg(ks::test::hexFloat(b))
                                         .arg(ks::test::hexFloat(c))
                                         .arg(ks::test::hexFloat(k.got))
                                         .arg(ks::test::hexFloat(expected))));
                naiveWrong += !sameBits(roundTo(k.naive, f, rounding), expected);
            }
        }
        qInfo("rounding the double result again (double rounding) differs in %d of the 100000 random operations",
              naiveWrong);
    }

    /// The reference itself on hand-picked values, so that a broken reference cannot agree with a broken
    /// rounder by accident.
    void referenceIsNotVacuous() {
        const Format fp16 = Format::fp16(), fp64 = Format::fp64();
        const auto N = Rounding::NearestEven, U = Rounding::Up, D = Rounding::Down, Z = Rounding::TowardZero;
        const Quad one = 1, tie = one + static_cast<Quad>(0x1p-11);
        KS_COMPARE_EXACT(referenceRound({tie}, fp16, N), 1.0);
        KS_COMPARE_EXACT(referenceRound({tie + static_cast<Quad>(0x1p-10)}, fp16, N), 1 + 0x1p-9);
        KS_COMPARE_EXACT(referenceRound({tie, static_cast<Quad>(0x1p-120)}, fp16, N), 1 + 0x1p-10);
        KS_COMPARE_EXACT(referenceRound({-tie}, fp16, D), -(1 + 0x1p-10));
        KS_COMPARE_EXACT(referenceRound({-tie}, fp16, Z), -1.0);
        KS_COMPARE_EXACT(referenceRound({static_cast<Quad>(0x3p-25)}, fp16, N), 0x1p-23);  // subnormal tie
        KS_COMPARE_EXACT(referenceRound({static_cast<Quad>(0x1p-30)}, fp16, U), 0x1p-24);
        KS_COMPARE_EXACT(referenceRound({static_cast<Quad>(0x1p-30)}, parseFormat("fp16-nosub"), U), 0x1p-14);
        // fp64: just below 1 and just above, by a tail far beyond the double's precision.
        KS_COMPARE_EXACT(referenceRound({one, static_cast<Quad>(-0x1p-120)}, fp64, D), 1 - 0x1p-53);
        KS_COMPARE_EXACT(referenceRound({one, static_cast<Quad>(-0x1p-120)}, fp64, N), 1.0);
        KS_COMPARE_EXACT(referenceRound({one, static_cast<Quad>(0x1p-120)}, fp64, U), 1 + 0x1p-52);
        KS_COMPARE_EXACT(referenceRound({one + static_cast<Quad>(0x1p-53)}, fp64, N), 1.0);
        KS_COMPARE_EXACT(referenceRound({one + static_cast<Quad>(0x3p-53)}, fp64, N), 1 + 0x1p-51);
        KS_COMPARE_EXACT(referenceRound({one / 3}, fp64, U), 0x1.5555555555556p-2);
        KS_COMPARE_EXACT(referenceRound({Quad(0)}, fp64, D), -0.0);
    }

    void scaledIntegerStages() {
        // Per-tensor int8 operands: products exact, accumulation in fp32.
        EmulatedArithmetic arith(parseComputeSpec("int8/fp32"));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, arith.store(0.5));
        std::vector<double> operand{-1.0, 0.5, 0.3};
        arith.storeTensor(operand, randomTensor(RandomTensor::Input));
        const double scale = 1.0 / 127;
        KS_COMPARE_EXACT(operand[0], -1.0);
        // The definition: x / scale rounded to an integer, times the scale (1/127 is inexact, so the
        // quotient is computed as the definition says rather than as 63.5 and 38.1).
        KS_COMPARE_EXACT(operand[1], std::nearbyint(0.5 / scale) * scale);
        KS_COMPARE_EXACT(operand[2], std::nearbyint(0.3 / scale) * scale);
        // An integer format without a scale cannot accumulate.
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, EmulatedArithmetic(ComputeSpec::uniform(parseFormat("int8"))));
        // With a fixed scale it can.
        EmulatedArithmetic fixedScale(ComputeSpec::uniform(parseFormat("int8@0.25")));
        KS_COMPARE_EXACT(fixedScale.add(1.0, 0.3), 1.25);
        KS_COMPARE_EXACT(fixedScale.mul(10.0, 10.0), 127 * 0.25);  // saturates
    }

    void nativeArithmetic() {
        NativeArithmetic<float> f;
        KS_COMPARE_EXACT(f.div(1.0f, 4.0f), 0.25f);
        KS_COMPARE_EXACT(f.fma(2.0f, 3.0f, 1.0f), 7.0f);
        KS_COMPARE_EXACT(f.store(0.1f), 0.1f);
    }

    void stochasticArithmeticIsReproducible() {
        ComputeSpec spec = parseComputeSpec("bf16:sr:seed=5");
        EmulatedArithmetic a1(spec), a2(spec);
        double s1 = 0, s2 = 0;
        for (int i = 0; i < 1000; ++i) {
            s1 = a1.add(s1, 0.001);
            s2 = a2.add(s2, 0.001);
        }
        KS_COMPARE_EXACT(s1, s2);
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
