// The network page shows what core/study computes: a corrupt weight file changes nothing and says
// why, a valid one changes the accuracy shown (checked against a direct evaluation), and the rank
// slider moves the current point on all three charts.
#include <QComboBox>
#include <QFileInfo>
#include <QLabel>
#include <QSettings>
#include <QSlider>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include "test_support.hpp"

#include <algorithm>
#include <fstream>

#include "charts/chart_panel.hpp"
#include "io/mnist.hpp"
#include "io/weights.hpp"
#include "nn/low_rank.hpp"
#include "nn/model_io.hpp"
#include "pages/network_page.hpp"
#include "study/findings.hpp"
#include "widgets/findings_view.hpp"
#include "numeric/compute_spec.hpp"
#include "study/table.hpp"
#include "widgets/digit_grid.hpp"

using namespace ks;

namespace {

QStringList sentencesOf(const ks::study::Findings& findings) {
    QStringList out;
    for (const auto& f : findings) out << QString::fromStdString(f.text);
    return out;
}

void writeBytes(const QString& path, const std::string& bytes) {
    std::ofstream out(path.toStdString(), std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

/// The embedded network with every layer replaced by its rank-r approximation, stored dense.
nn::Model lowRankDense(std::int64_t rank) {
    const nn::ModelFactorisation factors(nn::loadModel("embedded"));
    std::vector<nn::Layer> layers = factors.withSharedRank(rank).layers();
    for (auto& l : layers)
        if (l.kind == nn::LayerKind::LowRankLinear) {
            l.weight = l.up * l.down;
            l.kind = nn::LayerKind::Linear;
            l.up.resize(0, 0);
            l.down.resize(0, 0);
        }
    return nn::Model(std::move(layers));
}

double accuracyOnEmbeddedTest(const nn::Model& model) {
    const io::DigitSet test = io::embeddedSplit().test;
    return nn::accuracy(model.forward(nn::toMatrix(test.normalisedImages())), test.labels);
}

/// IDX files (big-endian header, then bytes) of the first `count` embedded test digits.
void writeIdx(const QString& images, const QString& labels, std::size_t count) {
    const io::DigitSet test = io::embeddedSplit().test;
    auto be32 = [](std::uint32_t v) {
        return std::string{char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
    };
    std::string img = be32(0x803) + be32(std::uint32_t(count)) + be32(28) + be32(28);
    img.append(reinterpret_cast<const char*>(test.pixels.data()), count * 784);
    std::string lab = be32(0x801) + be32(std::uint32_t(count));
    lab.append(reinterpret_cast<const char*>(test.labels.data()), count);
    writeBytes(images, img);
    writeBytes(labels, lab);
}

}  // namespace

class tst_NetworkPage : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("KernelScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_networkpage"));
        QSettings().clear();
        QVERIFY(dir_.isValid());
    }

    void chartsMatchTheStudy() {
        ui::NetworkPage page;
        page.waitForIdle();
        QVERIFY(page.messageLabel()->text().isEmpty());
        const auto study = study::CompressionStudy::embedded();
        study::CompressSweep sweep = page.sweep();
        sweep.measureTime = false;
        const study::Table expected = study->run(sweep);
        const auto points = page.ratioAccuracyChart()->seriesPoints(QStringLiteral("accuracy"));
        QCOMPARE(points.size(), qsizetype(expected.rowCount()));
        for (qsizetype i = 0; i < points.size(); ++i) {
            KS_COMPARE_EXACT(points[i].x(), expected.numbers("compression_ratio")[std::size_t(i)]);
            KS_COMPARE_EXACT(points[i].y(), expected.numbers("accuracy")[std::size_t(i)]);
        }
        QVERIFY(page.runtimeAccuracyChart()->seriesNames().contains(QStringLiteral("pareto front")));
        QCOMPARE(page.digitGrid()->digits().size(), 40);
    }

    // Issue 17: "What this shows" for the sweep: the smallest network within 0.5 point of dense, the Pareto front and
    // the factored layers' share of the FLOP model, written from the sweep's table.
    void findingsOfTheSweep() {
        ui::NetworkPage page;
        page.waitForIdle();
        QCoreApplication::processEvents();
        const study::Table& table = page.ratioAccuracyChart()->table();
        study::Findings expected = study::compressionFindings(table);
        for (auto& f : study::lowRankEfficiencyFindings(table)) expected.push_back(f);
        QVERIFY(!expected.empty());
        QCOMPARE(page.findingsView()->sentences(), sentencesOf(expected));
        QVERIFY2(page.findingsView()->sentences().front().startsWith(QStringLiteral("The smallest network within 0.5 point of dense")),
                 qPrintable(page.findingsView()->sentences().front()));
        QVERIFY(page.findingsView()->text().contains(QStringLiteral("of compress-ratio-accuracy.csv")));
    }

    // Issue 17: "The kept-energy sweep still labels its slider Rank". Under it the slider walks the sweep's energies
    // and sets each layer's rank to the smallest keeping that share of its squared singular values.
    void keptEnergySlider() {
        QSettings().clear();
        ui::NetworkPage page;
        page.waitForIdle();
        QCOMPARE(page.sliderName(), QStringLiteral("Rank"));
        page.sweepModeBox()->setCurrentIndex(page.sweepModeBox()->findData(int(study::CompressionMode::Energy)));
        page.waitForIdle();
        QCoreApplication::processEvents();
        QCOMPARE(page.sliderName(), QStringLiteral("Kept energy"));
        const std::vector<double> energies = study::CompressSweep{}.energies;
        QCOMPARE(page.rankSlider()->maximum(), int(energies.size()) - 1);
        const auto study = study::CompressionStudy::embedded();
        for (int i : {0, 3, int(energies.size()) - 1}) {
            page.rankSlider()->setValue(i);
            page.waitForIdle();
            QCOMPARE(page.currentRanks(), study->energyRanks(energies[std::size_t(i)]));
        }
        // Back to one rank for all layers.
        page.sweepModeBox()->setCurrentIndex(page.sweepModeBox()->findData(int(study::CompressionMode::SharedRank)));
        page.waitForIdle();
        QCOMPARE(page.sliderName(), QStringLiteral("Rank"));
        QCOMPARE(page.currentRanks(), study->sharedRanks(page.rankSlider()->value()));
        QSettings().clear();
    }

    // Issue 17: "Custom .pt layers show only as 1 / 3 / 5": an nn.Sequential's state dict names its layers by index;
    // the page says "layer 1 (784→32)".
    void sequentialIndicesReadAsLayers() {
        QTemporaryDir dir;
        std::vector<io::NamedTensor> tensors;
        const std::int64_t widths[] = {784, 32, 16, 10};
        for (int i = 0; i < 3; ++i) {
            const std::string name = std::to_string(2 * i + 1);
            TensorF w({widths[i + 1], widths[i]});
            for (std::size_t k = 0; k < w.size(); ++k) w[k] = float((k * 7919) % 13) / 100.0f - 0.06f;
            TensorF b({widths[i + 1]});
            tensors.push_back({name + ".weight", w, "float32"});
            tensors.push_back({name + ".bias", b, "float32"});
        }
        const QString path = dir.filePath(QStringLiteral("sequential.safetensors"));
        io::writeSafetensors(path.toStdString(), tensors);
        ui::NetworkPage page;
        page.waitForIdle();
        QString error;
        QVERIFY2(page.openFile(path, &error), qPrintable(error));
        page.waitForIdle();
        QStringList labels;
        for (QLabel* l : page.findChildren<QLabel*>()) labels << l->text();
        for (const char* caption : {"layer 1 (784→32)", "layer 3 (32→16)", "layer 5 (16→10)"})
            QVERIFY2(labels.contains(QString::fromUtf8(caption)), qPrintable(labels.join(QLatin1Char('|'))));
        QCOMPARE(ui::layerCaption(QStringLiteral("fc1"), 784, 512), QStringLiteral("fc1 (784→512)"));
    }

    void sliderMovesTheCurrentPoint() {
        ui::NetworkPage page;
        QSlider* slider = page.rankSlider();
        slider->setValue(8);
        page.waitForIdle();
        // The ratio charts' marker follows at once, at the closed-form ratio.
        const double ratio8 = (8.0 * (784 + 512) + 512 + 8.0 * (512 + 128) + 128 + 8.0 * (128 + 10) + 10) / 468874.0;
        KS_COMPARE_EXACT(page.ratioAccuracyChart()->spec().currentX.value(), ratio8);
        KS_COMPARE_EXACT(page.ratioRuntimeChart()->spec().currentX.value(), ratio8);
        QVERIFY(page.currentPoint().has_value());
        const double accuracy8 = page.currentPoint()->accuracy;
        auto current = page.runtimeAccuracyChart()->seriesPoints(QStringLiteral("current"));
        QCOMPARE(current.size(), qsizetype(1));
        KS_COMPARE_EXACT(current[0].y(), accuracy8);
        QCOMPARE(current[0].x(), page.currentPoint()->medianMs);
        // The value is core's, for the same ranks (a few digits may flip with the thread split).
        const auto study = study::CompressionStudy::embedded();
        study::CompressSweep quiet;
        quiet.measureTime = false;
        QVERIFY(std::abs(study->evaluate("r8", study->sharedRanks(8), quiet).accuracy - accuracy8) <= 2.0 / 2000);

        slider->setFocus();
        QTest::keyClick(slider, Qt::Key_PageUp);  // keyboard-operable: +8
        QCOMPARE(slider->value(), 16);
        slider->setValue(64);
        page.waitForIdle();
        QVERIFY(page.ratioAccuracyChart()->spec().currentX.value() > ratio8);
        current = page.runtimeAccuracyChart()->seriesPoints(QStringLiteral("current"));
        QCOMPARE(current.size(), qsizetype(1));
        QCOMPARE(current[0].y(), page.currentPoint()->accuracy);
        QVERIFY(page.currentPoint()->accuracy > accuracy8 + 0.05);  // rank 8 loses much more than 64
        QVERIFY(page.accuracyLabel()->text().contains(QString::number(100 * page.currentPoint()->accuracy, 'f', 2)));
    }

    void unusableFilesKeepTheModel() {
        // One page for every case (each page runs a sweep: keep the test quick under the sanitizers).
        ui::NetworkPage page;
        page.rankSlider()->setValue(32);
        page.waitForIdle();
        const QString description = page.modelDescription();
        const double accuracy = page.currentPoint()->accuracy;

        // A header that claims far more data than the file holds.
        const std::string lying = "{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[512,784],\"data_offsets\":[0,1605632]}}";
        std::string truncated(8, '\0');
        for (int i = 0; i < 8; ++i) truncated[std::size_t(i)] = char((std::uint64_t(lying.size()) >> (8 * i)) & 0xff);
        truncated += lying + std::string(16, '\0');
        const QString wrongNetwork = dir_.filePath(QStringLiteral("seven-classes.safetensors"));
        nn::saveModel(wrongNetwork.toStdString(), nn::Model::mlp({784, 7}, 1));  // valid file, not a digit classifier
        const std::vector<std::pair<QString, std::string>> files = {
            {QStringLiteral("garbage.safetensors"), "this is not a weight file"},
            {QStringLiteral("truncated.safetensors"), truncated},
            {QStringLiteral("empty.pt"), ""},
        };
        for (const auto& [name, bytes] : files) writeBytes(dir_.filePath(name), bytes);
        QStringList paths = {wrongNetwork};
        for (const auto& f : files) paths << dir_.filePath(f.first);
        for (const QString& path : paths) {
            QString error;
            QVERIFY(!page.openWeights(path, &error));
            QVERIFY2(error.contains(QFileInfo(path).fileName()), qPrintable(error));
            QCOMPARE(page.messageLabel()->text(), error);
            page.waitForIdle();
            QCOMPARE(page.modelDescription(), description);
            QCOMPARE(page.currentPoint()->accuracy, accuracy);
        }
    }

    void validFileChangesTheAccuracy() {
        ui::NetworkPage page;
        page.rankSlider()->setValue(64);
        page.waitForIdle();
        const double before = page.currentPoint()->accuracy;
        const QString labelBefore = page.accuracyLabel()->text();

        const nn::Model rank6 = lowRankDense(6);
        const QString path = dir_.filePath(QStringLiteral("rank6.safetensors"));
        nn::saveModel(path.toStdString(), rank6);
        QString error;
        QVERIFY2(page.openWeights(path, &error), qPrintable(error));
        QVERIFY(page.messageLabel()->text().isEmpty());
        QVERIFY(page.modelDescription().startsWith(QStringLiteral("rank6.safetensors")));
        page.waitForIdle();
        // Rank 64 of a rank-6 matrix is that matrix: the page shows the rank-6 network's accuracy.
        const double expected = accuracyOnEmbeddedTest(rank6);
        QVERIFY2(std::abs(page.currentPoint()->accuracy - expected) <= 2.0 / 2000,
                 qPrintable(QStringLiteral("%1 vs %2").arg(page.currentPoint()->accuracy).arg(expected)));
        QVERIFY(std::abs(page.currentPoint()->accuracy - before) > 0.05);
        QVERIFY(page.accuracyLabel()->text() != labelBefore);

        page.openEmbedded();
        page.waitForIdle();
        QCOMPARE(page.currentPoint()->accuracy, before);
    }

    // The embedded CNN: its convolutions run through the algorithm chosen on the page, and the
    // accuracy shown is core's for that model, algorithm and rank.
    void embeddedCnnWithEachConvolutionAlgorithm_data() {
        QTest::addColumn<QString>("algorithm");
        for (const char* name : {"direct", "winograd-4x4"}) QTest::newRow(name) << QString::fromLatin1(name);
    }
    void embeddedCnnWithEachConvolutionAlgorithm() {
        QFETCH(QString, algorithm);
        ui::NetworkPage page;
        page.waitForIdle();
        QVERIFY(!page.convAlgorithmBox()->isEnabled());  // the MLP has no convolutions
        page.openEmbedded(ui::NetworkPage::EmbeddedModel::Cnn);
        QVERIFY(page.convAlgorithmBox()->isEnabled());
        QVERIFY(page.modelDescription().contains(QStringLiteral("CNN")));
        const int index = page.convAlgorithmBox()->findData(algorithm);
        QVERIFY(index >= 0);
        page.convAlgorithmBox()->setCurrentIndex(index);
        page.rankSlider()->setValue(8);
        page.waitForIdle();
        QVERIFY2(page.messageLabel()->text().isEmpty(), qPrintable(page.messageLabel()->text()));
        QCOMPARE(page.sweep().convAlgorithm, algorithm.toStdString());

        const nn::Model cnn = nn::loadModel("embedded-cnn");
        const io::DigitSplit split = io::embeddedSplit();
        study::CompressionStudy study(cnn, split.test, {}, "embedded-cnn");
        study::CompressSweep quiet = page.sweep();
        quiet.measureTime = false;
        const double expected = study.evaluate("r8", study.sharedRanks(8), quiet).accuracy;
        QVERIFY(page.currentPoint().has_value());
        QVERIFY2(std::abs(page.currentPoint()->accuracy - expected) <= 2.0 / 2000,
                 qPrintable(QStringLiteral("%1 vs %2").arg(page.currentPoint()->accuracy).arg(expected)));
        QVERIFY(page.currentPoint()->accuracy > 0.9);  // rank 8 of fc1 (784 → 64) keeps the CNN useful

        page.openEmbedded();
        QVERIFY(!page.convAlgorithmBox()->isEnabled());
        page.waitForIdle();
    }

    // The bit-width slider: each step classifies all 2,000 test digits in the slider's format (the MLP
    // runs on float32 lanes), the accuracy exactly that of a direct emulated evaluation; the accuracy-vs-bits
    // curve holds every position of the family with the same numbers; arithmetic that cannot run on the
    // lanes (here stochastic rounding) classifies the subset and says how many.
    void bitWidthSliderReclassifiesEveryDigit() {
        ui::NetworkPage page;
        page.rankSlider()->setValue(512);  // dense
        page.computeBox()->setCurrentIndex(page.computeBox()->findData(QStringLiteral("family")));
        page.familyBox()->setCurrentIndex(page.familyBox()->findData(QStringLiteral("e5")));
        QVERIFY(page.bitsSlider()->isEnabled());
        QCOMPARE(page.bitsSlider()->minimum(), 1);
        QCOMPARE(page.bitsSlider()->maximum(), 10);
        QCOMPARE(page.bitsSlider()->value(), 10);  // fp16, the family's widest named format
        page.waitForIdle();

        const nn::Model mlp = nn::loadModel("embedded");
        const io::DigitSet test = io::embeddedSplit().test;
        const nn::MatrixF inputs = nn::toMatrix(test.normalisedImages());
        for (int bits : {2, 5}) {
            page.bitsSlider()->setValue(bits);
            page.waitForIdle();
            QVERIFY2(page.messageLabel()->text().isEmpty(), qPrintable(page.messageLabel()->text()));
            const auto spec = numeric::parseComputeSpec("e5m" + std::to_string(bits));
            QCOMPARE(page.model()->computeName(), numeric::computeSpecName(spec));
            QVERIFY(page.currentPoint().has_value());
            QCOMPARE(page.currentPoint()->testDigits, std::size_t{2000});
            const double expected = nn::accuracy(mlp.forward(inputs, spec), test.labels);
            KS_COMPARE_EXACT(page.currentPoint()->accuracy, expected);
            QVERIFY(page.accuracyLabel()->text().contains(QStringLiteral("e5m%1").arg(bits)));

            const study::Table& curve = page.model()->curveTable();
            QCOMPARE(curve.rowCount(), std::size_t{10});
            const auto& positions = curve.column("position").numbers();
            const auto at = std::find(positions.begin(), positions.end(), double(bits)) - positions.begin();
            KS_COMPARE_EXACT(curve.column("accuracy").numbers()[std::size_t(at)], expected);
            KS_COMPARE_EXACT(curve.column("test_digits").numbers()[std::size_t(at)], 2000.0);
        }
        KS_COMPARE_EXACT(page.accuracyBitsChart()->spec().currentX.value(), 5.0);
        QCOMPARE(page.accuracyBitsChart()->seriesPoints(page.accuracyBitsChart()->seriesNames().value(0)).size(), qsizetype(10));

        // Directed and stochastic roundings run on the float32 lanes too: all digits.
        page.roundingBox()->setCurrentIndex(page.roundingBox()->findData(int(numeric::Rounding::TowardZero)));
        page.waitForIdle();
        QCOMPARE(page.currentPoint()->testDigits, std::size_t{2000});
        QVERIFY(page.model()->computeName().find("toward-zero") != std::string::npos);
        page.roundingBox()->setCurrentIndex(page.roundingBox()->findData(int(numeric::Rounding::Stochastic)));
        page.waitForIdle();
        QCOMPARE(page.currentPoint()->testDigits, std::size_t{2000});
        QVERIFY(page.model()->computeName().find("stochastic") != std::string::npos);

        page.computeBox()->setCurrentIndex(page.computeBox()->findData(QStringLiteral("native")));
        QVERIFY(!page.bitsSlider()->isEnabled());
        page.waitForIdle();
        QCOMPARE(page.model()->computeName(), std::string("native"));
        QCOMPARE(page.model()->curveTable().rowCount(), std::size_t{0});
    }

    // Issue 18: the block-scaled formats classify every digit (float32 lanes after the quantisation), exactly as a direct
    // emulated evaluation; a tensor-core preset runs the modelled sums on a subset and says how many.
    void blockScaledAndTensorCoreChoices() {
        ui::NetworkPage page;
        page.rankSlider()->setValue(512);  // dense
        page.computeBox()->setCurrentIndex(page.computeBox()->findData(QStringLiteral("mxfp4/fp32")));
        page.waitForIdle();
        QCOMPARE(page.model()->computeName(), std::string("mxfp4/fp32"));
        QVERIFY(page.currentPoint().has_value());
        QCOMPARE(page.currentPoint()->testDigits, std::size_t{2000});
        const nn::Model mlp = nn::loadModel("embedded");
        const io::DigitSet test = io::embeddedSplit().test;
        const double expected = nn::accuracy(mlp.forward(nn::toMatrix(test.normalisedImages()),
                                                         numeric::parseComputeSpec("mxfp4/fp32")), test.labels);
        KS_COMPARE_EXACT(page.currentPoint()->accuracy, expected);
        page.computeBox()->setCurrentIndex(page.computeBox()->findData(QStringLiteral("hopper-fp8")));
        page.waitForIdle();
        QCOMPARE(page.model()->computeName(), std::string("hopper-fp8"));
        QVERIFY(page.currentPoint().has_value());
        QVERIFY(page.currentPoint()->testDigits < 2000);
        QVERIFY(page.currentPoint()->accuracy > 0.9);
        page.computeBox()->setCurrentIndex(page.computeBox()->findData(QStringLiteral("native")));
        page.waitForIdle();
        QSettings().clear();
    }

    void idxDigitsReplaceTheTestSet() {
        ui::NetworkPage page;
        page.waitForIdle();
        const QString images = dir_.filePath(QStringLiteral("t10k-images-idx3-ubyte"));
        writeIdx(images, dir_.filePath(QStringLiteral("t10k-labels-idx1-ubyte")), 60);
        QString error;
        QVERIFY2(page.openFile(images, &error), qPrintable(error));  // the window's Open… lands here
        page.waitForIdle();
        QCOMPARE(page.currentPoint()->testDigits, std::size_t{60});
        QVERIFY(page.modelDescription().contains(QStringLiteral("60 digits")));

        // An images file without its labels file beside it: an error, and the 60 digits stay.
        const QString lonely = dir_.filePath(QStringLiteral("lonely-images-idx3-ubyte"));
        writeBytes(lonely, "\0\0\x08\x03");
        QVERIFY(!page.openFile(lonely, &error));
        QVERIFY2(error.contains(QStringLiteral("lonely-labels-idx1-ubyte")), qPrintable(error));
        page.waitForIdle();
        QCOMPARE(page.currentPoint()->testDigits, std::size_t{60});

        page.openEmbedded();
        page.waitForIdle();
        QCOMPARE(page.currentPoint()->testDigits, std::size_t{2000});
    }
};

QTEST_MAIN(tst_NetworkPage)
#include "tst_networkpage.moc"
