// sgemm against a double-precision triple loop: the four transpose combinations, sizes on both sides
// of every blocking edge (the micro-tile mr×nr, KC, MC, NC, the narrow kernel and the in-place-A
// path), leading dimensions wider than the matrices, accumulate on and off, one to three threads (three:
// shares of the B panel and of the rows that differ in size, some of them empty); for every kernel set
// this CPU runs (the avx512 set's 16-lane code at least as "avx512 tiles on avx2"), and with the blocking
// derived from small and large fake caches as well as the real ones.
// Padding of A and B holds NaN (reading it would poison C), C's padding a sentinel that must survive,
// and C starts as NaN when not accumulating (every element must be written).
#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/cpu_caches.hpp"
#include "base/isa.hpp"
#include "base/parallel.hpp"
#include "matmul/fma_peak.hpp"
#include "matmul/gemm.hpp"
#include "matmul/gemm_blocking.hpp"
#include "matmul/gemm_kernel.hpp"
#include "kernel_set_scope.hpp"
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

/// sgemm's kernel set and cache sizes for a scope, by name ("active": the default set; "detected": the
/// machine's caches; "small"/"large": fake ones).
class PlanScope {
public:
    PlanScope(const QString& kernels, const QString& caches) : kernels_(kernels) {
        if (caches == QLatin1String("small")) ks::setCacheSizes(ks::CacheSizes{4 << 10, 32 << 10, 256 << 10, {}});
        else if (caches == QLatin1String("large")) ks::setCacheSizes(ks::CacheSizes{64 << 10, 4 << 20, 1 << 30, {}});
    }
    ~PlanScope() { ks::setCacheSizes(std::nullopt); }
    PlanScope(const PlanScope&) = delete;
    PlanScope& operator=(const PlanScope&) = delete;

private:
    ks::test::KernelSetScope kernels_;
};

/// The (kernel set, caches) pairs a data-driven test runs: the active set on the real caches, every other
/// set this CPU runs, and the active set with small and large fake caches (KC 32, MC 72, NC 256 and
/// KC 512, MC 576 for the avx2 tiles).
struct PlanRow {
    QString kernels, caches;
    bool everyThreadCount;  ///< the first row: 1, 2 and 3 threads; the others 1 and 3
};
std::vector<PlanRow> planRows() {
    std::vector<PlanRow> rows = {{QStringLiteral("active"), QStringLiteral("detected"), true}};
    for (const ks::matmul::kernel::KernelSet* set : ks::matmul::kernel::runnableKernelSets())
        if (set != &ks::matmul::kernel::activeKernelSet())
            rows.push_back({QString::fromLatin1(set->name), QStringLiteral("detected"), false});
    rows.push_back({QStringLiteral("active"), QStringLiteral("small"), false});
    rows.push_back({QStringLiteral("active"), QStringLiteral("large"), false});
    return rows;
}

QByteArray planSuffix(const PlanRow& plan) {
    QByteArray suffix;
    if (plan.kernels != QLatin1String("active")) suffix += " [" + plan.kernels.toLatin1() + "]";
    if (plan.caches != QLatin1String("detected")) suffix += " [" + plan.caches.toLatin1() + " caches]";
    return suffix;
}

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
        {12, 32, 5},    // one 12×32 tile (the avx512 set's), and its edges
        {25, 65, 40},
        {24, 96, 300},
        {13, 11, 37},   // the dot-product kernel (9–12 columns, k ≥ 32) with a tail shorter than a vector
        {7, 12, 100},
        {9, 9, 33},
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
        QTest::addColumn<QString>("kernels");
        QTest::addColumn<QString>("caches");
        for (const PlanRow& plan : planRows())
            for (const Case& s : cases())
                for (Trans ta : {Trans::No, Trans::Yes})
                    for (Trans tb : {Trans::No, Trans::Yes})
                        for (bool accumulate : {false, true})
                            for (int threads : {1, 2, 3}) {
                                if (threads == 2 && !plan.everyThreadCount) continue;
                                const QByteArray name = QByteArray(transName(ta)) + transName(tb) + " " +
                                                        QByteArray::number(s.m) + "x" + QByteArray::number(s.n) + "x" +
                                                        QByteArray::number(s.k) + (accumulate ? " acc" : "") + " t" +
                                                        QByteArray::number(threads) + planSuffix(plan);
                                QTest::newRow(name.constData()) << int(ta) << int(tb) << qint64(s.m) << qint64(s.n)
                                                                << qint64(s.k) << accumulate << threads << plan.kernels
                                                                << plan.caches;
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
        QFETCH(QString, kernels);
        QFETCH(QString, caches);
        const PlanScope planScope(kernels, caches);
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
        QTest::addColumn<QString>("kernels");
        QTest::addColumn<QString>("caches");
        // The dot-product path (9 ≤ n ≤ 12, k ≥ 32), the narrow and wide kernels, several depth blocks
        // (KC = 256) and column blocks (NC = 4096), edges of every tile; both layouts of B.
        const Case shapes[] = {{0, 5, 40}, {5, 0, 40}, {7, 5, 0},     {1, 1, 1},    {13, 3, 31},   {13, 3, 32},
                               {9, 12, 700}, {9, 13, 700}, {25, 8, 20}, {61, 17, 513}, {3, 4100, 7}, {50, 64, 260},
                               {23, 8, 50},  {50, 128, 8}, {145, 8, 1100}, {26, 40, 70}};
        for (const PlanRow& plan : planRows())
            for (const Case& c : shapes)
                for (Trans tb : {Trans::No, Trans::Yes})
                    for (bool accumulate : {false, true})
                        for (int post = 0; post < 4; ++post) {
                            const bool bias = post & 1, relu = post & 2;
                            const QByteArray name = QByteArray(transName(tb)) + " " + QByteArray::number(c.m) + "x" +
                                                    QByteArray::number(c.n) + "x" + QByteArray::number(c.k) +
                                                    (accumulate ? " acc" : "") + (bias ? " bias" : "") +
                                                    (relu ? " relu" : "") + planSuffix(plan);
                            QTest::newRow(name.constData()) << int(tb) << qint64(c.m) << qint64(c.n) << qint64(c.k)
                                                            << accumulate << bias << relu << plan.kernels << plan.caches;
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
        QFETCH(QString, kernels);
        QFETCH(QString, caches);
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
        std::optional<PackedB> packed;
        {
            const PlanScope planScope(kernels, caches);
            sgemm(Trans::No, tb, m, n, k, a.data(), lda, b.data(), ldb, expected.data(), ldc, accumulate, 1);
            packed.emplace(tb, k, n, b.data(), ldb);
        }
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t j = 0; j < n; ++j) {
                float& v = expected[static_cast<std::size_t>(i * ldc + j)];
                if (bias) v += biasValues[static_cast<std::size_t>(j)];
                if (relu && v < 0.0f) v = 0.0f;
            }
        QCOMPARE(packed->k(), k);
        QCOMPARE(packed->n(), n);
        // Outside the scope: B keeps the kernels and blocking it was packed with, whatever is active now.
        sgemmPacked(m, a.data(), lda, *packed, got.data(), ldc, accumulate, Epilogue{bias ? biasValues.data() : nullptr, relu});
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

    // The blocking rules of gemm_blocking.hpp, worked by hand for three machines: Zen 3 (L1d 32 KiB, L2
    // 512 KiB, L3 32 MiB) with the avx2 tiles must give what was measured best there before the rules
    // existed (KC 256, narrow KC 1024, MC 144, NC 4096); Zen 5 (48 KiB, 1 MiB, 32 MiB) with the avx512
    // tiles: KC = 24 KiB / (32·4) = 192, narrow 48 KiB / 32 = 1536, MC = (9/32 MiB) / (192·4) = 384,
    // NC = min(4 MiB / 768 = 5461 → 4096); tiny caches (4 KiB, 32 KiB, 256 KiB) with the avx2 tiles: KC 32,
    // narrow 128, MC = 9216 / 128 = 72, NC = 32 KiB / 128 = 256 (narrow: 32 KiB / 512 = 64).
    void blockingFollowsTheCaches_data() {
        QTest::addColumn<QString>("set");
        QTest::addColumn<qint64>("l1d");
        QTest::addColumn<qint64>("l2");
        QTest::addColumn<qint64>("l3");
        QTest::addColumn<QList<qint64>>("expected");  // wide KC, MC, NC, narrow KC, MC, NC, L1 panel floats
        QTest::newRow("zen3 avx2") << "avx2" << qint64(32 << 10) << qint64(512 << 10) << qint64(32 << 20)
                                   << QList<qint64>{256, 144, 4096, 1024, 144, 1024, 8192};
        QTest::newRow("zen5 avx512") << "avx512 tiles on avx2" << qint64(48 << 10) << qint64(1 << 20) << qint64(32 << 20)
                                     << QList<qint64>{192, 384, 4096, 1536, 384, 680, 12288};
        QTest::newRow("tiny avx2") << "avx2" << qint64(4 << 10) << qint64(32 << 10) << qint64(256 << 10)
                                   << QList<qint64>{32, 72, 256, 128, 72, 64, 1024};
        QTest::newRow("no L3, generic") << "generic" << qint64(32 << 10) << qint64(256 << 10) << qint64(0)
                                        << QList<qint64>{512, 36, 4096, 1024, 36, 4096, 8192};
    }
    void blockingFollowsTheCaches() {
        QFETCH(QString, set);
        QFETCH(qint64, l1d);
        QFETCH(qint64, l2);
        QFETCH(qint64, l3);
        QFETCH(QList<qint64>, expected);
        const ks::matmul::kernel::KernelSet* kernels = nullptr;
        for (ks::Isa isa : {ks::Isa::Generic, ks::Isa::Avx2, ks::Isa::Avx512})  // by name: sets need not run here
            if (set == QLatin1String(ks::matmul::kernel::kernelSetFor(isa).name)) kernels = &ks::matmul::kernel::kernelSetFor(isa);
        for (const ks::matmul::kernel::KernelSet* runnable : ks::matmul::kernel::runnableKernelSets())
            if (set == QLatin1String(runnable->name)) kernels = runnable;
        if (!kernels) QSKIP("the set is not built for this CPU");
        const GemmPlan plan = gemmPlan(*kernels, ks::CacheSizes{l1d, l2, l3, {}});
        const QList<qint64> got{plan.wide.kc, plan.wide.mc, plan.wide.nc, plan.narrow.kc, plan.narrow.mc, plan.narrow.nc,
                                plan.l1PanelFloats};
        QCOMPARE(got, expected);
    }

    // The sets: generic and the detected one always; the 16-lane code runs wherever AVX2 does; a set the
    // CPU cannot run is refused by name; KS_ISA's choice is the active set.
    void kernelSetsForThisCpu() {
        using namespace ks::matmul::kernel;
        QStringList names;
        for (const KernelSet* set : runnableKernelSets()) names << QString::fromLatin1(set->name);
        QVERIFY2(names.contains(QStringLiteral("generic")), qPrintable(names.join(',')));
        QVERIFY2(names.contains(QString::fromStdString(ks::isaName(ks::detectedIsa()))), qPrintable(names.join(',')));
        QCOMPARE(names.contains(QStringLiteral("avx512 tiles on avx2")), ks::isaSupported(ks::Isa::Avx2));
        QCOMPARE(QString::fromLatin1(activeKernelSet().name), QString::fromStdString(ks::isaName(ks::activeIsa())));
        ks::setIsa(ks::Isa::Generic);
        QCOMPARE(QString::fromLatin1(activeKernelSet().name), QStringLiteral("generic"));
        QVERIFY(QString::fromStdString(sgemmKernelName()).startsWith(QStringLiteral("generic: wide 6x8")));
        ks::setIsa(std::nullopt);
        if (!ks::isaSupported(ks::Isa::Avx512))
            QVERIFY(ks::test::errorOf([] { setActiveKernelSet(&kernelSetFor(ks::Isa::Avx512)); }).contains("cannot run the avx512"));
    }

    // The FMA ceiling: a finite, positive rate for one and two threads in every set the CPU runs; bad
    // arguments named. (How fast is for `bench peak` to say, not for a unit test.)
    void fmaPeak() {
        using ks::test::errorOf;
        for (ks::Isa isa : {ks::Isa::Generic, ks::Isa::Avx2, ks::Isa::Avx512}) {
            if (!ks::isaSupported(isa)) {
                QVERIFY(errorOf([isa] { fmaPeakGflops(1, 0.01, isa); }).contains("cannot run"));
                continue;
            }
            QVERIFY(QString::fromStdString(fmaPeakKernel(isa)).startsWith(QString::fromStdString(ks::isaName(isa))));
            for (int threads : {1, 2}) {
                const double rate = fmaPeakGflops(threads, 0.01, isa);
                QVERIFY2(std::isfinite(rate) && rate > 0, qPrintable(QString::number(rate)));
            }
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
