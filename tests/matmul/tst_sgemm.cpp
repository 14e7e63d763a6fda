// sgemm against a double-precision triple loop: the four transpose combinations, sizes on both sides
// of every blocking edge (the micro-tile mr×nr, KC, MC, NC, the narrow kernel and the in-place-A
// path), leading dimensions wider than the matrices, accumulate on and off, one to three threads (three:
// shares of the B panel and of the rows that differ in size, some of them empty).
// Padding of A and B holds NaN (reading it would poison C), C's padding a sentinel that must survive,
// and C starts as NaN when not accumulating (every element must be written).
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/parallel.hpp"
#include "matmul/fma_peak.hpp"
#include "matmul/gemm.hpp"
#include "test_support.hpp"

using namespace ks::matmul;

namespace {

/// The parallel layer's thread count for a scope (a 3-thread row gets three threads on any machine).
class ThreadCountScope {
public:
    explicit ThreadCountScope(int threads) : saved_(ks::threadCount()) { ks::setThreadCount(threads); }
    ~ThreadCountScope() { ks::setThreadCount(saved_); }
    ThreadCountScope(const ThreadCountScope&) = delete;
    ThreadCountScope& operator=(const ThreadCountScope&) = delete;

private:
    int saved_;
};

constexpr float kSentinel = 12345.0f;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Case {
    std::int64_t m, n, k;
};

// Shapes chosen around the blocking of gemm.cpp: mr×nr = 6×16 and 12×8 (narrow kernel when n ≤ 8;
// generic 4×16, 4×8), A read in place when n ≤ 128 (packed above), KC = 256 (1024 for the narrow
// kernel, blocks of equal depth), MC = 144, NC = 4096; a short last sliver of rows read in place
// from mr rows before the edge when there are that many, packed otherwise; shallow products (a B
// panel in L1) by rows of tiles; odd primes; empty sizes.
// The ones of ≥ 2 MFLOP are split over the threads (by rows when m ≥ n, by columns otherwise).
std::vector<Case> cases() {
    std::vector<Case> list = {
        {0, 5, 3},    {5, 0, 3},    {5, 3, 0},    {0, 0, 0},     {1, 1, 1},     {6, 16, 1},    {5, 15, 7},
        {7, 17, 9},   {6, 8, 4},    {13, 8, 11},  {11, 7, 30},   {12, 9, 5},    {4, 33, 6},    {3, 31, 2},
        {97, 101, 103}, {31, 33, 255}, {19, 18, 257}, {143, 40, 17}, {145, 47, 13}, {150, 5, 260},
        {289, 24, 300}, {120, 290, 61}, {2, 4100, 3}, {600, 24, 150}, {60, 900, 41}, {400, 8, 513},
        {150, 140, 30}, {7, 129, 300}, {161, 136, 257},
        {5, 4, 70000},  // narrow and deep: 69 depth blocks of the narrow kernel
        {5, 10, 30000}, // 10 wide and deep: B stored k×n is too large to transpose for the dot kernel
        {11, 8, 40},    // narrow, fewer rows than a tile: the short sliver is packed
        {23, 5, 50},    // narrow, the short sliver read in place from the tile before
        {145, 8, 1100}, // narrow, two depth blocks of 550
        {50, 128, 8},   // shallow: tiles by rows, the edge of 2 rows from the tile before
        {31, 500, 16},  // shallow, A packed (n > 128), a 32 KiB panel by rows, edges in both directions
    };
#ifndef KS_SANITIZE
    // Larger ones: several KC and MC blocks, both splits (skipped under the sanitizers: ~20x slower).
    list.push_back({300, 200, 530});
    list.push_back({130, 520, 270});
    list.push_back({1000, 8, 784});  // the rank-8 layer's X·L: the threads' last slivers are short
    list.push_back({1000, 128, 8});  // and its T·R
#endif
    return list;
}

const char* transName(Trans t) { return t == Trans::No ? "N" : "T"; }

}  // namespace

class TestSgemm : public QObject {
    Q_OBJECT

private slots:
    void matchesDoubleReference_data() {
        QTest::addColumn<int>("transA");
        QTest::addColumn<int>("transB");
        QTest::addColumn<qint64>("m");
        QTest::addColumn<qint64>("n");
        QTest::addColumn<qint64>("k");
        QTest::addColumn<bool>("accumulate");
        QTest::addColumn<int>("threads");
        for (const Case& s : cases())
            for (Trans ta : {Trans::No, Trans::Yes})
                for (Trans tb : {Trans::No, Trans::Yes})
                    for (bool accumulate : {false, true})
                        for (int threads : {1, 2, 3}) {
                            const QByteArray name = QByteArray(transName(ta)) + transName(tb) + " " +
                                                    QByteArray::number(s.m) + "x" + QByteArray::number(s.n) + "x" +
                                                    QByteArray::number(s.k) + (accumulate ? " acc" : "") + " t" +
                                                    QByteArray::number(threads);
                            QTest::newRow(name.constData()) << int(ta) << int(tb) << qint64(s.m) << qint64(s.n)
                                                            << qint64(s.k) << accumulate << threads;
                        }
    }

    void matchesDoubleReference() {
        QFETCH(int, transA);
        QFETCH(int, transB);
        QFETCH(qint64, m);
        QFETCH(qint64, n);
        QFETCH(qint64, k);
        QFETCH(bool, accumulate);
        QFETCH(int, threads);
        const Trans ta = Trans(transA), tb = Trans(transB);
        // Stored shapes and leading dimensions wider than the rows (by a few, not by a multiple of 8).
        const std::int64_t aRows = ta == Trans::No ? m : k, aCols = ta == Trans::No ? k : m;
        const std::int64_t bRows = tb == Trans::No ? k : n, bCols = tb == Trans::No ? n : k;
        const std::int64_t lda = aCols + 3, ldb = bCols + 5, ldc = n + 2;

        std::mt19937_64 rng(static_cast<std::uint64_t>(m * 1000003 + n * 1009 + k * 7 + transA * 2 + transB));
        std::normal_distribution<float> normal;
        auto fill = [&](std::int64_t rows, std::int64_t cols, std::int64_t ld, float pad) {
            std::vector<float> v(static_cast<std::size_t>(std::max<std::int64_t>(rows * ld, 1)), pad);
            for (std::int64_t i = 0; i < rows; ++i)
                for (std::int64_t j = 0; j < cols; ++j) v[static_cast<std::size_t>(i * ld + j)] = normal(rng);
            return v;
        };
        const std::vector<float> a = fill(aRows, aCols, lda, kNaN), b = fill(bRows, bCols, ldb, kNaN);
        std::vector<float> c = accumulate ? fill(m, n, ldc, kSentinel) : std::vector<float>(std::max<std::size_t>(1, m * ldc), kNaN);
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = n; j < ldc; ++j) c[static_cast<std::size_t>(i * ldc + j)] = kSentinel;
        const std::vector<float> c0 = c;

        auto opA = [&](std::int64_t i, std::int64_t p) {
            return double(ta == Trans::No ? a[static_cast<std::size_t>(i * lda + p)] : a[static_cast<std::size_t>(p * lda + i)]);
        };
        auto opB = [&](std::int64_t p, std::int64_t j) {
            return double(tb == Trans::No ? b[static_cast<std::size_t>(p * ldb + j)] : b[static_cast<std::size_t>(j * ldb + p)]);
        };

        {
            const ThreadCountScope scope(threads);
            sgemm(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc, accumulate, threads);
        }

        constexpr double u = 1.0 / (1 << 24);  // float's unit roundoff
        for (std::int64_t i = 0; i < m; ++i) {
            for (std::int64_t j = 0; j < n; ++j) {
                const double start = accumulate ? double(c0[static_cast<std::size_t>(i * ldc + j)]) : 0.0;
                double exact = start, magnitude = std::fabs(start);
                for (std::int64_t p = 0; p < k; ++p) {
                    exact += opA(i, p) * opB(p, j);
                    magnitude += std::fabs(opA(i, p) * opB(p, j));
                }
                // Any summation order of k + 1 terms in float: |error| ≤ γ_{k+1} Σ|terms|.
                const double bound = double(k + 2) * u * magnitude;
                const double got = c[static_cast<std::size_t>(i * ldc + j)];
                if (!(std::fabs(got - exact) <= bound))
                    QFAIL(qPrintable(QString("C(%1,%2) = %3, expected %4 ± %5").arg(i).arg(j).arg(got, 0, 'g', 9).arg(exact, 0, 'g', 9).arg(bound)));
            }
            for (std::int64_t j = n; j < ldc; ++j)
                KS_COMPARE_EXACT(c[static_cast<std::size_t>(i * ldc + j)], kSentinel);
        }
    }

    void packedMatchesSgemmBitForBit_data() {
        QTest::addColumn<int>("transB");
        QTest::addColumn<qint64>("m");
        QTest::addColumn<qint64>("n");
        QTest::addColumn<qint64>("k");
        QTest::addColumn<bool>("accumulate");
        QTest::addColumn<bool>("bias");
        QTest::addColumn<bool>("relu");
        // The dot-product path (9 ≤ n ≤ 12, k ≥ 32), the narrow and wide kernels, several depth blocks
        // (KC = 256) and column blocks (NC = 4096), edges of every tile; both layouts of B.
        const Case shapes[] = {{0, 5, 40}, {5, 0, 40}, {7, 5, 0},     {1, 1, 1},    {13, 3, 31},   {13, 3, 32},
                               {9, 12, 700}, {9, 13, 700}, {25, 8, 20}, {61, 17, 513}, {3, 4100, 7}, {50, 64, 260},
                               {23, 8, 50},  {50, 128, 8}, {145, 8, 1100}};
        for (const Case& c : shapes)
            for (Trans tb : {Trans::No, Trans::Yes})
                for (bool accumulate : {false, true})
                    for (int post = 0; post < 4; ++post) {
                        const bool bias = post & 1, relu = post & 2;
                        const QByteArray name = QByteArray(transName(tb)) + " " + QByteArray::number(c.m) + "x" +
                                                QByteArray::number(c.n) + "x" + QByteArray::number(c.k) +
                                                (accumulate ? " acc" : "") + (bias ? " bias" : "") + (relu ? " relu" : "");
                        QTest::newRow(name.constData())
                            << int(tb) << qint64(c.m) << qint64(c.n) << qint64(c.k) << accumulate << bias << relu;
                    }
    }

    void packedMatchesSgemmBitForBit() {
        // sgemmPacked runs the same kernels on the same panels as a one-thread sgemm: not close, equal.
        // Its epilogue adds the bias to the finished sum and clamps, as a second pass in float would;
        // a NaN row of A checks that ReLU keeps NaN (as PyTorch's does).
        QFETCH(int, transB);
        QFETCH(qint64, m);
        QFETCH(qint64, n);
        QFETCH(qint64, k);
        QFETCH(bool, accumulate);
        QFETCH(bool, bias);
        QFETCH(bool, relu);
        const Trans tb = Trans(transB);
        const std::int64_t lda = k + 3, ldb = (tb == Trans::No ? n : k) + 2, ldc = n + 1;
        std::mt19937_64 rng(static_cast<std::uint64_t>(m * 131 + n * 17 + k));
        std::normal_distribution<float> normal;
        auto random = [&](std::int64_t count) {
            std::vector<float> v(static_cast<std::size_t>(std::max<std::int64_t>(count, 1)));
            for (float& x : v) x = normal(rng);
            return v;
        };
        std::vector<float> a = random(m * lda);
        const std::vector<float> b = random((tb == Trans::No ? k : n) * ldb), c0 = random(m * ldc), biasValues = random(n);
        if (m > 2 && k > 0) a[static_cast<std::size_t>(2 * lda)] = kNaN;
        std::vector<float> expected = c0, got = c0;
        sgemm(Trans::No, tb, m, n, k, a.data(), lda, b.data(), ldb, expected.data(), ldc, accumulate, 1);
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = 0; j < n; ++j) {
                float& v = expected[static_cast<std::size_t>(i * ldc + j)];
                if (bias) v += biasValues[static_cast<std::size_t>(j)];
                if (relu && v < 0.0f) v = 0.0f;
            }
        const PackedB packed(tb, k, n, b.data(), ldb);
        QCOMPARE(packed.k(), k);
        QCOMPARE(packed.n(), n);
        sgemmPacked(m, a.data(), lda, packed, got.data(), ldc, accumulate, Epilogue{bias ? biasValues.data() : nullptr, relu});
        // Equal, NaN where NaN (also: the padding columns of C, j ≥ n, untouched on both sides).
        QVERIFY(std::equal(got.begin(), got.end(), expected.begin(), [](float x, float y) {
            return std::memcmp(&x, &y, sizeof x) == 0 || (std::isnan(x) && std::isnan(y));
        }));
        if (m > 2 && k > 0 && n > 0) QVERIFY(std::isnan(got[static_cast<std::size_t>(2 * ldc)]));
    }

    void packedBadArgumentsAreNamed() {
        std::vector<float> x(64, 1.0f);
        using ks::test::errorOf;
        QVERIFY(errorOf([&] { PackedB(Trans::No, -1, 2, x.data(), 2); }).contains("negative size"));
        QVERIFY(errorOf([&] { PackedB(Trans::Yes, 4, 2, x.data(), 3); }).contains("ldb=3"));
        QVERIFY(errorOf([&] { PackedB(Trans::No, 2, 2, nullptr, 2); }).contains("null"));
        const PackedB packed(Trans::No, 3, 2, x.data(), 2);
        QVERIFY(errorOf([&] { sgemmPacked(2, x.data(), 2, packed, x.data(), 2); }).contains("lda=2"));
        QVERIFY(errorOf([&] { sgemmPacked(2, x.data(), 3, packed, x.data(), 1); }).contains("ldc=1"));
        QVERIFY(errorOf([&] { sgemmPacked(2, x.data(), 3, packed, x.data(), 2); }).isEmpty());
    }

    // The FMA ceiling: a finite, positive rate for one and two threads; bad arguments named.
    // (How fast is for `bench peak` to say, not for a unit test.)
    void fmaPeak() {
        using ks::test::errorOf;
        for (int threads : {1, 2}) {
            const double rate = fmaPeakGflops(threads, 0.01);
            QVERIFY2(std::isfinite(rate) && rate > 0, qPrintable(QString::number(rate)));
        }
        QVERIFY(errorOf([] { fmaPeakGflops(0, 0.1); }).contains("threads"));
        QVERIFY(errorOf([] { fmaPeakGflops(1, 0.0); }).contains("seconds"));
        QVERIFY(errorOf([] { fmaPeakGflops(1, std::nan("")); }).contains("seconds"));
    }

    void threadsZeroUsesTheDefaultTeam() {
        // 2·64·64·300 FLOPs: large enough to be split. Same result as one thread, bit for bit
        // (each element is computed by one thread in the same order either way).
        const std::int64_t m = 64, n = 64, k = 300;
        std::vector<float> a(m * k), b(k * n), c1(m * n), c0(m * n);
        for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(int(i * 37 % 101) - 50) / 16;
        for (std::size_t i = 0; i < b.size(); ++i) b[i] = float(int(i * 53 % 97) - 48) / 16;
        sgemm(Trans::No, Trans::No, m, n, k, a.data(), k, b.data(), n, c1.data(), n, false, 1);
        sgemm(Trans::No, Trans::No, m, n, k, a.data(), k, b.data(), n, c0.data(), n, false, 0);
        QVERIFY(c0 == c1);
    }

    void badArgumentsAreNamed() {
        std::vector<float> x(64, 1.0f);
        using ks::test::errorOf;
        QVERIFY(errorOf([&] { sgemm(Trans::No, Trans::No, -1, 2, 2, x.data(), 2, x.data(), 2, x.data(), 2); }).contains("negative size"));
        QVERIFY(errorOf([&] { sgemm(Trans::No, Trans::No, 2, 2, 3, x.data(), 2, x.data(), 2, x.data(), 2); }).contains("lda=2"));
        QVERIFY(errorOf([&] { sgemm(Trans::No, Trans::Yes, 2, 4, 3, x.data(), 3, x.data(), 2, x.data(), 4); }).contains("ldb=2"));
        QVERIFY(errorOf([&] { sgemm(Trans::No, Trans::No, 2, 4, 3, x.data(), 3, x.data(), 4, x.data(), 3); }).contains("ldc=3"));
        QVERIFY(errorOf([&] { sgemm(Trans::No, Trans::No, 2, 2, 2, nullptr, 2, x.data(), 2, x.data(), 2); }).contains("null"));
        QVERIFY(errorOf([&] { sgemm(Trans::No, Trans::No, 2, 2, 2, x.data(), 2, x.data(), 2, x.data(), 2, false, -1); }).contains("threads"));
        QVERIFY(errorOf([&] { sgemm(Trans::Yes, Trans::Yes, 2, 3, 4, x.data(), 2, x.data(), 4, x.data(), 3); }).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSgemm)
#include "tst_sgemm.moc"
