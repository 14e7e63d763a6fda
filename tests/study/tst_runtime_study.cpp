// The runtime study: find lists every registry algorithm (unsupported ones with their reason), times
// are positive, float32 errors are small against the double reference, and runtime vs size has a
// row per algorithm and size. No timing assertions beyond "a time was measured".
#include <QtTest>

#include "test_support.hpp"

#include <atomic>
#include <cmath>

#include "conv/conv_registry.hpp"
#include "matmul/matmul_registry.hpp"
#include "study/runtime_study.hpp"

using namespace ks;

namespace {

TimingOptions quickTiming() { return TimingOptions{0, 1, 1, 0.0}; }

std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
}

}  // namespace

class tst_RuntimeStudy : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void convFindListsEveryAlgorithm_data() {
        QTest::addColumn<int>("kernel");
        QTest::addColumn<bool>("winogradRuns");
        QTest::newRow("3x3") << 3 << true;
        QTest::newRow("5x5") << 5 << false;  // Winograd here is F(m×m, 3×3): it must say why not
    }
    void convFindListsEveryAlgorithm() {
        QFETCH(int, kernel);
        QFETCH(bool, winogradRuns);
        study::RuntimeFind f;
        f.conv = conv::ConvProblem::single(29, 23, kernel, kernel);
        f.timing = quickTiming();
        const study::Table t = study::runRuntimeFind(f);
        std::vector<std::string> expected;
        for (const auto* a : conv::convAlgorithms()) expected.push_back(a->name());
        QCOMPARE(sorted(t.labels("algorithm")), sorted(expected));
        bool seenUnsupported = false;
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            const std::string& name = t.labels("algorithm")[r];
            const std::string& status = t.labels("status")[r];
            KS_COMPARE_EXACT(t.numbers("index")[r], double(r));
            if (name.rfind("winograd", 0) == 0) QCOMPARE(status == "ok", winogradRuns);
            if (status != "ok") {
                QVERIFY2(!status.empty(), name.c_str());
                QVERIFY(std::isnan(t.numbers("median_ms")[r]));
                seenUnsupported = true;
                continue;
            }
            QVERIFY2(!seenUnsupported, "supported algorithms come before unsupported ones");
            QVERIFY(t.numbers("median_ms")[r] > 0);
            QVERIFY(t.numbers("gflops")[r] > 0);
            QVERIFY(t.numbers("workspace_bytes")[r] >= 0);
            // Data uniform[-1, 1], sums of ≤ 25 terms: float32 errors stay far below 1e-4.
            QVERIFY2(t.numbers("max_abs_error")[r] < 1e-4, name.c_str());
            if (r > 0 && t.labels("status")[r - 1] == "ok") QVERIFY(t.numbers("median_ms")[r - 1] <= t.numbers("median_ms")[r]);
        }
        QCOMPARE(seenUnsupported, !winogradRuns);
    }

    void matmulFindListsEveryMethod() {
        study::RuntimeFind f;
        f.operation = study::Operation::Matmul;
        f.m = 24, f.k = 40, f.n = 17;
        f.svdRank = 0;  // B exactly: the error must be float32 rounding only
        f.timing = quickTiming();
        const study::Table t = study::runRuntimeFind(f);
        QCOMPARE(sorted(t.labels("algorithm")), sorted(matmul::matmulAlgorithmNames()));
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            const std::string& name = t.labels("algorithm")[r];
            QCOMPARE(t.labels("status")[r], std::string("ok"));
            QVERIFY(t.numbers("median_ms")[r] > 0);
            // lns16.10 quantises operands to a relative step of 2^(1/1024) − 1 ≈ 6.8e-4; 40-term sums
            // of products below 1 stay under 40 · 1e-3. Everything else is float32 rounding.
            const double bound = name.rfind("lns", 0) == 0 ? 0.04 : 1e-4;
            QVERIFY2(t.numbers("max_abs_error")[r] < bound, name.c_str());
        }
    }

    void matmulSvdRankAndSlowMethodsSkipped() {
        study::RuntimeFind f;
        f.operation = study::Operation::Matmul;
        f.m = 32, f.k = 48, f.n = 40;
        f.svdRank = 4;
        f.maxElementwiseMacs = 1000;  // everything element-wise is "too slow" here
        f.timing = quickTiming();
        const study::Table t = study::runRuntimeFind(f);
        QCOMPARE(sorted(t.labels("algorithm")), sorted(matmul::matmulAlgorithmNames()));
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            const std::string& name = t.labels("algorithm")[r];
            const std::string& status = t.labels("status")[r];
            if (name == "naive" || name == "log" || name.rfind("lns", 0) == 0) {
                QVERIFY2(status.rfind("skipped", 0) == 0, status.c_str());
                QVERIFY(std::isnan(t.numbers("median_ms")[r]));
            } else {
                QCOMPARE(status, std::string("ok"));
            }
            if (name == "svd") {
                QVERIFY(t.labels("note")[r].find("rank 4") != std::string::npos);
                // Rank 4 of a random 48×40 matrix loses most of it: the error is large, and reported.
                QVERIFY(t.numbers("max_abs_error")[r] > 0.1);
            }
        }
    }

    void scalingHasEveryAlgorithmAndSize() {
        study::RuntimeScaling s;
        s.base.timing = quickTiming();
        s.base.conv = conv::ConvProblem::single(8, 8, 5, 5);
        s.sizes = {4, 16, 32};
        const study::Table t = study::runRuntimeScaling(s);
        const std::size_t algorithms = conv::convAlgorithms().size();
        QCOMPARE(t.rowCount(), algorithms * 3);
        for (std::size_t r = 0; r < t.rowCount(); ++r) {
            const double size = t.numbers("size")[r];
            const std::string& status = t.labels("status")[r];
            if (size == 4) QVERIFY(status.find("larger") != std::string::npos);  // 5×5 kernel, 4×4 image
            if (status == "ok") QVERIFY(t.numbers("median_ms")[r] > 0);
        }
        const study::ChartSpec spec = study::runtimeScalingChart(s);
        QVERIFY(t.hasColumn(spec.xColumn) && t.hasColumn(spec.yColumn) && t.hasColumn(spec.seriesColumn));
        QVERIFY(spec.xLog && spec.yLog);
    }

    void findChartReadsTheTable() {
        study::RuntimeFind f;
        f.conv = conv::ConvProblem::single(16, 16, 3, 3);
        f.timing = quickTiming();
        const study::Table t = study::runRuntimeFind(f);
        const study::ChartSpec spec = study::runtimeFindChart(f);
        QVERIFY(t.hasColumn(spec.xColumn) && t.hasColumn(spec.yColumn) && t.hasColumn(spec.seriesColumn));
    }

    void cancelStopsBetweenAlgorithms() {
        std::atomic<bool> cancel{false};
        int steps = 0;
        const Progress progress([&](double) {
            if (++steps == 2) cancel = true;  // after the first algorithm
        }, &cancel);
        study::RuntimeFind f;
        f.conv = conv::ConvProblem::single(16, 16, 3, 3);
        f.timing = quickTiming();
        QVERIFY_THROWS_EXCEPTION(Cancelled, study::runRuntimeFind(f, progress));
        QCOMPARE(steps, 2);
    }

    void badInputIsNamed() {
        study::RuntimeFind f;
        f.algorithms = {"no-such-algorithm"};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, study::runRuntimeFind(f));
        study::RuntimeScaling s;
        s.sizes = {};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, study::runRuntimeScaling(s));
    }
};

QTEST_GUILESS_MAIN(tst_RuntimeStudy)
#include "tst_runtime_study.moc"
