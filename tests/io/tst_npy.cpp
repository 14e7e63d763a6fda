// .npy round trips and every malformed case: each must be a clear NpyError, never a crash.
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <fstream>

#include "test_support.hpp"

#include "io/file_util.hpp"
#include "io/npy.hpp"

using namespace ks;

namespace {

std::span<const std::byte> bytesOf(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

/// A .npy image with the given header dictionary and `dataBytes` bytes of payload.
std::string npyWithHeader(const std::string& dict, std::size_t dataBytes) {
    std::string header = dict;
    const std::size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::string out("\x93NUMPY\x01\x00", 8);
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    out += header;
    out.append(dataBytes, '\0');
    return out;
}

Shape shapeFromList(const QList<int>& dims) { return Shape(dims.begin(), dims.end()); }

}  // namespace

class tst_Npy : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void roundTrip_data() {
        QTest::addColumn<QList<int>>("dims");
        QTest::addColumn<bool>("doublePrecision");
        const QList<QList<int>> shapes = {{}, {0}, {1}, {7}, {3, 4}, {2, 0, 5}, {2, 3, 4}, {1, 2, 3, 4, 5}, {2, 1, 1, 1, 1, 3}};
        for (bool dbl : {false, true})
            for (const auto& s : shapes) {
                QString name = dbl ? QStringLiteral("f8") : QStringLiteral("f4");
                for (int d : s) name += QLatin1Char('_') + QString::number(d);
                QTest::newRow(qPrintable(name)) << s << dbl;
            }
    }
    void roundTrip() {
        QFETCH(QList<int>, dims);
        QFETCH(bool, doublePrecision);
        const Shape shape = shapeFromList(dims);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const std::string path = dir.filePath(QStringLiteral("a.npy")).toStdString();
        if (doublePrecision) {
            TensorD t(shape);
            for (std::size_t i = 0; i < t.size(); ++i) t[i] = 1.0 / (3.0 + i) - static_cast<double>(i);
            io::writeNpy(path, t);
            const io::NpyArray back = io::readNpy(path);
            QCOMPARE(back.dtype(), io::NpyDtype::Float64);
            QVERIFY(back.shape() == shape);
            const TensorD d = back.toDouble();
            // Bit for bit.
            QCOMPARE(ks::test::firstBitDifference<double>(d.storage(), t.storage()), std::ptrdiff_t{-1});
        } else {
            TensorF t(shape);
            for (std::size_t i = 0; i < t.size(); ++i) t[i] = 1.0f / (3.0f + i) - static_cast<float>(i);
            io::writeNpy(path, t);
            const io::NpyArray back = io::readNpy(path);
            QCOMPARE(back.dtype(), io::NpyDtype::Float32);
            QVERIFY(back.shape() == shape);
            const TensorF f = back.toFloat();
            QCOMPARE(ks::test::firstBitDifference<float>(f.storage(), t.storage()), std::ptrdiff_t{-1});
        }
    }

    // The exact bytes numpy 1.24 writes for np.arange(6, dtype='<f4').reshape(2, 3): header layout
    // and padding must match so numpy users can read our files and we theirs.
    void headerMatchesNumpy() {
        TensorF t({2, 3});
        for (int i = 0; i < 6; ++i) t[i] = static_cast<float>(i);
        const std::string bytes = io::serializeNpy(t);
        const std::string expectedHeader = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        QCOMPARE(bytes.size(), std::size_t{128 + 24});
        QCOMPARE(bytes.substr(10, expectedHeader.size()), expectedHeader);
        QCOMPARE(bytes[127], '\n');
        TensorF one({5});
        QVERIFY(io::serializeNpy(one).find("'shape': (5,), }") != std::string::npos);
        TensorF scalar(Shape{});
        QVERIFY(io::serializeNpy(scalar).find("'shape': (), }") != std::string::npos);
    }

    void malformed_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expectedMessage");
        auto add = [](const char* name, const std::string& s, const char* message) {
            QTest::newRow(name) << QByteArray(s.data(), static_cast<qsizetype>(s.size())) << QString::fromLatin1(message);
        };
        const std::string good = npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 24);
        add("empty", "", "magic");
        add("not npy", "hello world, this is text", "magic");
        add("truncated header", good.substr(0, 40), "truncated");
        add("truncated data", good.substr(0, good.size() - 1), "truncated");
        add("trailing data", good + "xx", "after the data");
        add("fortran order", npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", 24), "Fortran");
        add("int dtype", npyWithHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", 24), "'<i4' is not supported");
        add("float16 dtype", npyWithHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", 12), "not supported");
        add("big endian", npyWithHeader("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", 16), "big-endian");
        add("lying huge shape", npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }", 16), "truncated");
        add("overflowing shape", npyWithHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904, 8), }", 16), "overflow");
        add("negative dim", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", 24), "non-integer");
        add("no shape", npyWithHeader("{'descr': '<f4', 'fortran_order': False, }", 24), "'shape'");
        add("no descr", npyWithHeader("{'fortran_order': False, 'shape': (2, 3), }", 24), "'descr'");
        add("unclosed tuple", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3 }", 24), "not closed");
        add("bad fortran value", npyWithHeader("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", 24), "fortran_order");
        add("header not dict", npyWithHeader("['descr', '<f4']", 24), "dictionary");
        std::string badVersion = good;
        badVersion[6] = '\x09';
        add("unknown version", badVersion, "version");
    }
    void malformed() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expectedMessage);
        const std::string data(bytes.constData(), static_cast<std::size_t>(bytes.size()));
        try {
            io::parseNpy(bytesOf(data), "x.npy");
            QFAIL("malformed data was accepted");
        } catch (const io::NpyError& e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.startsWith(QLatin1String("x.npy: ")), qPrintable(message));
            QVERIFY2(message.contains(expectedMessage), qPrintable(message));
        }
    }

    void missingFileNamesPath() {
        try {
            io::readNpy("/nonexistent/dir/a.npy");
            QFAIL("missing file was accepted");
        } catch (const std::runtime_error& e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QLatin1String("/nonexistent/dir/a.npy")));
        }
    }

    void failedWriteKeepsOldFile() {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("keep.npy")).toStdString();
        TensorF t({2});
        t[0] = 1;
        t[1] = 2;
        io::writeNpy(path, t);
        // Writing into a folder that does not exist fails and leaves nothing half-written.
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, io::writeNpy(dir.filePath(QStringLiteral("no/such/x.npy")).toStdString(), t));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files), QStringList{QStringLiteral("keep.npy")});
        KS_COMPARE_EXACT(io::readNpyFloat(path)[1], 2.0f);
    }
};

QTEST_APPLESS_MAIN(tst_Npy)
#include "tst_npy.moc"
