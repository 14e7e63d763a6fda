// The precision page draws what core/study computes, and the slider drives the marker and pictures.
#include <QComboBox>
#include <QLabel>
#include <QSettings>
#include <QSlider>
#include <QStandardPaths>
#include <QtTest>

#include "test_support.hpp"

#include "charts/chart_panel.hpp"
#include "pages/precision_page.hpp"
#include "widgets/tensor_image.hpp"

using namespace ks;

class tst_PrecisionPage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("KernelScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_precisionpage"));
        QSettings().clear();
    }

    void chartMatchesStudy() {
        ui::PrecisionPage page;
        page.waitForIdle();
        const study::Table expected = study::runPrecisionSweep(page.sweep());
        ui::ChartPanel* chart = page.errorChart();
        const QStringList series = chart->seriesNames();
        QVERIFY(series.contains(QStringLiteral("direct")));
        const auto points = chart->seriesPoints(QStringLiteral("direct"));
        const study::Table direct = expected.filtered("method", "direct");
        QCOMPARE(points.size(), qsizetype(direct.rowCount()));
        for (qsizetype i = 0; i < points.size(); ++i) {
            KS_COMPARE_EXACT(points[i].x(), direct.numbers("position")[std::size_t(i)]);
            KS_COMPARE_EXACT(points[i].y(), direct.numbers("rel_error_median")[std::size_t(i)]);
        }
    }

    // Real layers from core's presets: the sweep is that layer (and its im2col product for matmul), the
    // custom size boxes step aside, and the chart shows the study of that layer.
    void layerPresetsDriveTheSweep() {
        ui::PrecisionPage page;
        page.waitForIdle();
        const int conv2 = page.layerBox()->findText(QStringLiteral("digit CNN conv2, 8×14×14 → 16"));
        QVERIFY(conv2 > 0);
        page.layerBox()->setCurrentIndex(conv2);
        page.waitForIdle();
        const study::PrecisionSweep s = page.sweep();
        QCOMPARE(s.conv.toString(), conv::ConvProblem::layer(1, 8, 14, 14, 16, 3, 1, 1).toString());
        QCOMPARE(s.k, std::int64_t{8 * 3 * 3});
        const study::Table expected = study::runPrecisionSweep(s).filtered("method", "direct");
        const auto points = page.errorChart()->seriesPoints(QStringLiteral("direct"));
        QCOMPARE(points.size(), qsizetype(expected.rowCount()));
        KS_COMPARE_EXACT(points.back().y(), expected.numbers("rel_error_median").back());
        page.layerBox()->setCurrentIndex(0);  // back to custom, for the other tests' settings
        page.waitForIdle();
    }

    // Per-tensor int would be refused at every point: it is not offered.
    void onlySweepableFamiliesOffered() {
        ui::PrecisionPage page;
        QCOMPARE(page.familyBox()->findData(QStringLiteral("int")), -1);
        QVERIFY(page.familyBox()->findData(QStringLiteral("e4")) >= 0);
    }

    void sliderMovesMarkerAndLabel() {
        ui::PrecisionPage page;
        page.waitForIdle();
        QSlider* slider = page.bitSlider();
        slider->setFocus();
        const int start = slider->value();
        QTest::keyClick(slider, Qt::Key_Left);  // keyboard-operable
        QCOMPARE(slider->value(), start - 1);
        KS_COMPARE_EXACT(page.errorChart()->spec().currentX.value(), double(start - 1));
        page.waitForIdle();
        QVERIFY(!page.errorImage()->image().isNull());
        slider->setValue(slider->minimum());
        QVERIFY(page.formatLabel()->text().contains(QStringLiteral("e5m1")));
    }

    void familyChangeReSweeps() {
        ui::PrecisionPage page;
        page.waitForIdle();
        const int e8 = page.familyBox()->findData(QStringLiteral("e8"));
        QVERIFY(e8 >= 0);
        page.familyBox()->setCurrentIndex(e8);
        page.waitForIdle();
        QCOMPARE(page.bitSlider()->maximum(), 23);
        QCOMPARE(page.errorChart()->seriesPoints(QStringLiteral("direct")).size(), 23);
    }
};

QTEST_MAIN(tst_PrecisionPage)
#include "tst_precisionpage.moc"
