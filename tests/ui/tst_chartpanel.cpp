// The chart adapter: series follow the table, exports are real files of the right size and content.
#include <QChart>
#include <QFile>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QLineSeries>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QtTest>

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

    void exports_data() {
        QTest::addColumn<qreal>("scale");
        QTest::newRow("screen") << qreal(1.0);
        QTest::newRow("2x") << qreal(2.0);
    }
    void exports() {
        QFETCH(qreal, scale);
        QTemporaryDir dir;
        ui::ChartPanel panel;
        panel.resize(640, 420);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setData(sampleTable(), sampleSpec());
        const QString png = dir.filePath(QStringLiteral("c.png"));
        panel.exportPng(png, scale);
        const QImage image(png);
        QVERIFY(!image.isNull());
        const QSize viewSize = panel.chart()->scene()->views().front()->size();
        QCOMPARE(image.size(), viewSize * scale);
        const auto* first = qobject_cast<QLineSeries*>(panel.chart()->series().front());
        QVERIFY(containsColor(image, first->color()));

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
        QCOMPARE(lines.size(), 21);
        QCOMPARE(lines[0], QByteArray("bits,error,method"));
        QCOMPARE(lines[2], QByteArray("1,1.5,winograd"));
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
        ui::ChartPanel::renderToPng(sampleTable(), sampleSpec(), png, QSize(500, 300));
        const QImage image(png);
        QCOMPARE(image.size(), QSize(500, 300));
        ui::ChartPanel reference;  // the same series colours as any panel's first series
        reference.setData(sampleTable(), sampleSpec());
        QVERIFY(containsColor(image, qobject_cast<QLineSeries*>(reference.chart()->series().front())->color()));
    }
};

QTEST_MAIN(tst_ChartPanel)
#include "tst_chartpanel.moc"
