// The log-domain pieces on their own: the LNS codec against numeric::roundTo, the Gaussian-log adder
// against log2 of the true sum, NVIDIA's binned accumulator against exact sums of the quantised
// products (and its error bound with b-bit constants), the public reference values, the sequential
// vs binned experiment at 3 fraction bits, and the accumulator's range events.
#include <QTest>
#include <cmath>
#include <random>

#include "matmul/lns_binned.hpp"
#include "matmul/lns_sequential.hpp"
#include "matmul/log_code.hpp"
#include "matmul/matmul_registry.hpp"
#include "matmul_test_util.hpp"
#include "test_support.hpp"
#include "numeric/arithmetic.hpp"
#include "numeric/format.hpp"

using namespace ks;
using namespace ks::matmul;
using namespace ks::matmul::test;

namespace {

std::vector<LogCode> randomCodes(std::size_t count, int fractionBits, std::int32_t eSpread, bool mixedSigns,
                                 std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::int32_t> e(-eSpread, eSpread);
    std::vector<LogCode> out;
    for (std::size_t i = 0; i < count; ++i)
        out.push_back(LogCode::of(mixedSigns && (rng() & 1), e(rng) * 1 + 0 * fractionBits));
    return out;
}

/// Σ ±2^(e/n) in long double, and Σ 2^(e/n).
std::pair<long double, long double> exactSum(const std::vector<LogCode>& codes, int fractionBits) {
    long double s = 0, abs = 0;
    for (const auto& c : codes) {
        if (c.zero) continue;
        const long double v = std::exp2l((long double)c.e / (long double)(1 << fractionBits));
        s += c.negative ? -v : v;
        abs += v;
    }
    return {s, abs};
}

double binnedDotRelativeError(const std::vector<float>& x, const std::vector<float>& y, int fractionBits,
                              const char* method, GaussianLogPolicy policy) {
    MatmulOptions o;
    o.logFormat = numeric::Format::logarithmic(6, fractionBits);
    o.sequential.policy = policy;
    const auto k = static_cast<std::int64_t>(x.size());
    const TensorF a({1, k}, x), b({k, 1}, y);
    const double c = ks::matmul::matmul(a, b, method, o)[0];
    long double exact = 0;
    for (std::size_t i = 0; i < x.size(); ++i) exact += (long double)x[i] * y[i];
    return std::fabs(c - double(exact)) / double(exact);
}

}  // namespace

class TestLns : public QObject {
    Q_OBJECT

private slots:
    void codecAgreesWithNumericRounding_data() {
        QTest::addColumn<QString>("format");
        for (const char* f : {"lns8.3", "lns12.8", "lns16.10", "lns6.0", "lns20.12"}) QTest::addRow("%s", f) << QString(f);
    }
    void codecAgreesWithNumericRounding() {
        QFETCH(QString, format);
        const numeric::Format f = numeric::parseFormat(format.toStdString());
        const LogCodec codec = LogCodec::fromFormat(f);
        std::mt19937_64 rng(3);
        std::uniform_real_distribution<double> exponent(-40.0, 40.0);
        for (int i = 0; i < 20000; ++i) {
            const double x = (rng() & 1 ? -1 : 1) * std::exp2(exponent(rng));
            const double mine = codec.decode(codec.encode(x));
            const double numeric = numeric::roundTo(x, f, numeric::Rounding::NearestEven);
            if (mine != numeric)
                QFAIL(qPrintable(QString("%1: codec %2, roundTo %3").arg(x, 0, 'g', 17).arg(mine, 0, 'g', 17).arg(numeric, 0, 'g', 17)));
        }
        KS_COMPARE_EXACT(codec.decode(codec.encode(0.0)), 0.0);
    }

    void codecCountsRangeEvents() {
        const LogCodec codec(4, 3);  // lns8.3: codes ±63, magnitudes 2^(−63/8) … 2^(63/8)
        RangeCounts counts;
        QCOMPARE(codec.encode(1e6, &counts).e, 63);
        QCOMPARE(codec.encode(-INFINITY, &counts).e, 63);
        QVERIFY(codec.encode(1e-6, &counts).zero);
        QVERIFY(!codec.encode(std::exp2(-63.0 / 8), &counts).zero);
        QCOMPARE(counts.overflows, std::int64_t{2});
        QCOMPARE(counts.underflows, std::int64_t{1});
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, codec.encode(NAN));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, LogCodec::fromFormat(numeric::Format::fp16()));
    }

    // Exact policy: log2|a ± b| rounded to the grid; since log2|a| is on the grid this is
    // e_a + round(n·sb(d)), which must equal rounding n·log2 of the true sum directly.
    void exactGaussianAdditionIsTheRoundedTrueSum_data() {
        QTest::addColumn<int>("fractionBits");
        for (int f : {0, 3, 8, 12}) QTest::addRow("F=%d", f) << f;
    }
    void exactGaussianAdditionIsTheRoundedTrueSum() {
        QFETCH(int, fractionBits);
        const GaussianLogAdder adder(fractionBits, GaussianLogPolicy::Exact);
        const GaussianLogAdder table(fractionBits, GaussianLogPolicy::Table);  // full index resolution
        const double n = std::ldexp(1.0, fractionBits);
        std::mt19937_64 rng(5);
        std::uniform_int_distribution<std::int32_t> e(-20 * int(n), 20 * int(n));
        for (int i = 0; i < 5000; ++i) {
            const LogCode a = LogCode::of(rng() & 1, e(rng)), b = LogCode::of(rng() & 1, e(rng));
            const double va = decodeLog(a, fractionBits), vb = decodeLog(b, fractionBits);
            const LogCode sum = adder.add(a, b);
            const LogCode viaTable = table.add(a, b);
            QCOMPARE(viaTable.zero, sum.zero);
            QCOMPARE(viaTable.e, sum.e);
            if (va + vb == 0) {
                QVERIFY(sum.zero);
                continue;
            }
            const double scaled = n * std::log2(std::fabs(va + vb));
            if (std::fabs(scaled - std::floor(scaled) - 0.5) < 1e-9) continue;  // a tie: either is right
            QCOMPARE(sum.e, static_cast<std::int32_t>(std::nearbyint(scaled)));
            QCOMPARE(sum.negative, va + vb < 0);
        }
    }

    void binnedWithExactConstantsIsExact_data() {
        QTest::addColumn<int>("fractionBits");
        QTest::addColumn<int>("length");
        QTest::addColumn<bool>("mixedSigns");
        for (int f : {0, 1, 3, 5, 8})
            for (int len : {1, 16, 256, 4096})
                for (bool mixed : {false, true}) QTest::addRow("F=%d K=%d %s", f, len, mixed ? "±" : "+") << f << len << mixed;
    }
    void binnedWithExactConstantsIsExact() {
        QFETCH(int, fractionBits);
        QFETCH(int, length);
        QFETCH(bool, mixedSigns);
        LnsBinnedOptions options;  // LSB 2^−32, 62 bits: products 2^−16…2^16 fit with room for 4096 of them
        BinnedAccumulator acc(fractionBits, options);
        const auto codes = randomCodes(static_cast<std::size_t>(length), fractionBits, 16 << fractionBits, mixedSigns, 7 + length);
        for (const auto& c : codes) acc.add(c);
        const auto [exact, magnitude] = exactSum(codes, fractionBits);
        const double relative = std::fabs(acc.sum() - double(exact)) / double(magnitude);
        QVERIFY2(relative <= 1e-12, qPrintable(QString::number(relative)));
        QCOMPARE(acc.counts().overflows + acc.counts().underflows, std::int64_t{0});
    }

    // With constants rounded to b fraction bits: |S̃ − S| ≤ δ_b·Σ|p|, δ_b = max|c̃/c − 1| ≤ 2^−(b+1).
    void binnedConstantPrecisionBound_data() {
        QTest::addColumn<int>("fractionBits");
        QTest::addColumn<int>("constantBits");
        for (int f : {3, 5, 8})
            for (int b : {4, 6, 8, 10, 12}) QTest::addRow("F=%d b=%d", f, b) << f << b;
    }
    void binnedConstantPrecisionBound() {
        QFETCH(int, fractionBits);
        QFETCH(int, constantBits);
        LnsBinnedOptions options;
        options.constantBits = constantBits;
        BinnedAccumulator acc(fractionBits, options);
        const double delta = acc.constantRelativeError();
        QVERIFY(delta <= std::ldexp(1.0, -(constantBits + 1)));
        double worstRatio = 0;
        for (int trial = 0; trial < kSeeds; ++trial) {
            acc.reset();
            const auto codes = randomCodes(1024, fractionBits, 8 << fractionBits, trial % 2 == 1, 100 + trial);
            for (const auto& c : codes) acc.add(c);
            const auto [exact, magnitude] = exactSum(codes, fractionBits);
            const double error = std::fabs(acc.sum() - double(exact));
            QVERIFY2(error <= delta * double(magnitude) * (1 + 1e-9) + 1e-12 * double(magnitude),
                     qPrintable(QString("%1 > %2").arg(error).arg(delta * double(magnitude))));
            worstRatio = std::max(worstRatio, error / double(magnitude));
        }
        if (fractionBits == 8 && constantBits == 8) qInfo("8-bit constants: worst error / Σ|p| = %.2e (bound %.2e)", worstRatio, delta);
    }

    void publicEightBitDesignConstants() {
        LnsBinnedOptions options;
        options.constantBits = 8;
        // round(256·2^(r/8)) = 256, 279, 304, 332, 362, 395, 431, 470: check through exact single products.
        const int expected[] = {256, 279, 304, 332, 362, 395, 431, 470};
        for (int r = 0; r < 8; ++r) {
            BinnedAccumulator acc(3, options);
            acc.add(LogCode::of(false, r));  // 2^(r/8)
            KS_COMPARE_EXACT(acc.sum() * 256.0, double(expected[r]));
        }
    }

    // xlns's "dally" configuration: [1, 2, 3, 4] quantised with 8 fraction bits sums to 9.9888 with the
    // binned method and 10.0159 with ideal LNS addition. The binned figure is the exact sum of the
    // quantised values (10.0020) converted back to the log format: nearest (midpoints of the table)
    // and truncation both give code 850, 2^(850/256) = 9.98881; without convert-back it is 10.0020.
    void publicReferenceOneTwoThreeFour_data() {
        QTest::addColumn<QString>("method");
        QTest::addColumn<int>("convertBack");
        QTest::addColumn<double>("expected");
        QTest::addRow("binned, no convert-back") << "lns-binned" << int(ConvertBack::None) << 10.0020281;
        QTest::addRow("binned, convert-back nearest") << "lns-binned" << int(ConvertBack::Nearest) << 9.9888078;
        QTest::addRow("binned, convert-back truncate") << "lns-binned" << int(ConvertBack::Truncate) << 9.9888078;
        QTest::addRow("sequential, ideal addition") << "lns-sequential" << 0 << 10.0158902;
    }
    void publicReferenceOneTwoThreeFour() {
        QFETCH(QString, method);
        QFETCH(int, convertBack);
        QFETCH(double, expected);
        MatmulOptions o;
        o.logFormat = numeric::parseFormat("lns12.8");  // 1 sign, 3 integer, 8 fraction bits
        o.binned.convertBack = static_cast<ConvertBack>(convertBack);
        const TensorF a({1, 4}, {1, 2, 3, 4}), ones({4, 1}, {1, 1, 1, 1});
        const float c = ks::matmul::matmul(a, ones, method.toStdString(), o)[0];
        QVERIFY2(std::fabs(c - expected) < 2e-6 * expected, qPrintable(QString::number(c, 'g', 9)));
        QCOMPARE(QString::number(c, 'f', 4), QString::number(expected, 'f', 4));
    }

    void convertBackIsNearestInTheLinearDomain() {
        // With exact constants, convert-back (nearest) must pick the same code as the codec's linear-domain
        // rounding of the same sum; truncation the code just below.
        const int f = 5;
        LnsBinnedOptions options;
        const BinnedAccumulator acc(f, options);
        const LogCodec codec(8, f);
        std::mt19937_64 rng(9);
        std::uniform_real_distribution<double> x(-30.0, 30.0);
        for (int i = 0; i < 5000; ++i) {
            const double s = (rng() & 1 ? -1 : 1) * std::exp2(x(rng));
            const LogCode nearest = acc.convertBack(s, ConvertBack::Nearest);
            QCOMPARE(nearest.e, codec.encode(s).e);
            QCOMPARE(nearest.negative, s < 0);
            const LogCode truncated = acc.convertBack(s, ConvertBack::Truncate);
            QVERIFY(decodeLog(truncated, f) * (s < 0 ? -1 : 1) <= std::fabs(s) * (1 + 1e-15));
            QVERIFY(std::exp2(double(truncated.e + 1) / 32) > std::fabs(s));
        }
    }

    void hybridBinningWithinMitchellBound_data() {
        QTest::addColumn<int>("fractionBits");
        QTest::addColumn<int>("binBits");
        QTest::addRow("F=8 h=8 (plain)") << 8 << 8;
        QTest::addRow("F=8 h=4") << 8 << 4;
        QTest::addRow("F=8 h=2") << 8 << 2;
        QTest::addRow("F=6 h=0") << 6 << 0;
    }
    void hybridBinningWithinMitchellBound() {
        QFETCH(int, fractionBits);
        QFETCH(int, binBits);
        LnsBinnedOptions options;
        options.binBits = binBits;
        BinnedAccumulator acc(fractionBits, options);
        QCOMPARE(acc.bins(), 1 << binBits);
        // 2^x ≈ 1 + x for x = low/n ∈ [0, 2^−h): relative error (1 + x)/2^x − 1 ∈ [0, max over the grid].
        const int n = 1 << fractionBits, lowCount = 1 << (fractionBits - binBits);
        double bound = 0;
        for (int low = 0; low < lowCount; ++low) bound = std::max(bound, (1.0 + double(low) / n) / std::exp2(double(low) / n) - 1);
        const auto codes = randomCodes(2048, fractionBits, 10 << fractionBits, false, 77);
        for (const auto& c : codes) acc.add(c);
        const auto [exact, magnitude] = exactSum(codes, fractionBits);
        const double error = acc.sum() - double(exact);
        QVERIFY(error >= -1e-12 * double(magnitude));  // Mitchell's 1 + x ≥ 2^x on [0, 1]: never low
        QVERIFY2(error <= (bound + 1e-12) * double(magnitude), qPrintable(QString("%1 vs %2").arg(error / double(magnitude)).arg(bound)));
        if (binBits == fractionBits) QVERIFY(std::fabs(error) <= 1e-12 * double(magnitude));
    }

    void accumulatorRangeEventsAreCounted() {
        LnsBinnedOptions options;
        options.accumulatorLsb = 0;
        options.accumulatorBits = 8;  // integers 0…255
        BinnedAccumulator acc(3, options);
        acc.add(LogCode::of(false, -8));  // 2^−1: below the LSB, lost
        QCOMPARE(acc.counts().underflows, std::int64_t{1});
        acc.add(LogCode::of(false, 8 * 9));  // 2^9: above the top bit
        QCOMPARE(acc.counts().overflows, std::int64_t{1});
        acc.reset();
        acc.clearCounts();
        for (int i = 0; i < 300; ++i) acc.add(LogCode::of(true, 0));  // −1 three hundred times
        QCOMPARE(acc.counts().overflows, std::int64_t{300 - 255});
        KS_COMPARE_EXACT(acc.sum(), -255.0);  // saturated, and said so
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, BinnedAccumulator(3, LnsBinnedOptions{0, 63, 0, -1, ConvertBack::None}));
    }

    // At 3 fraction bits on length-256 dot products, sequential LNS addition stagnates (an addend below
    // ≈ 1/22 of the sum rounds away) while the binned sum only carries the input quantisation.
    void sequentialIsWorseThanBinnedAtThreeFractionBits() {
        double sequential = 0, mitchell = 0, binned = 0;
        const int trials = kSeeds * 4;
        for (int t = 0; t < trials; ++t) {
            const TensorF x = uniformMatrix(1, 256, 500 + t), y = uniformMatrix(1, 256, 900 + t);
            sequential += binnedDotRelativeError(x.storage(), y.storage(), 3, "lns-sequential", GaussianLogPolicy::Exact);
            mitchell += binnedDotRelativeError(x.storage(), y.storage(), 3, "lns-sequential", GaussianLogPolicy::Mitchell);
            binned += binnedDotRelativeError(x.storage(), y.storage(), 3, "lns-binned", GaussianLogPolicy::Exact);
        }
        sequential /= trials;
        mitchell /= trials;
        binned /= trials;
        qInfo("F=3, K=256, uniform [0,1) operands, mean relative error: sequential exact %.1f %%, Mitchell %.1f %%, "
              "binned %.2f %%", 100 * sequential, 100 * mitchell, 100 * binned);
        QVERIFY(binned < 0.01);
        QVERIFY(sequential > 0.05);
        QVERIFY(sequential > 10 * binned);
        QVERIFY(mitchell > sequential);
    }

    void tableWithCoarseIndexDiffersFromExact() {
        const GaussianLogAdder exact(8, GaussianLogPolicy::Exact);
        const GaussianLogAdder coarse(8, GaussianLogPolicy::Table, 3);
        int differ = 0;
        for (std::int32_t d = 0; d < 8 * 256; ++d) differ += exact.add(LogCode::of(false, 0), LogCode::of(false, -d)).e !=
                                                             coarse.add(LogCode::of(false, 0), LogCode::of(false, -d)).e;
        QVERIFY(differ > 0);
    }
};

QTEST_APPLESS_MAIN(TestLns)
#include "tst_lns.moc"
