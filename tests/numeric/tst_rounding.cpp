// Rounding to every format kind, against closed forms: hand-derived boundary cases per mode, the
// complete code tables of the small float formats (every neighbour pair and its midpoint), fp8
// constants, stochastic unbiasedness, fixed-point saturation, per-tensor integers, LNS error bounds.
#include <QTest>

#include <cmath>
#include <random>
#include <cstdio>
#include <limits>
#include <vector>

#include <immintrin.h>

#include "numeric/round.hpp"
#include "test_support.hpp"

using namespace ks::numeric;

Q_DECLARE_METATYPE(ks::numeric::Rounding)

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();


bool same(double a, double b) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return a == b && std::signbit(a) == std::signbit(b);
}

/// The positive, finite values of a float format in increasing order, from its codes.
std::vector<double> positiveValues(const Format& f) {
    std::vector<double> values;
    const std::uint64_t codes = std::uint64_t{1} << (f.exponentBits + f.mantissaBits);
    for (std::uint64_t c = 0; c < codes; ++c) {
        const double v = decodeFloat(c, f);
        if (std::isfinite(v)) values.push_back(v);
    }
    return values;
}

}  // namespace

class tst_Rounding : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void cases_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<Rounding>("rounding");
        QTest::addColumn<double>("x");
        QTest::addColumn<double>("expected");
        const auto N = Rounding::NearestEven, Z = Rounding::TowardZero, U = Rounding::Up, D = Rounding::Down;
        struct Row {
            const char* name;
            const char* format;
            Rounding r;
            double x, expected;
        };
        const Row rows[] = {
            // fp16: ties, overflow threshold, subnormals
            {"fp16 tie to even down", "fp16", N, 1 + 0x1p-11, 1},
            {"fp16 tie to even up", "fp16", N, 1 + 0x3p-11, 1 + 0x1p-9},
            {"fp16 above tie", "fp16", N, 1 + 0x1p-11 + 0x1p-40, 1 + 0x1p-10},
            {"fp16 below overflow threshold", "fp16", N, 65519.99, 65504},
            {"fp16 overflow threshold (tie) -> inf", "fp16", N, 65520, inf},
            {"fp16 toward zero never overflows", "fp16", Z, 1e6, 65504},
            {"fp16 up overflows", "fp16", U, 65504.5, inf},
            {"fp16 down stays finite", "fp16", D, 65504.5, 65504},
            {"fp16 down negative overflows", "fp16", D, -65504.5, -inf},
            {"fp16 up negative stays finite", "fp16", U, -1e6, -65504},
            {"fp16 half smallest subnormal -> 0", "fp16", N, 0x1p-25, 0},
            {"fp16 above half smallest subnormal", "fp16", N, 0x1.0001p-25, 0x1p-24},
            {"fp16 subnormal tie to even", "fp16", N, 0x3p-25, 0x1p-23},
            {"fp16 up tiny -> smallest subnormal", "fp16", U, 1e-300, 0x1p-24},
            {"fp16 down tiny negative", "fp16", D, -1e-300, -0x1p-24},
            {"fp16 toward zero tiny negative keeps sign", "fp16", Z, -1e-300, -0.0},
            {"fp16 subnormal to normal carry", "fp16", N, 0x1p-14 - 0x1p-26, 0x1p-14},
            {"fp16 inf", "fp16", N, inf, inf},
            {"fp16 -inf", "fp16", Z, -inf, -inf},
            {"fp16 nan", "fp16", N, kNaN, kNaN},
            {"fp16 negative zero", "fp16", N, -0.0, -0.0},
            {"fp16 double subnormal input", "fp16", N, 4.9e-324, 0},
            // no subnormals: the gap [0, xmin) rounds like one step
            {"fp16-nosub half xmin tie -> 0", "fp16-nosub", N, 0x1p-15, 0},
            {"fp16-nosub above half xmin", "fp16-nosub", N, 0x1.01p-15, 0x1p-14},
            {"fp16-nosub toward zero", "fp16-nosub", Z, 0x1.ffp-15, 0},
            {"fp16-nosub up", "fp16-nosub", U, 1e-30, 0x1p-14},
            {"fp16-nosub normal tie", "fp16-nosub", N, 0x1.002p-14, 0x1p-14},
            {"fp16-nosub normal kept", "fp16-nosub", N, 0x1.004p-14, 0x1.004p-14},
            // saturation
            {"fp16-sat overflow", "fp16-sat", N, 1e6, 65504},
            {"fp16-sat up", "fp16-sat", U, 1e6, 65504},
            {"fp16-sat keeps inf", "fp16-sat", N, -inf, -inf},
            // OCP E4M3: max 448, no inf
            {"e4m3 max", "e4m3", N, 448, 448},
            {"e4m3 tie above max saturates", "e4m3", N, 464, 448},
            {"e4m3 huge saturates", "e4m3", N, -1e9, -448},
            {"e4m3 inf saturates", "e4m3", N, inf, 448},
            {"e4m3 nan", "e4m3", N, kNaN, kNaN},
            {"e4m3 smallest subnormal", "e4m3", N, 0x1p-9, 0x1p-9},
            {"e4m3 half smallest subnormal tie -> 0", "e4m3", N, 0x1p-10, 0},
            {"e4m3 top binade", "e4m3", N, 300, 288},
            {"e4m3 non-saturating overflow -> NaN", "e4m3-inf", N, 480, kNaN},
            {"e4m3 non-saturating toward zero", "e4m3-inf", Z, 1000, 448},
            {"e4m3-ieee max 240", "e4m3-ieee", N, 240, 240},
            {"e4m3-ieee overflow", "e4m3-ieee", N, 250, inf},
            // E5M2
            {"e5m2 max", "e5m2", N, 57344, 57344},
            {"e5m2 overflow tie", "e5m2", N, 61440, inf},
            {"e5m2 below overflow tie", "e5m2", N, 61439, 57344},
            {"e5m2 smallest subnormal", "e5m2", N, 0x1p-16, 0x1p-16},
            {"e5m2 half smallest subnormal", "e5m2", N, 0x1p-17, 0},
            // bf16, tf32, odd widths, fp64
            {"bf16 up", "bf16", U, 1 + 0x1p-20, 1 + 0x1p-7},
            {"bf16 down negative", "bf16", D, -(1 + 0x1p-20), -(1 + 0x1p-7)},
            {"tf32 tie", "tf32", N, 1 + 0x1p-11, 1},
            {"e8m0 tie to the even code", "e8m0", N, 3, 2},
            {"e8m0 above tie", "e8m0", N, 3.01, 4},
            {"e8m0 below tie", "e8m0", N, 2.99, 2},
            {"e2m1 max", "e2m1", N, 1e3, inf},
            {"e2m1-fn max 4 (1.1x2^2 is the NaN)", "e2m1-fn", N, 100, 4},
            {"e2m1-fn half step", "e2m1-fn", N, 0.25, 0},
            {"e2m1-fn 0.3 -> 0.5", "e2m1-fn", N, 0.3, 0.5},
            {"e11m10 wide range kept", "e11m10", N, 0x1.004p+1000, 0x1.004p+1000},
            {"e11m10 wide range tie", "e11m10", N, 0x1.002p+1000, 0x1p+1000},
            {"fp64 identity", "fp64", N, 0.1, 0.1},
            {"fp64 subnormal", "fp64", N, 4.9e-324, 4.9e-324},
            {"fp64-nosub flush", "fp64-nosub", N, 1e-310, 0},
            // fixed point: 8 bits, 4 fraction bits: [-8, 7.9375], step 1/16
            {"fixed tie to even 0", "fixed8.4", N, 0.03125, 0},
            {"fixed tie to even up", "fixed8.4", N, 0.09375, 0.125},
            {"fixed saturates high", "fixed8.4", N, 100, 7.9375},
            {"fixed saturates low", "fixed8.4", N, -100, -8},
            {"fixed saturates inf", "fixed8.4", U, inf, 7.9375},
            {"fixed -inf", "fixed8.4", N, -inf, -8},
            {"fixed up", "fixed8.4", U, 0.01, 0.0625},
            {"fixed down", "fixed8.4", D, -0.01, -0.0625},
            {"fixed toward zero has no -0", "fixed8.4", Z, -0.01, 0.0},
            {"fixed nan stays nan", "fixed8.4", N, kNaN, kNaN},
            {"fixed16.8", "fixed16.8", N, 1.0 / 3, 85.0 / 256},
            // scaled integer with a fixed scale
            {"int8@0.5 saturates", "int8@0.5", N, 100, 63.5},
            {"int8@0.5 symmetric", "int8@0.5", N, -100, -63.5},
            {"int8@0.5 tie", "int8@0.5", N, 0.75, 1.0},
            // LNS: lns8.3 = 3 fraction bits, codes ±63
            {"lns exact power of two", "lns8.3", N, 4, 4},
            {"lns saturates", "lns8.3", N, 1e9, std::exp2(63.0 / 8)},
            {"lns saturates negative", "lns8.3", N, -inf, -std::exp2(63.0 / 8)},
            {"lns zero", "lns8.3", N, 0, 0},
            {"lns tiny -> 0", "lns8.3", N, 1e-9, 0},
            {"lns tiny up -> smallest", "lns8.3", U, 1e-9, std::exp2(-63.0 / 8)},
            {"lns down", "lns8.3", D, 1.05, 1},
            {"lns up", "lns8.3", U, 1.05, std::exp2(1.0 / 8)},
            {"lns nearest (linear midpoint)", "lns8.3", N, 1.04, 1},
            {"lns nearest above midpoint", "lns8.3", N, 1.046, std::exp2(1.0 / 8)},
        };
        for (const auto& r : rows)
            QTest::newRow(r.name) << QString(r.format) << r.r << r.x << r.expected;
    }

    void cases() {
        QFETCH(QString, format);
        QFETCH(Rounding, rounding);
        QFETCH(double, x);
        QFETCH(double, expected);
        const Format f = parseFormat(format.toStdString());
        const double got = roundTo(x, f, rounding);
        QVERIFY2(same(got, expected),
                 qPrintable(QString("%1 -> %2, expected %3").arg(ks::test::hexFloat(x)).arg(ks::test::hexFloat(got)).arg(ks::test::hexFloat(expected))));
        // The bulk paths agree with the scalar one, for double and float arrays.
        std::vector<double> in{x}, out{0};
        roundArray(std::span<const double>(in), std::span<double>(out), f, rounding);
        QVERIFY(same(out[0], expected));
        const float xf = static_cast<float>(x);
        if (static_cast<double>(xf) == x || std::isnan(x)) {
            std::vector<float> inF{xf}, outF{0};
            roundArray(std::span<const float>(inF), std::span<float>(outF), f, rounding);
            QVERIFY(same(outF[0], static_cast<float>(expected)));
        }
    }

    /// Every pair of neighbouring values of a small float format: the midpoint goes to the even code,
    /// just off the midpoint to the nearer one; directed modes pick the right side; representable
    /// values are fixed points; the vector kernel agrees with the scalar path on all of these.
    void neighbourTable_data() {
        QTest::addColumn<QString>("format");
        for (const char* name : {"e4m3", "e5m2", "e4m3-ieee", "e3m2", "e2m1-fn", "e2m3-fn", "e3m2-nosub", "e5m2-nosub",
                                 "e4m3-nosub", "fp16", "e6m2", "e2m0"})
            QTest::newRow(name) << QString(name);
    }
    void neighbourTable() {
        QFETCH(QString, format);
        const Format f = parseFormat(format.toStdString());
        const auto values = positiveValues(f);
        QVERIFY(values.size() > 2);
        std::vector<double> probes;
        std::vector<double> nearest, up, down;
        for (std::size_t i = 0; i + 1 < values.size(); ++i) {
            const double a = values[i], b = values[i + 1];
            QVERIFY(a < b);
            const double mid = 0.5 * (a + b);
            const bool aEven = (encodeFloat(a, f) & 1) == 0;
            KS_COMPARE_EXACT(roundTo(a, f, Rounding::NearestEven), a);
            KS_COMPARE_EXACT(roundTo(mid, f, Rounding::NearestEven), aEven ? a : b);
            KS_COMPARE_EXACT(roundTo(-mid, f, Rounding::NearestEven), aEven ? -a : -b);
            KS_COMPARE_EXACT(roundTo(std::nextafter(mid, 0.0), f, Rounding::NearestEven), a);
            KS_COMPARE_EXACT(roundTo(std::nextafter(mid, inf), f, Rounding::NearestEven), b);
            KS_COMPARE_EXACT(roundTo(mid, f, Rounding::Up), b);
            KS_COMPARE_EXACT(roundTo(mid, f, Rounding::Down), a);
            KS_COMPARE_EXACT(roundTo(-mid, f, Rounding::TowardZero), -a);
            KS_COMPARE_EXACT(roundTo(-mid, f, Rounding::Down), -b);
            for (double p : {a, mid, std::nextafter(mid, 0.0), std::nextafter(mid, inf), -mid})
                probes.push_back(p);
        }
        std::vector<double> bulk(probes.size());
        roundArray(std::span<const double>(probes), std::span<double>(bulk), f);
        for (std::size_t i = 0; i < probes.size(); ++i)
            QVERIFY2(same(bulk[i], roundTo(probes[i], f, Rounding::NearestEven)), qPrintable(ks::test::hexFloat(probes[i])));
    }

    void fp8Constants_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<double>("maxValue");
        QTest::addColumn<double>("smallestSubnormal");
        QTest::addColumn<int>("nanCodes");
        QTest::addColumn<int>("infCodes");
        QTest::newRow("e4m3") << "e4m3" << 448.0 << 0x1p-9 << 2 << 0;
        QTest::newRow("e5m2") << "e5m2" << 57344.0 << 0x1p-16 << 6 << 2;
        QTest::newRow("e4m3-ieee") << "e4m3-ieee" << 240.0 << 0x1p-9 << 14 << 2;
    }
    void fp8Constants() {
        QFETCH(QString, format);
        QFETCH(double, maxValue);
        QFETCH(double, smallestSubnormal);
        QFETCH(int, nanCodes);
        QFETCH(int, infCodes);
        const Format f = parseFormat(format.toStdString());
        KS_COMPARE_EXACT(maxFinite(f), maxValue);
        KS_COMPARE_EXACT(minPositive(f), smallestSubnormal);
        KS_COMPARE_EXACT(decodeFloat(0x01, f), smallestSubnormal);
        int nans = 0, infs = 0;
        double largest = 0;
        for (std::uint64_t code = 0; code < 256; ++code) {
            const double v = decodeFloat(code, f);
            if (std::isnan(v)) {
                ++nans;
                QVERIFY(std::isnan(roundTo(v, f, Rounding::NearestEven)));
                continue;
            }
            if (std::isinf(v)) ++infs;
            else largest = std::max(largest, std::fabs(v));
            QVERIFY(same(roundTo(v, f, Rounding::NearestEven), v));  // every value is a fixed point
            QCOMPARE(encodeFloat(v, f), code);                        // and encodes back to its code
        }
        QCOMPARE(nans, nanCodes);
        QCOMPARE(infs, infCodes);
        KS_COMPARE_EXACT(largest, maxValue);
    }

    /// All 2^16 fp16 codes decode like the hardware (F16C) and re-encode.
    void fp16CodesMatchHardware() {
        if (!__builtin_cpu_supports("f16c")) QSKIP("no F16C on this CPU");
        const Format fp16 = Format::fp16();
        for (std::uint32_t code = 0; code < 65536; ++code) {
            const double v = decodeFloat(code, fp16);
            const float hw = hardwareHalfToFloat(static_cast<unsigned short>(code));
            QVERIFY(same(v, hw));
            if (!std::isnan(v)) QCOMPARE(encodeFloat(v, fp16), std::uint64_t{code});
        }
    }

    void stochasticIsUnbiased_data() {
        QTest::addColumn<QString>("format");
        QTest::addColumn<double>("x");
        QTest::newRow("fp16 0.3 ulp") << "fp16" << 1 + 0.3 * 0x1p-10;
        QTest::newRow("bf16 0.9 ulp negative") << "bf16" << -(3 + 0.9 * 0x1p-6);
        QTest::newRow("e4m3 subnormal") << "e4m3" << 0.37 * 0x1p-9;
        QTest::newRow("fixed8.4") << "fixed8.4" << 0.7 / 16;
        QTest::newRow("lns8.3") << "lns8.3" << 1.05;
        QTest::newRow("int8@0.1") << "int8@0.1" << 0.123;
    }
    void stochasticIsUnbiased() {
        QFETCH(QString, format);
        QFETCH(double, x);
        const Format f = parseFormat(format.toStdString());
        const double lo = roundTo(x, f, Rounding::Down), hi = roundTo(x, f, Rounding::Up);
        QVERIFY(lo < x && x < hi);
        const double p = (x - lo) / (hi - lo);
        const double sigma = (hi - lo) * std::sqrt(p * (1 - p));  // of one draw
        RandomSite site{randomKey(12345, 0), 0, 0};
        double sum = 0;
        long drawn = 0;
        std::vector<double> biases;
        for (long n : {100L, 10000L, 1000000L}) {
            for (; drawn < n; ++drawn) {
                site.element = static_cast<std::uint32_t>(drawn);
                const double r = roundTo(x, f, Rounding::Stochastic, &site);
                QVERIFY(r == lo || r == hi);
                sum += r - x;
            }
            const double bias = std::fabs(sum / n);
            // 5 standard errors: a fixed seed makes this deterministic, and unbiased rounding passes.
            QVERIFY2(bias < 5 * sigma / std::sqrt(double(n)),
                     qPrintable(QString("n=%1 bias %2 sigma/sqrt(n) %3")
                                    .arg(n)
                                    .arg(bias)
                                    .arg(sigma / std::sqrt(double(n)))));
            biases.push_back(bias);
        }
        QVERIFY(biases.back() < biases.front());
        // Round-to-nearest is biased here (always the same neighbour): the test can tell them apart.
        QVERIFY(std::fabs(roundTo(x, f, Rounding::NearestEven) - x) > 20 * sigma / std::sqrt(1e6));
    }

    void stochasticIsReproducible() {
        std::vector<double> in(1000);
        for (std::size_t i = 0; i < in.size(); ++i) in[i] = 1 + double(i) * 1e-5;
        auto run = [&](std::uint64_t seed) {
            const RandomKey key = randomKey(seed, 1);
            std::vector<double> out(in.size());
            roundArray(std::span<const double>(in), std::span<double>(out), Format::fp16(), Rounding::Stochastic, &key);
            return out;
        };
        const auto first = run(7), again = run(7);
        QCOMPARE(ks::test::firstBitDifference(std::span<const double>(first), std::span<const double>(again)),
                 std::ptrdiff_t{-1});
        QVERIFY(run(7) != run(8));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, roundTo(1.1, Format::fp16(), Rounding::Stochastic, nullptr));
    }

    void lnsErrorBound_data() {
        QTest::addColumn<QString>("format");
        for (const char* name : {"lns8.3", "lns6.1", "lns5.0", "lns12.6", "lns16.10", "lns24.20"})
            QTest::newRow(name) << QString(name);
    }
    void lnsErrorBound() {
        QFETCH(QString, format);
        const Format f = parseFormat(format.toStdString());
        const double bound = std::exp2(std::ldexp(1.0, -f.logFractionBits - 1)) - 1;
        const double logMin = std::log2(minNormal(f)), logMax = std::log2(maxFinite(f));
        std::mt19937_64 rng(3);
        std::uniform_real_distribution<double> logs(logMin, logMax);
        double worst = 0;
        for (int i = 0; i < 20000; ++i) {
            const double x = (i & 1 ? -1 : 1) * std::exp2(logs(rng));
            const double r = roundTo(x, f, Rounding::NearestEven);
            worst = std::max(worst, std::fabs(r / x - 1));
            KS_COMPARE_EXACT(roundTo(r, f, Rounding::NearestEven), r);  // values are fixed points
            QVERIFY(std::signbit(r) == std::signbit(x));
        }
        QVERIFY2(worst <= bound + 1e-14, qPrintable(QString("worst %1 bound %2").arg(worst).arg(bound)));
        QVERIFY(worst > bound * 0.5);  // the bound is approached, so the grid really is that coarse
    }

    void scaledIntegers() {
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, roundTo(1.0, parseFormat("int8"), Rounding::NearestEven));
        const std::vector<double> in{-2.0, 1.0, 0.5, 0.0, 1e-3, inf, kNaN};
        std::vector<double> out(in.size());
        const double scale = quantizeScaledInt(std::span<const double>(in), std::span<double>(out), 8);
        KS_COMPARE_EXACT(scale, 2.0 / 127);
        KS_COMPARE_EXACT(out[0], -2.0);
        // The definition: x / scale rounded to an integer, times the scale (2/127 is inexact).
        KS_COMPARE_EXACT(out[1], std::nearbyint(1.0 / scale) * scale);
        KS_COMPARE_EXACT(out[2], std::nearbyint(0.5 / scale) * scale);
        KS_COMPARE_EXACT(out[3], 0.0);
        KS_COMPARE_EXACT(out[4], 0.0);
        KS_COMPARE_EXACT(out[5], 2.0);  // saturates at +127 steps
        QVERIFY(std::isnan(out[6]));
        // roundArray with a per-tensor format is the same quantisation.
        std::vector<double> viaRoundArray(in.size());
        roundArray(std::span<const double>(in), std::span<double>(viaRoundArray), parseFormat("int8"));
        for (std::size_t i = 0; i < in.size(); ++i) QVERIFY(same(viaRoundArray[i], out[i]));
        // All zeros: scale 1, zeros out.
        const std::vector<float> zeros(5, 0.0f);
        std::vector<float> zout(5, 1.0f);
        KS_COMPARE_EXACT(quantizeScaledInt(std::span<const float>(zeros), std::span<float>(zout), 4), 1.0);
        QCOMPARE(ks::test::firstBitDifference(std::span<const float>(zout), std::span<const float>(zeros)),
                 std::ptrdiff_t{-1});
    }

    void inPlaceAndSizes() {
        std::vector<double> data{1 + 0x1p-11, 3.14159, -65520};
        roundInPlace(std::span<double>(data), Format::fp16());
        KS_COMPARE_EXACT(data[0], 1.0);
        KS_COMPARE_EXACT(data[1], 3.140625);
        QVERIFY(std::isinf(data[2]) && data[2] < 0);
        std::vector<double> shorter(2);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 roundArray(std::span<const double>(data), std::span<double>(shorter), Format::fp16()));
    }

private:
    static float hardwareHalfToFloat(unsigned short h) { return convertHalf(h); }
    __attribute__((target("f16c"))) static float convertHalf(unsigned short h) { return _cvtsh_ss(h); }
};

QTEST_APPLESS_MAIN(tst_Rounding)
#include "tst_rounding.moc"
