// The log-accumulation study: the binned accumulation with exact constants adds the quantised
// products exactly, it beats sequential LNS addition at 3 fraction bits, errors fall with the
// fraction bits and with the accumulator width, and the quantisation floor matches its closed form.
#include <QTest>

#include <cmath>

#include "study/lns_study.hpp"
#include "test_support.hpp"

using namespace ks;

namespace {

/// The value of `column` for `method` at `x` (the table's x column `xColumn`).
double at(const study::Table& t, const std::string& method, const std::string& xColumn, double x,
          const std::string& column) {
    for (std::size_t r = 0; r < t.rowCount(); ++r)
        if (t.labels("method")[r] == method && t.numbers(xColumn)[r] == x) return t.numbers(column)[r];
    throw std::out_of_range("no row for " + method + " at " + std::to_string(x));
}

}  // namespace

class tst_LnsStudy : public QObject {
    Q_OBJECT
private:
    study::LnsSweep sweep_;
    study::LnsResult result_;

private Q_SLOTS:
    void initTestCase() {
        sweep_.fractionBits = {1, 3, 5, 8};
        sweep_.accumulatorBits = {4, 8, 12, 16, 24, 40};
        sweep_.trials = 60;
        result_ = study::runLnsSweep(sweep_);
    }

    void everyMethodAtEveryPoint() {
        const auto methods = result_.byFractionBits.distinct("method");
        QCOMPARE(methods.size(), std::size_t(9));
        QCOMPARE(result_.byFractionBits.rowCount(), methods.size() * sweep_.fractionBits.size());
        QCOMPARE(result_.byAccumulatorBits.rowCount(), std::size_t(4) * sweep_.accumulatorBits.size());
        KS_COMPARE_EXACT(result_.byFractionBits.numbers("outputs").front(), 60.0);
    }

    void exactConstantBinnedIsTheExactSumOfQuantisedProducts() {
        for (int f : sweep_.fractionBits) {
            const double e = at(result_.byFractionBits, "lns-binned-exact", "fraction_bits", f, "rel_error_quantised");
            QVERIFY2(e < 1e-12, qPrintable(QStringLiteral("F=%1: %2").arg(f).arg(e)));
            // (The study's own reference here is its long double sum of the quantised products; the binned
            // accumulator is checked against a sum written apart from the study in
            // tst_lns::binnedWithExactConstantsIsExact.)
        }
    }

    void binnedBeatsSequentialAtThreeBits() {
        const auto& t = result_.byFractionBits;
        const double sequential = at(t, "lns-sequential-exact", "fraction_bits", 3, "rel_error_quantised");
        const double binned8 = at(t, "lns-binned-b8", "fraction_bits", 3, "rel_error_quantised");
        const double mitchell = at(t, "lns-sequential-mitchell", "fraction_bits", 3, "rel_error_quantised");
        QVERIFY2(binned8 < sequential / 10, qPrintable(QStringLiteral("%1 vs %2").arg(binned8).arg(sequential)));
        // Published (length-256 dot products, k = 3): ≈ 14 % sequential (34 % Mitchell), < 1 % binned.
        QVERIFY2(sequential > 0.05 && sequential < 0.3, qPrintable(QString::number(sequential)));
        QVERIFY2(mitchell > sequential, qPrintable(QStringLiteral("%1 vs %2").arg(mitchell).arg(sequential)));
        QVERIFY(binned8 < 0.01);
        qInfo("k = 3, length 256, %d trials, vs exact sum of quantised products: lns-sequential-exact %.4f, "
              "mitchell %.4f, lns-binned-b8 %.2e; vs exact product: sequential %.4f, binned-b8 %.4f, quantised %.4f",
              sweep_.trials, sequential, mitchell, binned8,
              at(t, "lns-sequential-exact", "fraction_bits", 3, "rel_error_exact"),
              at(t, "lns-binned-b8", "fraction_bits", 3, "rel_error_exact"),
              at(t, "quantised", "fraction_bits", 3, "rel_error_exact"));
        // b-bit constants: |S̃ − S| ≤ 2^−(b+1) Σ|p|; for random signs Σ|p| / |S| is ~ √length, so well under 1 %.
        QVERIFY(binned8 < std::ldexp(1.0, -9) * 16 * 4);
    }

    void errorFallsWithFractionBits_data() {
        QTest::addColumn<QString>("method");
        for (const char* m : {"quantised", "log", "lns-sequential-exact", "lns-sequential-table", "lns-binned-exact",
                              "lns-binned-b8", "lns-binned-exact-convert"})
            QTest::newRow(m) << QString::fromLatin1(m);
    }
    void errorFallsWithFractionBits() {
        QFETCH(QString, method);
        double previous = INFINITY;
        for (int f : sweep_.fractionBits) {
            const double e = at(result_.byFractionBits, method.toStdString(), "fraction_bits", f, "rel_error_exact");
            QVERIFY2(e < previous, qPrintable(QStringLiteral("F=%1: %2 after %3").arg(f).arg(e).arg(previous)));
            previous = e;
        }
    }

    void quantisationFloorMatchesClosedForm() {
        // Rounding log2|x| to 1/n steps leaves a relative error ≈ ln2 · u, u uniform in ±1/(2n):
        // rms ln2/(n√12) per operand, √2 times that per product; with independent errors and random
        // signs the sum's relative rms error is the same.
        for (int f : {3, 5, 8}) {
            const double n = std::ldexp(1.0, f);
            const double predicted = std::sqrt(2.0) * std::log(2.0) / (n * std::sqrt(12.0));
            const double measured = at(result_.byFractionBits, "quantised", "fraction_bits", f, "rel_error_exact");
            QVERIFY2(measured > 0.7 * predicted && measured < 1.4 * predicted,
                     qPrintable(QStringLiteral("F=%1: %2 vs %3").arg(f).arg(measured).arg(predicted)));
        }
    }

    void narrowAccumulatorsLoseSmallProducts() {
        const auto& t = result_.byAccumulatorBits;
        double previous = INFINITY;
        for (int w : sweep_.accumulatorBits) {
            const double e = at(t, "lns-binned-exact", "accumulator_bits", w, "rel_error_exact");
            // Once nothing is lost any more, the error is the quantisation floor: equal up to the
            // rounding of a few lost tiny products either way.
            QVERIFY2(e <= previous * (1 + 1e-4), qPrintable(QStringLiteral("width %1: %2 after %3").arg(w).arg(e).arg(previous)));
            previous = e;
            KS_COMPARE_EXACT(at(t, "lns-binned-exact", "accumulator_bits", w, "accumulator_overflows"), 0.0);
        }
        QVERIFY(at(t, "lns-binned-exact", "accumulator_bits", 4, "accumulator_underflows") > 0);
        // Wide enough, the width no longer matters: the result is the quantisation floor.
        const double wide = at(t, "lns-binned-exact", "accumulator_bits", 40, "rel_error_exact");
        const double floor = at(result_.byFractionBits, "quantised", "fraction_bits", 3, "rel_error_exact");
        QVERIFY(std::fabs(wide - floor) < 1e-9 * floor + 1e-15);
    }

    void chartsReadTheTables() {
        for (const char* ref : {"exact", "quantised"}) {
            const study::ChartSpec spec = study::lnsFractionChart(sweep_, ref);
            QVERIFY(result_.byFractionBits.hasColumn(spec.yColumn));
        }
        QVERIFY(result_.byAccumulatorBits.hasColumn(study::lnsAccumulatorChart(sweep_).xColumn));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, study::lnsFractionChart(sweep_, "other"));
    }

    void badParametersAreNamed() {
        study::LnsSweep s;
        s.fractionBits = {17};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, study::runLnsSweep(s));
        s = {};
        s.accumulatorBits = {1};
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, study::runLnsSweep(s));
    }
};

QTEST_GUILESS_MAIN(tst_LnsStudy)
#include "tst_lns_study.moc"
