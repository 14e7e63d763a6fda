// The accumulation page: the sweep chart draws one line per checked model over the chosen axis, its findings follow
// the data; the bits slider moves the current-value line and redraws the swamping picture; the network chart has a
// bar per specification on the same digits; settings come back in a new page.
#include <QCheckBox>
#include <QComboBox>
#include <QSettings>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTest>

#include "test_support.hpp"

#include "charts/chart_panel.hpp"
#include "pages/accumulation_page.hpp"
#include "widgets/findings_view.hpp"

using namespace ks;

class tst_AccumulationPage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("KernelScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_accumulationpage"));
        QSettings().clear();
    }
    void cleanup() { QSettings().clear(); }

    void sweepLinesAndFindings() {
        ui::AccumulationPage page;
        page.digitsBox()->setValue(20);
        page.waitForIdle();
        QStringList expected;
        for (const auto& m : study::accumulationModels()) expected << QString::fromStdString(m);
        QStringList drawn = page.sweepChart()->seriesNames();
        drawn.sort();
        expected.sort();
        QCOMPARE(drawn, expected);
        QCOMPARE(page.sweepChart()->seriesPoints(QStringLiteral("sequential")).size(), 21);  // 4…24 bits
        QVERIFY(!page.sweepChart()->findings()->isHidden());
        // One model off: one line fewer.
        page.modelChecks().at(1)->setChecked(false);  // pairwise
        page.waitForIdle();
        QVERIFY(!page.sweepChart()->seriesNames().contains(QStringLiteral("pairwise")));
        // Another axis: the lengths 16…16384.
        page.axisBox()->setCurrentIndex(page.axisBox()->findText(QStringLiteral("length")));
        page.waitForIdle();
        QCOMPARE(page.sweepChart()->seriesPoints(QStringLiteral("sequential")).size(), 6);
        QCOMPARE(page.sweepChart()->spec().xLabel, std::string("length"));
    }

    void bitsSliderAndSwamping() {
        ui::AccumulationPage page;
        page.digitsBox()->setValue(20);
        page.waitForIdle();
        page.bitsSlider()->setValue(8);
        page.waitForIdle();
        QCOMPARE(page.sweepChart()->spec().currentX, std::optional<double>(8.0));
        // The swamping picture is of the slider's setting, though bits are the sweep's axis.
        QVERIFY2(page.swampingChart()->spec().caption.find("accumulator 8 bits") != std::string::npos,
                 page.swampingChart()->spec().caption.c_str());
        QCOMPARE(page.swampingChart()->table().labels("model").size(), page.swampingChart()->table().rowCount());
        QVERIFY(page.swampingChart()->table().rowCount() > 0);
    }

    void networkBarsOnTheSameDigits() {
        ui::AccumulationPage page;
        page.digitsBox()->setValue(20);
        page.waitForIdle();
        const study::Table& t = page.networkChart()->table();
        QCOMPARE(t.rowCount(), ui::AccumulationPage::networkSpecs().size());
        for (double digits : t.numbers("test_digits")) KS_COMPARE_EXACT(digits, 20.0);
        QCOMPARE(t.labels("spec").front(), std::string("fp32"));
        QVERIFY(std::find(t.labels("spec").begin(), t.labels("spec").end(), "hopper-fp8") != t.labels("spec").end());
    }

    // NVIDIA's binned log sums: the fraction bits (2^F bins) choose the sweep, the width slider the chart's line.
    void binnedLogSums() {
        ui::AccumulationPage page;
        page.digitsBox()->setValue(20);
        page.binsSlider()->setValue(2);
        page.lnsWidthSlider()->setValue(12);
        page.waitForIdle();
        QVERIFY(page.binnedChart()->spec().title.find("at 2 fraction bits") != std::string::npos);
        QCOMPARE(page.binnedChart()->spec().currentX, std::optional<double>(12.0));
        QVERIFY(page.binnedChart()->table().rowCount() > 0);
        for (double f : page.binnedChart()->table().numbers("fraction_bits")) KS_COMPARE_EXACT(f, 2.0);
        QSettings().clear();
    }

    void settingsComeBack() {
        {
            ui::AccumulationPage page;
            page.digitsBox()->setValue(40);
            page.operandBox()->setCurrentIndex(page.operandBox()->findData(QStringLiteral("mxfp4")));
            page.bitsSlider()->setValue(11);
            page.modelChecks().at(3)->setChecked(false);
            page.waitForIdle();
        }
        ui::AccumulationPage again;
        QCOMPARE(again.operandBox()->currentData().toString(), QStringLiteral("mxfp4"));
        QCOMPARE(again.bitsSlider()->value(), 11);
        QCOMPARE(again.digitsBox()->value(), 40);
        QVERIFY(!again.modelChecks().at(3)->isChecked());
        again.waitForIdle();
        QVERIFY(again.sweepChart()->spec().title.find("mxfp4 operands") != std::string::npos);
    }
};

QTEST_MAIN(tst_AccumulationPage)
#include "tst_accumulationpage.moc"
