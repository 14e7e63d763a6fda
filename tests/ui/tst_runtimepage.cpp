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
#include <QtTest>

#include "charts/chart_panel.hpp"
#include "conv/conv_registry.hpp"
#include "matmul/matmul_registry.hpp"
#include "pages/runtime_page.hpp"

using namespace ks;

namespace {

QStringList tableAlgorithms(const QTableWidget* table) {
    QStringList names;
    for (int r = 0; r < table->rowCount(); ++r) names << table->item(r, 0)->text();
    names.sort();
    return names;
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
        int ticks = 0;
        QTimer timer;
        connect(&timer, &QTimer::timeout, [&] { ++ticks; });
        timer.start(10);
        page.runFind();
        QVERIFY(page.isRunning());
        QVERIFY(page.cancelButton()->isEnabled());
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 300) QTest::qWait(20);  // the window stays live while it works
        QVERIFY2(ticks > 5, qPrintable(QString::number(ticks)));
        page.cancelButton()->click();
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
