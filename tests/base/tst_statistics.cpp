// The one median and quantile (base/statistics.hpp) against closed forms: order statistics of small
// lists, linear interpolation between them as numpy.quantile's default defines it (type 7 of Hyndman &
// Fan), NaNs left out, NaN for nothing.
#include <QTest>

#include <cmath>
#include <limits>
#include <vector>

#include "base/statistics.hpp"
#include "test_support.hpp"

using namespace ks;

class tst_Statistics : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void quantiles_data() {
        QTest::addColumn<std::vector<double>>("values");
        QTest::addColumn<double>("q");
        QTest::addColumn<double>("expected");
        const double nan = std::numeric_limits<double>::quiet_NaN();
        QTest::newRow("odd median") << std::vector<double>{5, 1, 3} << 0.5 << 3.0;
        QTest::newRow("even median: mean of the middle two") << std::vector<double>{4, 1, 3, 2} << 0.5 << 2.5;
        QTest::newRow("one value") << std::vector<double>{7} << 0.9 << 7.0;
        // (n − 1)·q = 0.9 between the first two of 1, 2, ..., 10 → 1.9; numpy gives 1.9 too.
        QTest::newRow("p10 interpolated") << std::vector<double>{10, 9, 8, 7, 6, 5, 4, 3, 2, 1} << 0.1 << 1.9;
        QTest::newRow("p90 interpolated") << std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10} << 0.9 << 9.1;
        QTest::newRow("q = 0 is the minimum") << std::vector<double>{3, -2, 8} << 0.0 << -2.0;
        QTest::newRow("q = 1 is the maximum") << std::vector<double>{3, -2, 8} << 1.0 << 8.0;
        QTest::newRow("NaNs left out") << std::vector<double>{nan, 1, nan, 3} << 0.5 << 2.0;
        QTest::newRow("infinities are values") << std::vector<double>{1, std::numeric_limits<double>::infinity(), 2}
                                               << 0.5 << 2.0;
        QTest::newRow("nothing: NaN") << std::vector<double>{} << 0.5 << nan;
        QTest::newRow("only NaNs: NaN") << std::vector<double>{nan, nan} << 0.5 << nan;
    }
    void quantiles() {
        QFETCH(std::vector<double>, values);
        QFETCH(double, q);
        QFETCH(double, expected);
        const double got = quantile(values, q);
        if (std::isnan(expected)) {
            QVERIFY2(std::isnan(got), qPrintable(QString::number(got)));
            return;
        }
        // 1.9 and 9.1 are not exact in binary: the formula's own rounding, compared to within an ulp.
        QVERIFY2(std::fabs(got - expected) <= std::fabs(expected) * std::numeric_limits<double>::epsilon(),
                 qPrintable(QString::number(got, 'g', 17)));
        if (q == 0.5) KS_COMPARE_EXACT(median(values), got);
    }
};

QTEST_APPLESS_MAIN(tst_Statistics)
#include "tst_statistics.moc"
