// The Layers page: any network's layer table in the background — the embedded CNN at start, an ONNX graph opened by
// the user (LeNet-5, the residual CNN), each setting recomputed; charts of the products; a refused file keeps the
// page as it was; ONNX files dropped on the window come here.
#include <QClipboard>
#include <QComboBox>
#include <QFile>
#include <QGuiApplication>
#include <QItemSelectionModel>
#include <QTemporaryDir>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>

#include "charts/chart_panel.hpp"
#include "models/layer_table_model.hpp"
#include "pages/layers_page.hpp"
#include "pages/network_page.hpp"
#include "study/table.hpp"

using namespace ks;

namespace {

const QString kOnnx = QStringLiteral(KS_TEST_SOURCE_DIR "/data/onnx/");
const QString kCorpus = QStringLiteral(KS_TEST_SOURCE_DIR "/fuzz/corpus/onnx/");

QStringList column(const ui::LayerTableModel* model, int c) {
    QStringList out;
    for (int r = 0; r < model->rowCount(); ++r) out << model->index(r, c).data().toString();
    return out;
}

}  // namespace

class tst_LayersPage : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("KernelScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_layerspage"));
        QSettings().clear();
    }
    void init() { QSettings().clear(); }  // each page starts from the defaults, not the last test's settings

    void embeddedCnnAtStart() {
        ui::LayersPage page;
        page.waitForIdle();
        QVERIFY(page.graph());
        QVERIFY(page.result());
        QCOMPARE(page.tableModel()->rowCount(), int(page.graph()->nodes().size()));
        QCOMPARE(column(page.tableModel(), 0).first(), QStringLiteral("conv1"));
        // Under the default FP8 storage the first conv's output carries an error; the charts show the four products.
        QCOMPARE(page.computeBox()->currentData().toString(), QStringLiteral("e4m3/fp32"));
        QVERIFY(page.result()->layers.numbers("output_rel_error").front() > 0);
        QCOMPARE(page.errorChart()->seriesNames().size(), 4);
        QCOMPARE(page.timeChart()->seriesNames().size(), 4);
        QVERIFY(page.summaryLabel()->text().contains(QStringLiteral("Accuracy: float32")));
    }

    void onnxGraphs_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("nodes");
        QTest::addColumn<int>("products");
        QTest::newRow("LeNet-5") << "lenet5.onnx" << 12 << 5;
        QTest::newRow("residual CNN") << "resnet_tiny.onnx" << 19 << 7;
    }
    void onnxGraphs() {
        QFETCH(QString, file);
        QFETCH(int, nodes);
        QFETCH(int, products);
        ui::LayersPage page;
        page.waitForIdle();
        QString error;
        QVERIFY2(page.openFile(kOnnx + file, &error), qPrintable(error));
        page.waitForIdle();
        QCOMPARE(page.modelName(), file);
        QCOMPARE(page.tableModel()->rowCount(), nodes);
        QCOMPARE(page.errorChart()->seriesNames().size(), products);
        // Native: no error anywhere; FFT on every conv (it runs 3×3 and 5×5 alike) names itself in the table.
        page.computeBox()->setCurrentIndex(page.computeBox()->findData(QStringLiteral("native")));
        page.convAlgorithmBox()->setCurrentIndex(page.convAlgorithmBox()->findData(QStringLiteral("fft")));
        page.waitForIdle();
        for (double e : page.result()->layers.numbers("output_rel_error")) QVERIFY(e == 0.0);
        QVERIFY(column(page.tableModel(), 3).contains(QStringLiteral("fft")));
        QVERIFY(*page.result()->float32Accuracy > 0.8);
        // A rank of 2 for every product: more nodes (each conv becomes two), and the float32 outputs change.
        page.rankBox()->setValue(2);
        page.waitForIdle();
        QVERIFY(page.tableModel()->rowCount() > nodes);
    }

    /// Winograd cannot run LeNet-5's 5×5 kernels: the page says which layer, and keeps the last table.
    void algorithmThatCannotRun() {
        ui::LayersPage page;
        QString error;
        QVERIFY(page.openFile(kOnnx + "lenet5.onnx", &error));
        page.waitForIdle();
        const int rows = page.tableModel()->rowCount();
        page.convAlgorithmBox()->setCurrentIndex(page.convAlgorithmBox()->findData(QStringLiteral("winograd-4x4")));
        page.waitForIdle();
        QVERIFY2(page.messageLabel()->text().contains(QStringLiteral("/conv1/Conv: winograd-4x4 cannot compute")),
                 qPrintable(page.messageLabel()->text()));
        QCOMPARE(page.tableModel()->rowCount(), rows);
    }

    void refusedFiles_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("message");
        QTest::newRow("hostile: external data") << kCorpus + "onnx-external-data"
                                                << "onnx-external-data: initializer 'w': its data is in an external file";
        QTest::newRow("not digits") << kCorpus + "onnx-valid-small" << "onnx-valid-small: the network takes 1×6×6 inputs";
        QTest::newRow("missing") << kOnnx + "missing.onnx" << "cannot open '" + kOnnx + "missing.onnx': No such file";
    }
    void refusedFiles() {
        QFETCH(QString, path);
        QFETCH(QString, message);
        ui::LayersPage page;
        page.waitForIdle();
        const QString before = page.modelName();
        QString error;
        QVERIFY(!page.openFile(path, &error));
        QVERIFY2(error.startsWith(message), qPrintable(error));
        QCOMPARE(page.messageLabel()->text(), error);
        QCOMPARE(page.modelName(), before);
        QVERIFY(page.result());
    }

    /// The whole table saved as CSV (read back by study::Table) and selected rows copied with Ctrl+C as tab-separated text.
    void saveAndCopy() {
        ui::LayersPage page;
        QString error;
        QVERIFY(page.openFile(kOnnx + "lenet5.onnx", &error));
        page.waitForIdle();
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("layers.csv"));
        QVERIFY2(page.saveTable(path, &error), qPrintable(error));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray csv = file.readAll();
        QVERIFY(csv.startsWith("# Layers of lenet5.onnx, e4m3/fp32, conv direct"));
        const study::Table back = study::Table::fromCsv(csv.toStdString(), {"node", "op", "output_shape", "algorithm"});
        QCOMPARE(back.rowCount(), page.result()->layers.rowCount());
        QCOMPARE(back.labels("node"), page.result()->layers.labels("node"));
        QVERIFY(back.numbers("output_rel_error") == page.result()->layers.numbers("output_rel_error"));  // bit for bit
        QVERIFY(!page.saveTable(dir.filePath(QStringLiteral("no/such/folder/layers.csv")), &error));
        QVERIFY2(error.contains(QStringLiteral("layers.csv")), qPrintable(error));

        page.tableView()->selectRow(0);
        page.tableView()->selectionModel()->select(page.tableModel()->index(3, 0),
                                                   QItemSelectionModel::Select | QItemSelectionModel::Rows);
        const QStringList lines = page.selectedRowsText().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        QVERIFY(lines[0].startsWith(QStringLiteral("Node\tOp\tOutput")));
        QVERIFY(lines[1].startsWith(QStringLiteral("/conv1/Conv\tConv\t6×24×24\tdirect")));
        QVERIFY(lines[2].startsWith(QStringLiteral("/conv2/Conv\tConv")));
        QGuiApplication::clipboard()->clear();
        page.tableView()->setFocus();
        QTest::keySequence(page.tableView(), QKeySequence::Copy);
        QCOMPARE(QGuiApplication::clipboard()->text(), page.selectedRowsText());
    }

    /// File ▸ Open and drag-and-drop dispatch .onnx here; the Network page takes its sequential ones by its button.
    void onnxBelongsHere() {
        ui::LayersPage layers;
        QVERIFY(layers.openableSuffixes().contains(QStringLiteral("onnx")));
        ui::NetworkPage network;
        QVERIFY(!network.openableSuffixes().contains(QStringLiteral("onnx")));
        QString error;
        QVERIFY2(network.openWeights(kOnnx + "lenet_300_100.onnx", &error), qPrintable(error));
        network.waitForIdle();
    }
};

QTEST_MAIN(tst_LayersPage)
#include "tst_layerspage.moc"
