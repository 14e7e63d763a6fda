// The runtime page: Find fills the table with every registry algorithm and draws both charts from
// core/study's tables; Cancel stops a long run while the event loop keeps turning.
#include <QComboBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTimer>
#include <QTest>

#include "charts/chart_panel.hpp"
#include "conv/conv_registry.hpp"
#include "matmul/matmul_registry.hpp"
#include "pages/runtime_page.hpp"
#include "study/findings.hpp"
#include "widgets/findings_view.hpp"
#include "task_progress.hpp"

using namespace ks;

namespace {

QStringList tableAlgorithms(const QTableWidget* table) {
    QStringList names;
    for (int r = 0; r < table->rowCount(); ++r) names << table->item(r, 0)->text();
    names.sort();
    return names;
}


QStringList sentencesOf(const ks::study::Findings& findings) {
    QStringList out;
    for (const auto& f : findings) out << QString::fromStdString(f.text);
    return out;
}

}  // namespace

class tst_RuntimePage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("KernelScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_runtimepage"));
        QSettings().clear();
    }

    void findFillsTableWithEveryConvAlgorithm() {
        ui::RuntimePage page;
        page.imageSizeBox()->setValue(48);
        page.sizesEdit()->setText(QStringLiteral("16,32"));
        page.findButton()->click();
        page.waitForIdle();
        QStringList expected;
        for (const auto* a : conv::convAlgorithms()) expected << QString::fromStdString(a->name());
        expected.sort();
        QCOMPARE(tableAlgorithms(page.resultTable()), expected);
        // Every row that ran has a time; the chart shows one point per algorithm that ran.
        int ran = 0;
        for (int r = 0; r < page.resultTable()->rowCount(); ++r)
            if (!page.resultTable()->item(r, 1)->text().isEmpty()) {
                QVERIFY(page.resultTable()->item(r, 1)->text().toDouble() > 0);
                ++ran;
            }
        QCOMPARE(page.findChart()->seriesNames().size(), ran);
        QCOMPARE(page.findChart()->table().rowCount(), std::size_t(expected.size()));
        // Runtime vs size: two sizes per algorithm.
        for (const QString& name : page.scalingChart()->seriesNames())
            QCOMPARE(page.scalingChart()->seriesPoints(name).size(), 2);
        QVERIFY(!page.scalingChart()->seriesNames().isEmpty());
    }

    // Issue 17: "What this shows" for a Find: each algorithm against direct, written from the Find table; faded
    // once the shape changes.
    void findingsOfAFind() {
        ui::RuntimePage page;
        page.imageSizeBox()->setValue(48);
        page.sizesEdit()->setText(QStringLiteral("16,32"));
        page.findButton()->click();
        page.waitForIdle();
        QCoreApplication::processEvents();
        const QStringList shown = page.findingsView()->sentences();
        QCOMPARE(shown, sentencesOf(study::runtimeFindings(page.findChart()->table(), "direct")));
        QVERIFY2(!shown.isEmpty() && shown.front().startsWith(QStringLiteral("Against direct (")), qPrintable(shown.join(QLatin1Char('\n'))));
        QVERIFY(!page.findingsView()->graphicsEffect() && !page.findingsView()->widget()->graphicsEffect());
        page.imageSizeBox()->setValue(40);
        QVERIFY(page.findingsView()->widget()->graphicsEffect());  // of another shape: faded
    }

    void findFillsTableWithEveryMatmulMethod() {
        ui::RuntimePage page;
        page.operationBox()->setCurrentIndex(page.operationBox()->findData(QString::fromStdString(study::Operation::Matmul.id())));
        page.matrixSizeBox()->setValue(32);
        page.sizesEdit()->setText(QStringLiteral("16,32"));
        page.runFind();
        page.waitForIdle();
        QStringList expected;
        for (const auto& n : matmul::matmulAlgorithmNames()) expected << QString::fromStdString(n);
        expected.sort();
        QCOMPARE(tableAlgorithms(page.resultTable()), expected);
    }

    void cancelStopsAndTheEventLoopTurns() {
        ui::RuntimePage page;
        // Big enough to take seconds: an 8-channel layer, then large images.
        page.imageSizeBox()->setValue(256);
        page.channelsBox()->setValue(8);
        page.filtersBox()->setValue(8);
        page.sizesEdit()->setText(QStringLiteral("256,512,1024"));
        ui::TaskProgress progress;
        page.setTaskProgress(&progress);
        int ticks = 0;
        QTimer timer;
        connect(&timer, &QTimer::timeout, [&] { ++ticks; });
        timer.start(10);
        page.runFind();
        QVERIFY(page.isRunning());
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 600) QTest::qWait(20);  // the window stays live while it works
        QVERIFY2(ticks > 5, qPrintable(QString::number(ticks)));
        // Issue 17: "Two Cancel buttons appear". The status bar's is the one.
        for (const QPushButton* button : page.findChildren<QPushButton*>())
            QVERIFY2(!button->text().contains(QStringLiteral("Cancel")), qPrintable(button->text()));
        QVERIFY(progress.cancelButton()->isVisible() || progress.isBusy());
        QVERIFY(progress.cancelButton()->isEnabled());
        progress.cancelButton()->click();
        clock.restart();
        page.waitForIdle();
        QVERIFY(!page.isRunning());
        QVERIFY2(page.messageLabel()->text().contains(QStringLiteral("Cancelled")), qPrintable(page.messageLabel()->text()));
        QCOMPARE(page.resultTable()->rowCount(), 0);  // nothing half-measured is shown
        // A new Find after a cancel still works.
        page.imageSizeBox()->setValue(24);
        page.channelsBox()->setValue(1);
        page.filtersBox()->setValue(1);
        page.sizesEdit()->setText(QStringLiteral("16"));
        page.runFind();
        page.waitForIdle();
        QCOMPARE(page.resultTable()->rowCount(), int(conv::convAlgorithms().size()));
    }

    // Issue 17: after switching to matrix multiply the convolution results stayed up with no hint.
    void resultsOfAnotherShapeAreMarked() {
        ui::RuntimePage page;
        page.operationBox()->setCurrentIndex(page.operationBox()->findData(QString::fromStdString(study::Operation::Conv.id())));
        page.imageSizeBox()->setValue(24);
        page.sizesEdit()->setText(QStringLiteral("16"));
        page.runFind();
        page.waitForIdle();
        QVERIFY(page.resultsAreCurrent());
        QVERIFY(page.findChart()->staleNote().isEmpty());
        QVERIFY(page.resultTable()->isEnabled());
        page.operationBox()->setCurrentIndex(page.operationBox()->findData(QString::fromStdString(study::Operation::Matmul.id())));
        QVERIFY(!page.resultsAreCurrent());
        QVERIFY(page.findChart()->staleNote().contains(QStringLiteral("out of date")));
        QVERIFY(page.scalingChart()->staleNote().contains(QStringLiteral("out of date")));
        QVERIFY(!page.resultTable()->isEnabled());
        // Back to the shape measured: current again, without measuring.
        page.operationBox()->setCurrentIndex(page.operationBox()->findData(QString::fromStdString(study::Operation::Conv.id())));
        page.sizesEdit()->setText(QStringLiteral("16"));
        QVERIFY(page.resultsAreCurrent());
        QVERIFY(page.findChart()->staleNote().isEmpty());
        // A shape box too.
        page.channelsBox()->setValue(2);
        QVERIFY(page.findChart()->staleNote().contains(QStringLiteral("out of date")));
    }

    // Issue 17: "Fastest: svd" with max |error| 19.1. Rank 1 of a random 64×64 B is far from B.
    void fastestIsNamedWithinTheTolerance() {
        ui::RuntimePage page;
        page.operationBox()->setCurrentIndex(page.operationBox()->findData(QString::fromStdString(study::Operation::Matmul.id())));
        page.matrixSizeBox()->setValue(64);
        page.sizesEdit()->setText(QStringLiteral("16"));
        page.toleranceBox()->setCurrentIndex(page.toleranceBox()->findText(QStringLiteral("0.001")));
        page.runFind();
        page.waitForIdle();
        const study::Table& t = page.findChart()->table();
        const auto pick = study::fastestWithinError(t, 1e-3);
        QVERIFY(pick);
        const QString text = page.messageLabel()->text();
        QVERIFY2(text.contains(QStringLiteral("Fastest within max |error| 0.001: ") + QString::fromStdString(t.labels("algorithm")[*pick])),
                 qPrintable(text));
        for (std::size_t r = 0; r < t.rowCount(); ++r)
            if (t.labels("algorithm")[r] == "svd") QVERIFY2(t.numbers("max_abs_error")[r] > 1e-3, "rank 32 of 64 is lossy");
        QVERIFY2(!text.contains(QStringLiteral("Fastest within max |error| 0.001: svd")), qPrintable(text));
        page.toleranceBox()->setCurrentIndex(page.toleranceBox()->findText(QStringLiteral("any")));
        QVERIFY2(page.messageLabel()->text().contains(QStringLiteral("Fastest: ") + QString::fromStdString(t.labels("algorithm")[0])),
                 qPrintable(page.messageLabel()->text()));
    }

    // One colour per algorithm on every chart, whatever the order of the results (direct and fft were both blue).
    void eachAlgorithmKeepsItsColour() {
        ui::RuntimePage page;
        page.imageSizeBox()->setValue(24);
        page.sizesEdit()->setText(QStringLiteral("16,24"));
        page.runFind();
        page.waitForIdle();
        QSet<QRgb> colours;
        const QStringList names = page.findChart()->seriesNames();
        for (const QString& name : names) {
            const QColor c = page.findChart()->seriesColor(name);
            colours.insert(c.rgb());
            QCOMPARE(page.scalingChart()->seriesColor(name), c);  // the same on the other chart
        }
        QCOMPARE(colours.size(), names.size());
        // A table in another order keeps the colours.
        const study::Table& shown = page.findChart()->table();
        std::vector<std::string> numeric, labels;
        for (const auto& c : shown.columns()) (c.isNumeric() ? numeric : labels).push_back(c.name);
        study::Table flipped(numeric, labels);
        for (std::size_t r = shown.rowCount(); r-- > 0;) {
            std::vector<study::Table::Cell> cells;
            for (const auto& c : shown.columns()) {
                if (c.isNumeric()) cells.emplace_back(c.numbers()[r]);
                else cells.emplace_back(c.labels()[r]);
            }
            flipped.addRow(cells);
        }
        ui::ChartPanel other;
        other.setData(flipped, page.findChart()->spec());
        for (const QString& name : names) QCOMPARE(other.seriesColor(name), page.findChart()->seriesColor(name));
    }

    void badSizesAreNamed() {
        ui::RuntimePage page;
        page.sizesEdit()->setText(QStringLiteral("abc"));
        page.runFind();
        QVERIFY(!page.isRunning());
        QVERIFY(page.messageLabel()->text().contains(QStringLiteral("Sizes")));
    }
};

QTEST_MAIN(tst_RuntimePage)
#include "tst_runtimepage.moc"
