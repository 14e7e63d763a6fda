// The files the network study opens: which kind a name is, which labels file pairs with an images file,
// which digits and networks fit, and that every refusal names the file. Expected names and messages are
// written out here; the digits read back are compared with the embedded digits that were written.
#include <QTemporaryDir>
#include <QTest>

#include <fstream>

#include "test_support.hpp"

#include "io/mnist.hpp"
#include "nn/model_io.hpp"
#include "study/network_files.hpp"

using namespace ks;
using study::NetworkFileKind;

Q_DECLARE_METATYPE(NetworkFileKind)

namespace {

void writeBytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

std::string be32(std::uint32_t v) {
    return std::string{char(v >> 24), char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
}

/// IDX images (count × rows × cols) taken from the embedded test digits (28×28) or grey 0x10 pixels.
std::string idxImages(std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
    std::string out = be32(0x803) + be32(count) + be32(rows) + be32(cols);
    if (rows == 28 && cols == 28) {
        const io::DigitSet test = io::embeddedSplit().test;
        out.append(reinterpret_cast<const char*>(test.pixels.data()), std::size_t(count) * 784);
    } else {
        out.append(std::size_t(count) * rows * cols, '\x10');
    }
    return out;
}

std::string idxLabels(std::uint32_t count) {
    const io::DigitSet test = io::embeddedSplit().test;
    return be32(0x801) + be32(count) + std::string(reinterpret_cast<const char*>(test.labels.data()), count);
}

}  // namespace

class tst_NetworkFiles : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    std::filesystem::path path(const char* name) const { return std::filesystem::path(dir_.path().toStdString()) / name; }

private Q_SLOTS:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void kindByName_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<NetworkFileKind>("kind");
        QTest::newRow("images") << "/d/t10k-images-idx3-ubyte" << NetworkFileKind::MnistImages;
        QTest::newRow("images .gz") << "/d/train-images-idx3-ubyte.gz" << NetworkFileKind::MnistImages;
        QTest::newRow("images, dotted") << "t10k-images.idx3-ubyte" << NetworkFileKind::MnistImages;
        QTest::newRow("safetensors") << "/d/mlp.safetensors" << NetworkFileKind::Weights;
        QTest::newRow("pt") << "/d/model.pt" << NetworkFileKind::Weights;
        QTest::newRow("labels are no images") << "/d/t10k-labels-idx1-ubyte" << NetworkFileKind::Weights;
        QTest::newRow("folder named like images") << "/idx3-ubyte/w.npz" << NetworkFileKind::Weights;
        QTest::newRow("case as written") << "/d/T10K-IMAGES-IDX3-UBYTE" << NetworkFileKind::Weights;
        QTest::newRow("anything else") << "/d/notes.txt" << NetworkFileKind::Weights;
    }
    void kindByName() {
        QFETCH(QString, name);
        QFETCH(NetworkFileKind, kind);
        QCOMPARE(study::networkFileKind(name.toStdString()), kind);
    }

    void suffixes() {
        QCOMPARE(study::networkFileSuffixes(),
                 (std::vector<std::string>{"pt", "pth", "safetensors", "npz", "onnx", "idx3-ubyte", "idx3-ubyte.gz"}));
        // Every suffix's own example is of the kind it stands for.
        for (const std::string& suffix : study::networkFileSuffixes()) {
            const bool images = suffix.starts_with("idx3");
            QCOMPARE(study::networkFileKind("/d/t10k-images-" + suffix),
                     images ? NetworkFileKind::MnistImages : NetworkFileKind::Weights);
        }
    }

    void labelsBesideImages_data() {
        QTest::addColumn<QString>("images");
        QTest::addColumn<QString>("labels");
        QTest::newRow("plain") << "/d/t10k-images-idx3-ubyte" << "/d/t10k-labels-idx1-ubyte";
        QTest::newRow("gz") << "/d/t10k-images-idx3-ubyte.gz" << "/d/t10k-labels-idx1-ubyte.gz";
        QTest::newRow("dotted") << "/d/train-images.idx3-ubyte" << "/d/train-labels.idx1-ubyte";
        QTest::newRow("bare name: in .") << "lonely-images-idx3-ubyte" << "./lonely-labels-idx1-ubyte";
        QTest::newRow("folder name untouched") << "/images-idx3-ubyte/x-images-idx3-ubyte" << "/images-idx3-ubyte/x-labels-idx1-ubyte";
        QTest::newRow("not an images name") << "/d/digits-idx3-ubyte" << "";
        QTest::newRow("weights") << "/d/w.safetensors" << "";
    }
    void labelsBesideImages() {
        QFETCH(QString, images);
        QFETCH(QString, labels);
        QCOMPARE(QString::fromStdString(study::mnistLabelsFileFor(images.toStdString()).string()), labels);
    }

    void readsDigitsBesideTheirLabels_data() {
        QTest::addColumn<QString>("images");
        QTest::addColumn<QString>("labels");
        QTest::newRow("plain") << "a-images-idx3-ubyte" << "a-labels-idx1-ubyte";
        QTest::newRow("dotted") << "b-images.idx3-ubyte" << "b-labels.idx1-ubyte";
    }
    void readsDigitsBesideTheirLabels() {
        QFETCH(QString, images);
        QFETCH(QString, labels);
        writeBytes(path(qPrintable(images)), idxImages(60, 28, 28));
        writeBytes(path(qPrintable(labels)), idxLabels(60));
        const io::DigitSet digits = study::readMnistTestDigits(path(qPrintable(images)));
        const io::DigitSet test = io::embeddedSplit().test;
        QCOMPARE(digits.count(), std::size_t{60});
        QCOMPARE(digits.rows, 28);
        QCOMPARE(digits.cols, 28);
        QVERIFY(std::equal(digits.pixels.begin(), digits.pixels.end(), test.pixels.begin()));
        QVERIFY(std::equal(digits.labels.begin(), digits.labels.end(), test.labels.begin()));
    }

    // Each refusal: "<images file>: why", and the reader's own message passed on whole.
    void refusedDigits_data() {
        QTest::addColumn<QString>("images");
        QTest::addColumn<QString>("labels");  // empty: no labels file written
        QTest::addColumn<QByteArray>("imageBytes");
        QTest::addColumn<QByteArray>("labelBytes");
        QTest::addColumn<QString>("expected");  // the whole message, %1 = the images file's full path
        auto bytes = [](const std::string& s) { return QByteArray(s.data(), qsizetype(s.size())); };
        QTest::newRow("not an images name")
            << "digits-idx3-ubyte" << "" << bytes(idxImages(1, 28, 28)) << QByteArray()
            << "digits-idx3-ubyte: not an MNIST images file (expected a name like t10k-images-idx3-ubyte)";
        QTest::newRow("no labels beside") << "lonely-images-idx3-ubyte" << "" << QByteArray("\0\0\x08\x03", 4) << QByteArray()
                                          << "lonely-images-idx3-ubyte: its labels file lonely-labels-idx1-ubyte is not beside it";
        QTest::newRow("5×5 pixels") << "small-images-idx3-ubyte" << "small-labels-idx1-ubyte" << bytes(idxImages(3, 5, 5))
                                    << bytes(idxLabels(3))
                                    << "small-images-idx3-ubyte: the digits are 5×5 pixels; the network reads 28×28";
        QTest::newRow("no digits") << "none-images-idx3-ubyte" << "none-labels-idx1-ubyte" << bytes(idxImages(0, 28, 28))
                                   << bytes(idxLabels(0)) << "none-images-idx3-ubyte: it holds no digits";
        QTest::newRow("counts differ") << "odd-images-idx3-ubyte" << "odd-labels-idx1-ubyte" << bytes(idxImages(2, 28, 28))
                                       << bytes(idxLabels(3))
                                       << "odd-images-idx3-ubyte: %1: 2 images but the label file has 3 labels (header says 3)";
    }
    void refusedDigits() {
        QFETCH(QString, images);
        QFETCH(QString, labels);
        QFETCH(QByteArray, imageBytes);
        QFETCH(QByteArray, labelBytes);
        QFETCH(QString, expected);
        const std::filesystem::path imagesPath = path(qPrintable(images));
        writeBytes(imagesPath, imageBytes.toStdString());
        if (!labels.isEmpty()) writeBytes(path(qPrintable(labels)), labelBytes.toStdString());
        try {
            (void)study::readMnistTestDigits(imagesPath);
            QFAIL("refused digits were accepted");
        } catch (const study::NetworkFileError& e) {
            expected.replace(QLatin1String("%1"), QString::fromStdString(imagesPath.string()));
            QCOMPARE(QString::fromStdString(e.what()), expected);
        }
    }

    void digitClassifiers_data() {
        QTest::addColumn<QString>("source");  // "embedded", "embedded-cnn" or "mlp:in,hidden…,out"
        QTest::addColumn<QString>("mismatch");
        QTest::newRow("embedded MLP") << "embedded" << "";
        QTest::newRow("embedded CNN") << "embedded-cnn" << "";
        QTest::newRow("784 → 10") << "mlp:784,32,10" << "";
        QTest::newRow("7 classes") << "mlp:784,7"
                                   << "the network maps 784 inputs to 7 outputs; digits need 784 inputs (28×28 pixels) and 10 classes";
        QTest::newRow("100 inputs") << "mlp:100,10"
                                    << "the network maps 100 inputs to 10 outputs; digits need 784 inputs (28×28 pixels) and 10 classes";
    }
    void digitClassifiers() {
        QFETCH(QString, source);
        QFETCH(QString, mismatch);
        nn::Model model;
        if (source.startsWith(QLatin1String("mlp:"))) {
            std::vector<std::int64_t> sizes;
            for (const QString& n : source.mid(4).split(QLatin1Char(','))) sizes.push_back(n.toLongLong());
            model = nn::Model::mlp(sizes, 1);
        } else {
            model = nn::loadModel(source.toStdString());
        }
        const auto found = study::digitClassifierMismatch(model);
        QCOMPARE(found.has_value(), !mismatch.isEmpty());
        if (found) QCOMPARE(QString::fromStdString(*found), mismatch);

        // Saved and loaded back: the same verdict, now naming the file.
        const std::filesystem::path file = path("classifier.safetensors");
        nn::saveModel(file, model);
        const QString error = test::errorOf([&] { (void)study::loadDigitClassifier(file); });
        QCOMPARE(error, mismatch.isEmpty() ? QString() : QStringLiteral("classifier.safetensors: ") + mismatch);
    }

    // ONNX models (issue 20): a chain of Model layers opens as that Model; another graph is refused saying which node
    // is not, and where it runs instead.
    void onnxDigitClassifiers_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("error");  // empty: it opens
        QTest::newRow("LeNet-300-100") << "lenet_300_100.onnx" << "";
        QTest::newRow("small CNN") << "cnn_tiny.onnx" << "";
        QTest::newRow("LeNet-5") << "lenet5.onnx"
                                 << "lenet5.onnx: not a sequential network (/AveragePool (AveragePool) has no layer in a "
                                    "sequential model); `kernelscope-cli eval` and `layers` run any ONNX graph";
        QTest::newRow("residual") << "resnet_tiny.onnx" << "resnet_tiny.onnx: not a sequential network (";
    }
    void onnxDigitClassifiers() {
        QFETCH(QString, file);
        QFETCH(QString, error);
        const std::filesystem::path onnx = std::filesystem::path(KS_TEST_SOURCE_DIR) / "data" / "onnx" / file.toStdString();
        const QString found = test::errorOf([&] {
            const nn::Model model = study::loadDigitClassifier(onnx);
            QCOMPARE(model.outputFeatures(), std::int64_t(10));
        });
        if (error.isEmpty()) QCOMPARE(found, QString());
        else QVERIFY2(found.startsWith(error), qPrintable(found));
        // Not an ONNX model at all, by its name: the ONNX reader's message.
        const std::filesystem::path garbage = path("garbage.onnx");
        writeBytes(garbage, "not a model");
        QCOMPARE(test::errorOf([&] { (void)study::loadDigitClassifier(garbage); }),
                 QStringLiteral("garbage.onnx: not an ONNX model (the protobuf does not parse: truncated, or another kind of file)"));
    }

    // The loader's messages keep their own mention of the file; otherwise the name comes first.
    void refusedWeightFiles_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("bytes");
        QTest::newRow("garbage") << "garbage.safetensors" << QByteArray("this is not a weight file");
        QTest::newRow("empty .pt") << "empty.pt" << QByteArray();
        QTest::newRow("missing") << "missing.npz" << QByteArray("(not written)");
    }
    void refusedWeightFiles() {
        QFETCH(QString, name);
        QFETCH(QByteArray, bytes);
        const std::filesystem::path file = path(qPrintable(name));
        if (!name.startsWith(QLatin1String("missing"))) writeBytes(file, bytes.toStdString());
        const QString loader = test::errorOf([&] { (void)nn::loadModel(file.string()); });
        QVERIFY(!loader.isEmpty());
        const QString error = test::errorOf([&] { (void)study::loadDigitClassifier(file); });
        QCOMPARE(error, loader.contains(name) ? loader : name + QStringLiteral(": ") + loader);
        QVERIFY2(error.contains(name), qPrintable(error));
    }
};

QTEST_MAIN(tst_NetworkFiles)
#include "tst_network_files.moc"
