// Error metrics against closed forms on small hand-made arrays.
#include <QTest>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <vector>

#include "numeric/error_metrics.hpp"
#include "test_support.hpp"

using namespace ks::numeric;

namespace {

/// How many doubles lie between a and b (both finite, same sign): 0 when identical.
std::int64_t ulpDistance(double a, double b) {
    return std::llabs(std::bit_cast<std::int64_t>(a) - std::bit_cast<std::int64_t>(b));
}

}  // namespace

class tst_ErrorMetrics : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void closedForms_data() {
        QTest::addColumn<QVector<double>>("result");
        QTest::addColumn<QVector<double>>("reference");
        QTest::addColumn<double>("relFrobenius");
        QTest::addColumn<double>("maxAbs");
        QTest::addColumn<double>("meanAbs");
        QTest::addColumn<double>("mse");
        QTest::addColumn<double>("maxRel");
        QTest::addColumn<int>("count");
        QTest::addColumn<int>("nonFinite");
        QTest::newRow("exact") << QVector<double>{1, 2, 3} << QVector<double>{1, 2, 3} << 0.0 << 0.0 << 0.0 << 0.0
                               << 0.0
                               << 3 << 0;
        // differences 0, 1, -2 against (3, 4, 0): ||d|| = sqrt(5), ||ref|| = 5
        QTest::newRow("mixed") << QVector<double>{3, 5, -2} << QVector<double>{3, 4, 0} << std::sqrt(5.0) / 5 << 2.0
                               << 1.0 << 5.0 / 3 << 0.25 << 3 << 0;
        // non-finite results are counted, not averaged in
        QTest::newRow("overflow counted") << QVector<double>{std::numeric_limits<double>::infinity(), 1.5, NAN}
                                          << QVector<double>{1, 1, 1} << 0.5 << 0.5 << 0.5 << 0.25 << 0.5 << 1 << 2;
        // zero reference: relative Frobenius is the absolute norm, max relative skips zeros
        QTest::newRow("zero reference") << QVector<double>{0.5, 0} << QVector<double>{0, 0} << 0.5 << 0.5 << 0.25
                                        << 0.125 << 0.0 << 2 << 0;
    }
    void closedForms() {
        QFETCH(QVector<double>, result);
        QFETCH(QVector<double>, reference);
        QFETCH(double, relFrobenius);
        QFETCH(double, maxAbs);
        QFETCH(double, meanAbs);
        QFETCH(double, mse);
        QFETCH(double, maxRel);
        QFETCH(int, count);
        QFETCH(int, nonFinite);
        const std::vector<double> r(result.begin(), result.end()), ref(reference.begin(), reference.end());
        const ErrorMetrics m = errorMetrics(std::span<const double>(r), std::span<const double>(ref));
        // Sums of small integers and halves, and their quotients by the count: exact, or correctly rounded
        // once (5/3) by the implementation's long double sums. The relative Frobenius norm is a square root
        // of a quotient: within one ulp of the closed form (itself rounded twice, sqrt(5) then / 5).
        QVERIFY2(ulpDistance(m.relativeFrobenius, relFrobenius) <= 1,
                 ks::test::describeBits(m.relativeFrobenius).constData());
        KS_COMPARE_EXACT(m.maxAbs, maxAbs);
        KS_COMPARE_EXACT(m.meanAbs, meanAbs);
        KS_COMPARE_EXACT(m.meanSquared, mse);
        KS_COMPARE_EXACT(m.maxRelative, maxRel);
        QCOMPARE(int(m.count), count);
        QCOMPARE(int(m.nonFinite), nonFinite);
        // float results give the same figures when the values are floats
        const std::vector<float> rf(result.begin(), result.end());
        const ErrorMetrics mf = errorMetrics(std::span<const float>(rf), std::span<const double>(ref));
        KS_COMPARE_EXACT(mf.maxAbs, maxAbs);
        QCOMPARE(int(mf.nonFinite), nonFinite);
        QVERIFY(!toString(m).empty());
    }

    void referenceNonFiniteAndSizes() {
        const std::vector<double> r{1, 2}, ref{std::numeric_limits<double>::infinity(), 2};
        const ErrorMetrics m = errorMetrics(std::span<const double>(r), std::span<const double>(ref));
        QCOMPARE(int(m.referenceNonFinite), 1);
        QCOMPARE(int(m.count), 1);
        const std::vector<double> shorter{1};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                                 errorMetrics(std::span<const double>(r), std::span<const double>(shorter)));
    }
};

QTEST_APPLESS_MAIN(tst_ErrorMetrics)
#include "tst_error_metrics.moc"
