// OCP MX block scaling against the spec's definitions written out here: element values decoded from their bit
// fields (not from mx.cpp's tables), the nearest of them found by searching every code (ties to the even code),
// the scale from the block's largest magnitude; hand-worked blocks; the element formats' published maxima.
#include <QTest>

#include <cmath>
#include <limits>
#include <random>

#include "test_support.hpp"

#include "numeric/mx.hpp"

using namespace ks::numeric;

namespace {

/// Every code's value from its bits (sign bit excluded), NaN for the codes that are not numbers.
double decode(MxElement e, unsigned code) {
    if (e == MxElement::Int8) return code <= 127 ? code / 64.0 : std::nan("");
    int eb = 0, mb = 0;
    switch (e) {
        case MxElement::E4M3: eb = 4, mb = 3; break;
        case MxElement::E5M2: eb = 5, mb = 2; break;
        case MxElement::E3M2: eb = 3, mb = 2; break;
        case MxElement::E2M3: eb = 2, mb = 3; break;
        case MxElement::E2M1: eb = 2, mb = 1; break;
        case MxElement::Int8: break;
    }
    const unsigned E = code >> mb, M = code & ((1u << mb) - 1), allOnes = (1u << eb) - 1;
    if (e == MxElement::E5M2 && E == allOnes) return std::nan("");               // inf and NaN
    if (e == MxElement::E4M3 && E == allOnes && M == (1u << mb) - 1) return std::nan("");  // S.1111.111
    const int bias = (1 << (eb - 1)) - 1;
    return E == 0 ? std::ldexp(double(M), 1 - bias - mb) : std::ldexp(double((1u << mb) + M), int(E) - bias - mb);
}

unsigned codeCount(MxElement e) {
    switch (e) {
        case MxElement::E4M3: return 128;
        case MxElement::E5M2: return 128;
        case MxElement::E3M2:
        case MxElement::E2M3: return 32;
        case MxElement::E2M1: return 8;
        case MxElement::Int8: return 128;
    }
    return 0;
}

/// Nearest code by exhaustive search, ties to the even code, saturating at the largest finite value.
double referenceRound(double v, MxElement e) {
    double best = 0, bestDistance = INFINITY, largest = 0;
    unsigned bestCode = 0;
    for (unsigned c = 0; c < codeCount(e); ++c) {
        const double x = decode(e, c);
        if (std::isnan(x)) continue;
        largest = std::max(largest, x);
        const double d = std::fabs(std::fabs(v) - x);
        if (d < bestDistance || (d == bestDistance && c % 2 == 0 && bestCode % 2 == 1)) best = x, bestDistance = d, bestCode = c;
    }
    if (std::fabs(v) >= largest) best = largest;
    return std::copysign(best, v);
}

const MxElement kAll[] = {MxElement::E4M3, MxElement::E5M2, MxElement::E3M2, MxElement::E2M3, MxElement::E2M1, MxElement::Int8};

}  // namespace

class tst_Mx : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void publishedMaxima() {
        QCOMPARE(mxElementMagnitudes(MxElement::E2M1), (std::vector<double>{0, 0.5, 1, 1.5, 2, 3, 4, 6}));
        KS_COMPARE_EXACT(mxElementMagnitudes(MxElement::E2M3).back(), 7.5);
        KS_COMPARE_EXACT(mxElementMagnitudes(MxElement::E3M2).back(), 28.0);
        KS_COMPARE_EXACT(mxElementMagnitudes(MxElement::E4M3).back(), 448.0);
        KS_COMPARE_EXACT(mxElementMagnitudes(MxElement::E5M2).back(), 57344.0);
        KS_COMPARE_EXACT(mxElementMagnitudes(MxElement::Int8).back(), 127.0 / 64);
        // emax is the exponent of each largest normal.
        for (MxElement e : kAll)
            if (e != MxElement::Int8)
                QCOMPARE(std::ilogb(mxElementMagnitudes(e).back()), mxElementEmax(e));
    }

    void roundingMatchesExhaustiveSearch() {
        std::mt19937 random(5);
        std::uniform_real_distribution<double> unit(-1.0, 1.0);
        for (MxElement e : kAll) {
            const double top = mxElementMagnitudes(e).back();
            for (int i = 0; i < 4000; ++i) {
                const double v = unit(random) * top * 1.2;
                KS_COMPARE_EXACT(roundToMxElement(v, e), referenceRound(v, e));
            }
            // Every midpoint between neighbours: the ties.
            const auto& grid = mxElementMagnitudes(e);
            for (std::size_t k = 1; k < grid.size(); ++k) {
                const double mid = (grid[k - 1] + grid[k]) / 2;
                KS_COMPARE_EXACT(roundToMxElement(mid, e), referenceRound(mid, e));
                KS_COMPARE_EXACT(roundToMxElement(-mid, e), referenceRound(-mid, e));
            }
        }
    }

    // Blocks worked by hand (mxfp4: E2M1, emax 2).
    void handWorkedBlocks() {
        // amax a power of two: 8 → shared exponent 3 − 2 = 1, X = 2; 8/2 = 4 → 8; 1/2 = 0.5 → 1; 3/2 = 1.5 → 3.
        std::vector<float> in = {8, 1, 3, -2}, out(4);
        mxQuantize(in, out, 4, MxElement::E2M1, 4);
        QCOMPARE(out, (std::vector<float>{8, 1, 3, -2}));
        // amax just below one: floor(log2 0.99) = −1, X = 2^-3; 0.99 / X = 7.92 saturates at 6 → 0.75.
        in = {0.99f, 0.1f, 0.0f, -0.5f};
        mxQuantize(in, out, 4, MxElement::E2M1, 4);
        // 0.1 / 0.125 = 0.8 → 1 (nearer than 0.5) → 0.125; −0.5 / 0.125 = −4 → −0.5.
        QCOMPARE(out, (std::vector<float>{0.75f, 0.125f, 0.0f, -0.5f}));
        // An all-zero block stays zero (scale 2^-127).
        in = {0, 0, -0.0f, 0};
        mxQuantize(in, out, 4, MxElement::E2M1, 4);
        for (float v : out) QCOMPARE(v, 0.0f);
        QCOMPARE(mxSharedExponent(0, MxElement::E2M1), std::optional<int>(-127));
        // A NaN (or an infinity) makes the block's scale NaN; the next block is untouched.
        in = {1, std::nanf(""), 2, 3, 4, 1, 2, 3};
        out.assign(8, 0);
        mxQuantize(in, out, 8, MxElement::E2M1, 4);
        for (int i = 0; i < 4; ++i) QVERIFY(std::isnan(out[std::size_t(i)]));
        QCOMPARE(std::vector<float>(out.begin() + 4, out.end()), (std::vector<float>{4, 1, 2, 3}));
        QVERIFY(!mxSharedExponent(INFINITY, MxElement::E4M3));
        // The shared exponent stays in E8M0's range.
        QCOMPARE(mxSharedExponent(0x1p-149, MxElement::E5M2), std::optional<int>(-127));
        QCOMPARE(mxSharedExponent(0x1p127, MxElement::Int8), std::optional<int>(127));
    }

    // Random rows against the definition written out: scale from the block's amax, elements by exhaustive search.
    void randomRowsMatchTheDefinition() {
        std::mt19937 random(11);
        std::normal_distribution<float> normal(0.0f, 3.0f);
        for (MxElement e : kAll) {
            const std::int64_t rowLength = 70;  // two full blocks of 32 and a short one of 6
            std::vector<float> in(3 * rowLength), out(in.size());
            for (float& v : in) v = normal(random) * (random() % 2 ? 1.0f : 1e-3f);
            mxQuantize(in, out, rowLength, e, 32);
            for (std::size_t row = 0; row < 3; ++row)
                for (std::int64_t start = 0; start < rowLength; start += 32) {
                    const std::size_t b = row * rowLength + std::size_t(start);
                    const std::size_t end = std::min<std::size_t>(b + 32, (row + 1) * rowLength);
                    double amax = 0;
                    for (std::size_t i = b; i < end; ++i) amax = std::max(amax, std::fabs(double(in[i])));
                    const int shared = int(std::floor(std::log2(amax))) - mxElementEmax(e);
                    for (std::size_t i = b; i < end; ++i)
                        KS_COMPARE_EXACT(out[i], float(std::ldexp(referenceRound(std::ldexp(double(in[i]), -shared), e), shared)));
                }
        }
    }

    void badShapesAreRefused() {
        std::vector<float> in(6), out(6), shorter(5);
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, mxQuantize(in, out, 4, MxElement::E2M1));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, mxQuantize(in, shorter, 6, MxElement::E2M1));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, mxQuantize(in, out, 6, MxElement::E2M1, 0));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, mxQuantize(in, out, 0, MxElement::E2M1));
    }
};

QTEST_APPLESS_MAIN(tst_Mx)
#include "tst_mx.moc"
