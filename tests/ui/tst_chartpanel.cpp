// The chart adapter: series follow the table, exports are real files of the right size and content.
#include <QChart>
#include <QFile>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QLabel>
#include <QLineSeries>
#include <QSignalSpy>
#include <QXYSeries>
#include <QLogValueAxis>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QTest>

#include "charts/chart_panel.hpp"

using namespace ks;

namespace {

study::Table sampleTable() {
    study::Table t({"bits", "error"}, {"method"});
    for (int b = 1; b <= 10; ++b) {
        t.addRow({b, std::ldexp(1.0, -b), "direct"});
        t.addRow({b, 3 * std::ldexp(1.0, -b), "winograd"});
    }
    return t;
}

study::ChartSpec sampleSpec() {
    study::ChartSpec s;
    s.id = "sample";
    s.title = "Error vs bits";
    s.xColumn = "bits";
    s.yColumn = "error";
    s.seriesColumn = "method";
    s.yLog = true;
    s.xMarkers = {{10, "fp16"}};
    s.currentX = 4;
    s.caption = "sums in fp32; seed 7";
    return s;
}

/// Whether the image holds a pixel close to `color` (the series is really drawn, not a blank frame).
bool containsColor(const QImage& image, const QColor& color) {
    const QImage rgb = image.convertToFormat(QImage::Format_RGB32);
    for (int y = 0; y < rgb.height(); ++y)
        for (int x = 0; x < rgb.width(); ++x) {
            const QColor c = rgb.pixelColor(x, y);
            if (std::abs(c.red() - color.red()) + std::abs(c.green() - color.green()) + std::abs(c.blue() - color.blue()) < 30)
                return true;
        }
    return false;
}

}  // namespace

class tst_ChartPanel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void seriesFollowTable() {
        ui::ChartPanel panel;
        panel.setData(sampleTable(), sampleSpec());
        QCOMPARE(panel.seriesNames(), (QStringList{QStringLiteral("direct"), QStringLiteral("winograd")}));
        const auto points = panel.seriesPoints(QStringLiteral("winograd"));
        QCOMPARE(points.size(), 10);
        QCOMPARE(points[2], QPointF(3, 3 * 0.125));
    }

    // Issue 17: the network's points were joined by lines in sweep order. Lines run left to right;
    // series named as scatter are points only.
    void linesRunLeftToRightAndScatterSeriesArePoints() {
        study::Table t({"x", "y"}, {"series"});
        for (double x : {0.5, 0.1, 1.0, 0.25}) {
            t.addRow({x, x * 2, "front"});
            t.addRow({x, x * 3, "settings"});
        }
        study::ChartSpec s;
        s.xColumn = "x";
        s.yColumn = "y";
        s.seriesColumn = "series";
        s.scatterSeries = {"settings"};
        ui::ChartPanel panel;
        panel.setData(t, s);
        QCOMPARE(panel.seriesPoints(QStringLiteral("front")),
                 (QList<QPointF>{{0.1, 0.2}, {0.25, 0.5}, {0.5, 1.0}, {1.0, 2.0}}));
        for (QAbstractSeries* series : panel.chart()->series()) {
            if (series->name() == QLatin1String("settings")) QCOMPARE(series->type(), QAbstractSeries::SeriesTypeScatter);
            if (series->name() == QLatin1String("front")) QCOMPARE(series->type(), QAbstractSeries::SeriesTypeLine);
        }
    }

    // Issue 17: no hover readout of values, no click on a point.
    void hoverReadsOutAndClickIsReported() {
        ui::ChartPanel panel;
        panel.setData(sampleTable(), sampleSpec());
        QXYSeries* winograd = nullptr;
        for (QAbstractSeries* s : panel.chart()->series())
            if (s->name() == QLatin1String("winograd")) winograd = qobject_cast<QXYSeries*>(s);
        QVERIFY(winograd);
        Q_EMIT winograd->hovered(QPointF(3, 0.375), true);
        QCOMPARE(panel.readout(), QStringLiteral("winograd: x 3, y 0.375"));
        Q_EMIT winograd->hovered(QPointF(3, 0.375), false);
        QVERIFY(panel.readout().isEmpty());
        QSignalSpy clicks(&panel, &ui::ChartPanel::pointClicked);
        Q_EMIT winograd->clicked(QPointF(5, 0.09375));
        QCOMPARE(clicks.size(), 1);
        QCOMPARE(clicks.front().at(0).toString(), QStringLiteral("winograd"));
        QCOMPARE(clicks.front().at(1).toPointF(), QPointF(5, 0.09375));
    }

    // Issue 17: "dashed markers without a legend". Each format marker carries its name at its top.
    void markersAreNamed() {
        ui::ChartPanel panel;
        panel.setData(sampleTable(), sampleSpec());
        int named = 0;
        for (QAbstractSeries* s : panel.chart()->series()) {
            if (s->objectName() != QLatin1String("marker") || s->name() != QLatin1String("fp16")) continue;
            auto* line = qobject_cast<QXYSeries*>(s);
            QVERIFY(line->pointLabelsVisible());
            QCOMPARE(line->pointLabelsFormat(), QStringLiteral("fp16"));
            QCOMPARE(line->pointConfiguration(0).value(QXYSeries::PointConfiguration::LabelVisibility).toBool(), false);
            ++named;
        }
        QCOMPARE(named, 1);
    }

    void logAxisDropsNonPositive() {
        study::Table t({"x", "y"});
        t.addRow({1, 0.0});
        t.addRow({2, 0.5});
        t.addRow({3, std::nan("")});
        study::ChartSpec s = sampleSpec();
        s.seriesColumn.clear();
        s.xColumn = "x";
        s.yColumn = "y";
        ui::ChartPanel panel;
        panel.setData(t, s);
        QCOMPARE(panel.seriesPoints(QStringLiteral("y")), (QList<QPointF>{QPointF(2, 0.5)}));
    }

    // Linear axes get a little room around the data, but positive data (a time) never an axis
    // reaching below zero; data at zero or below keeps its room below.
    void linearAxisStaysAtOrAboveZeroForPositiveData_data() {
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        QTest::addColumn<bool>("mayGoNegative");
        QTest::newRow("times from 0.6 ms") << 0.6 << 26.0 << false;
        QTest::newRow("times from 0.01 ms") << 0.01 << 1.0 << false;
        QTest::newRow("from zero") << 0.0 << 1.0 << true;
        QTest::newRow("negative data") << -3.0 << 5.0 << true;
    }
    void linearAxisStaysAtOrAboveZeroForPositiveData() {
        QFETCH(double, low);
        QFETCH(double, high);
        QFETCH(bool, mayGoNegative);
        study::Table t({"x", "y"});
        t.addRow({1, low});
        t.addRow({2, high});
        study::ChartSpec s = sampleSpec();
        s.seriesColumn.clear();
        s.xColumn = "x";
        s.yColumn = "y";
        s.yLog = false;
        ui::ChartPanel panel;
        panel.setData(t, s);
        const auto axes = panel.chart()->axes(Qt::Vertical);
        QCOMPARE(axes.size(), 1);
        const auto* axis = qobject_cast<const QValueAxis*>(axes.front());
        QVERIFY(axis);
        QVERIFY2(axis->min() <= low && axis->max() >= high, qPrintable(QStringLiteral("%1…%2").arg(axis->min()).arg(axis->max())));
        if (mayGoNegative) QVERIFY(axis->min() < low);
        else QVERIFY2(axis->min() >= 0, qPrintable(QString::number(axis->min())));
    }

    // Issue 17's axis ranges: accuracies to 1.2, relative errors below zero, a bits axis 0–12 for data
    // 1–10, a compression-ratio axis to 10 for data up to 1.5. Each row: data, the spec's hints, and the
    // range the axis must lie within (outer) and cover (the data).
    void axisRangesFollowTheQuantity_data() {
        QTest::addColumn<QList<QPointF>>("points");
        QTest::addColumn<bool>("xIntegers");
        QTest::addColumn<bool>("xLog");
        QTest::addColumn<double>("yBoundMin");  // NaN: none
        QTest::addColumn<double>("yBoundMax");
        QTest::addColumn<QRectF>("outer");      // x from left() to right(), y from top() to bottom()
        const double none = std::nan("");
        const QList<QPointF> accuracies{{1, 0.905}, {2, 0.97}, {3, 0.991}};
        QTest::newRow("accuracy near 1") << accuracies << false << false << 0.0 << 1.0 << QRectF(QPointF(0, 0.85), QPointF(4, 1.0));
        QTest::newRow("accuracy from chance to 1") << QList<QPointF>{{1, 0.098}, {2, 1.0}} << false << false << 0.0 << 1.0
                                                  << QRectF(QPointF(0, 0.0), QPointF(3, 1.0));
        QTest::newRow("relative error from 0") << QList<QPointF>{{1, 0.8}, {2, 0.3}, {3, 0.0}} << false << false << 0.0 << 1.0
                                              << QRectF(QPointF(0, 0.0), QPointF(4, 1.0));
        QTest::newRow("bits 1 to 10") << QList<QPointF>{{1, 0.5}, {10, 0.9}} << true << false << none << none
                                      << QRectF(QPointF(0.5, 0.0), QPointF(10.5, 1.0));
        QTest::newRow("ratio up to 1.5, log") << QList<QPointF>{{0.02, 0.5}, {1.5, 0.9}} << false << true << none << none
                                              << QRectF(QPointF(0.01, 0.0), QPointF(2.0, 1.0));
        QTest::newRow("ratio 0.2 to 0.6, log") << QList<QPointF>{{0.2, 0.5}, {0.6, 0.9}} << false << true << none << none
                                               << QRectF(QPointF(0.1, 0.0), QPointF(1.0, 1.0));
    }
    void axisRangesFollowTheQuantity() {
        QFETCH(QList<QPointF>, points);
        QFETCH(bool, xIntegers);
        QFETCH(bool, xLog);
        QFETCH(double, yBoundMin);
        QFETCH(double, yBoundMax);
        QFETCH(QRectF, outer);
        study::Table t({"x", "y"});
        for (const QPointF& p : points) t.addRow({p.x(), p.y()});
        study::ChartSpec s;
        s.xColumn = "x";
        s.yColumn = "y";
        s.xIntegers = xIntegers;
        s.xLog = xLog;
        if (!std::isnan(yBoundMin)) s.yBounds = {yBoundMin, yBoundMax};
        ui::ChartPanel panel;
        panel.setData(t, s);
        auto range = [](const QAbstractAxis* axis) -> std::pair<double, double> {
            if (const auto* l = qobject_cast<const QLogValueAxis*>(axis)) return {l->min(), l->max()};
            const auto* v = qobject_cast<const QValueAxis*>(axis);
            return {v->min(), v->max()};
        };
        const auto [x0, x1] = range(panel.chart()->axes(Qt::Horizontal).front());
        const auto [y0, y1] = range(panel.chart()->axes(Qt::Vertical).front());
        const QString got = QStringLiteral("x %1…%2, y %3…%4").arg(x0).arg(x1).arg(y0).arg(y1);
        for (const QPointF& p : points)  // every point inside
            QVERIFY2(x0 <= p.x() && p.x() <= x1 && y0 <= p.y() && p.y() <= y1, qPrintable(got));
        QVERIFY2(x0 >= outer.left() - 1e-12 && x1 <= outer.right() + 1e-12, qPrintable(got));
        QVERIFY2(y0 >= outer.top() - 1e-12 && y1 <= outer.bottom() + 1e-12, qPrintable(got));
        if (xIntegers) {  // ticks on the whole numbers
            const auto* axis = qobject_cast<const QValueAxis*>(panel.chart()->axes(Qt::Horizontal).front());
            QCOMPARE(axis->tickType(), QValueAxis::TicksDynamic);
            QCOMPARE(axis->tickInterval(), 1.0);
            QCOMPARE(axis->tickAnchor(), 0.0);
        }
    }

    void logScaleOnlyWhenDataSpanDecades_data() {
        QTest::addColumn<double>("low");
        QTest::addColumn<bool>("log");
        QTest::newRow("1e-6 to 1") << 1e-6 << true;
        QTest::newRow("0.005 to 1") << 0.005 << true;
        QTest::newRow("0.02 to 1") << 0.02 << false;
    }
    void logScaleOnlyWhenDataSpanDecades() {
        QFETCH(double, low);
        QFETCH(bool, log);
        study::Table t({"x", "y"});
        t.addRow({1, 1.0});
        t.addRow({2, low});
        t.addRow({3, 0.0});
        study::ChartSpec s;
        s.xColumn = "x";
        s.yColumn = "y";
        s.yLogIfWide = true;
        ui::ChartPanel panel;
        panel.setData(t, s);
        const QAbstractAxis* axis = panel.chart()->axes(Qt::Vertical).front();
        QCOMPARE(qobject_cast<const QLogValueAxis*>(axis) != nullptr, log);
        QCOMPARE(panel.seriesPoints(QStringLiteral("y")).size(), log ? 2 : 3);  // zero has no place on a log axis
    }

    // A small chart of short times (the network page's time axis at 1280×720, 2026-12-08): eight ticks of
    // 0.0125, 0.015, … did not fit 290 px and Qt Charts cut every label to "...". The interval widens until
    // the labels fit, and narrows again when the chart grows.
    void crowdedValueLabelsWiden() {
        study::Table t({"ms", "y"});
        for (double ms : {10.01234, 10.02, 10.03, 10.04567}) t.addRow({ms, ms * 2});
        study::ChartSpec s;
        s.xColumn = "ms";
        s.yColumn = "y";
        ui::ChartPanel panel;
        panel.resize(200, 235);
        panel.setData(t, s);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        const auto* x = qobject_cast<const QValueAxis*>(panel.chart()->axes(Qt::Horizontal).front());
        QVERIFY(x);
        const double natural = x->property("ksNaturalStep").toDouble();  // the data's step: 0.01
        const auto labelsCut = [&] {
            for (QGraphicsItem* item : panel.chart()->scene()->items())
                if (auto* text = dynamic_cast<QGraphicsTextItem*>(item); text && item->isVisible() && text->toPlainText().endsWith(QLatin1String("...")))
                    return true;
            return false;
        };
        QTRY_VERIFY(!labelsCut());
        QVERIFY2(x->tickInterval() > natural, qPrintable(QStringLiteral("interval %1, natural %2, plot %3 wide").arg(x->tickInterval()).arg(natural).arg(panel.chart()->plotArea().width())));
        panel.resize(1400, 500);
        QTRY_COMPARE(x->tickInterval(), natural);
        QVERIFY(!labelsCut());
    }

    // Issue 17: "Export all" wrote pages not yet opened at 100×73 px and a chart at its window's
    // 390×438. An export is the size and resolution asked for, whatever the window, and opaque.
    void exports_data() {
        QTest::addColumn<QSize>("pixels");
        QTest::addColumn<int>("dpi");
        QTest::addColumn<QSize>("window");
        QTest::newRow("default from a small window") << QSize(1600, 1000) << 192 << QSize(390, 438);
        QTest::newRow("screen resolution from a wide one") << QSize(900, 560) << 96 << QSize(1800, 300);
        QTest::newRow("print, portrait, never shown") << QSize(1200, 1500) << 300 << QSize();
    }
    void exports() {
        QFETCH(QSize, pixels);
        QFETCH(int, dpi);
        QFETCH(QSize, window);
        QTemporaryDir dir;
        ui::ChartPanel panel;
        if (window.isValid()) {
            panel.resize(window);
            panel.show();
            QVERIFY(QTest::qWaitForWindowExposed(&panel));
        }
        panel.setData(sampleTable(), sampleSpec());
        const QString png = dir.filePath(QStringLiteral("c.png"));
        panel.exportPng(png, ui::ExportImageOptions{pixels, dpi});
        const QImage image(png);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), pixels);
        QCOMPARE(image.dotsPerMeterX(), int(std::lround(dpi / 0.0254)));
        QVERIFY(!image.hasAlphaChannel());
        QCOMPARE(image.pixelColor(0, 0), image.pixelColor(image.width() / 2, 1));  // square corners, background colour
        const auto* first = qobject_cast<QLineSeries*>(panel.chart()->series().front());
        QVERIFY(containsColor(image, first->color()));
        // The same picture from another window size: the window plays no part.
        ui::ChartPanel other;
        other.resize(200, 150);
        other.setData(sampleTable(), sampleSpec());
        QImage again = other.renderImage(ui::ExportImageOptions{pixels, dpi});
        again.setDevicePixelRatio(1.0);  // a PNG read back has none
        QCOMPARE(again, image.convertToFormat(QImage::Format_RGB32));

        const QString svg = dir.filePath(QStringLiteral("c.svg"));
        panel.exportSvg(svg);
        QFile svgFile(svg);
        QVERIFY(svgFile.open(QIODevice::ReadOnly));
        const QByteArray svgText = svgFile.readAll();
        QVERIFY(svgText.contains("<svg"));
        QVERIFY(svgText.contains("Error vs bits"));

        const QString csv = dir.filePath(QStringLiteral("c.csv"));
        panel.exportCsv(csv);
        QFile csvFile(csv);
        QVERIFY(csvFile.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csvFile.readAll().trimmed().split('\n');
        // Issue 17: a figure could not be reproduced from its files. Title and parameters head the CSV.
        QCOMPARE(lines.size(), 23);
        QCOMPARE(lines[0], QByteArray("# Error vs bits"));
        QCOMPARE(lines[1], QByteArray("# sums in fp32; seed 7"));
        QCOMPARE(lines[2], QByteArray("bits,error,method"));
        QCOMPARE(lines[4], QByteArray("1,1.5,winograd"));
        auto* caption = panel.findChild<QLabel*>(QStringLiteral("chartCaption"));
        QVERIFY(caption);
        QCOMPARE(caption->text(), QStringLiteral("sums in fp32; seed 7"));
    }

    void failedExportSaysWhyAndLeavesNothing() {
        QTemporaryDir dir;
        ui::ChartPanel panel;
        panel.setData(sampleTable(), sampleSpec());
        const QString bad = dir.filePath(QStringLiteral("missing/c.png"));
        try {
            panel.exportPng(bad);
            QFAIL("export into a missing folder succeeded");
        } catch (const std::runtime_error& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(bad));
        }
        QVERIFY(QDir(dir.path()).entryList(QDir::NoDotAndDotDot | QDir::AllEntries).isEmpty());
    }

    void followsDarkPalette() {
        ui::ChartPanel panel;
        panel.setData(sampleTable(), sampleSpec());
        QCOMPARE(panel.chart()->theme(), QChart::ChartThemeLight);
        QPalette dark = panel.palette();
        dark.setColor(QPalette::Window, QColor(40, 40, 40));
        dark.setColor(QPalette::WindowText, Qt::white);
        panel.setPalette(dark);
        QCOMPARE(panel.chart()->theme(), QChart::ChartThemeDark);
        QCOMPARE(panel.seriesNames().size(), 2);  // series redrawn after the theme change
        QVERIFY(panel.chart()->backgroundBrush().color().lightness() < 128);
    }

    void headlessRender() {
        QTemporaryDir dir;
        const QString png = dir.filePath(QStringLiteral("h.png"));
        ui::ChartPanel::renderToPng(sampleTable(), sampleSpec(), png, {QSize(500, 300), 96});
        const QImage image(png);
        QCOMPARE(image.size(), QSize(500, 300));
        ui::ChartPanel reference;  // the same series colours as any panel's first series
        reference.setData(sampleTable(), sampleSpec());
        QVERIFY(containsColor(image, qobject_cast<QLineSeries*>(reference.chart()->series().front())->color()));
    }
};

QTEST_MAIN(tst_ChartPanel)
#include "tst_chartpanel.moc"
