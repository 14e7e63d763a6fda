// The GUI's file reads and writes hold to the CLI's rules: a FIFO or a device named like an image or a weight file
// is refused at once (before, opening a FIFO blocked the GUI thread), and a chart export does not replace a symbolic
// link, a FIFO or a read-only file.
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "charts/chart_panel.hpp"
#include "io/weights.hpp"
#include "main_window.hpp"
#include "pages/low_rank_page.hpp"
#include "pages/network_page.hpp"
#include "hostile_targets.hpp"
#include "test_support.hpp"

namespace {

/// Runs `open` (which may block in open() on a FIFO). After 10 s a watchdog opens the FIFO for writing, which
/// releases a blocked reader; returns whether that was needed.
template <class Fn>
bool blockedOnFifo(const QString& fifo, Fn&& open) {
    std::atomic<bool> done{false}, released{false};
    std::thread watchdog([&] {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (done) return;
        const int writer = ::open(QFile::encodeName(fifo).constData(), O_WRONLY | O_NONBLOCK);
        if (writer >= 0) {
            released = true;
            ::close(writer);
        }
    });
    open();
    done = true;
    watchdog.join();
    return released;
}

}  // namespace

class tst_GuiFiles : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("KernelScopeTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_gui_files"));
    }

    void openRefusesNonRegular_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("kind");
        QTest::newRow("FIFO as .png (low-rank page)") << QStringLiteral("photo.png") << QStringLiteral("fifo");
        QTest::newRow("FIFO as .npy (low-rank page)") << QStringLiteral("matrix.npy") << QStringLiteral("fifo");
        QTest::newRow("FIFO as .safetensors (network page)") << QStringLiteral("w.safetensors") << QStringLiteral("fifo");
        QTest::newRow("link to /dev/zero as .png") << QStringLiteral("zero.png") << QStringLiteral("zero");
        QTest::newRow("link to /dev/zero as .pt") << QStringLiteral("zero.pt") << QStringLiteral("zero");
    }
    void openRefusesNonRegular() {
        QFETCH(QString, name);
        QFETCH(QString, kind);
        QTemporaryDir dir;
        const QString path = dir.filePath(name);
        if (kind == QLatin1String("fifo")) QCOMPARE(::mkfifo(QFile::encodeName(path).constData(), 0600), 0);
        else QVERIFY(QFile::link(QStringLiteral("/dev/zero"), path));
        ks::ui::MainWindow window;
        bool opened = true;
        QString error;
        const bool blocked = blockedOnFifo(path, [&] { opened = window.openFile(path, &error); });
        QVERIFY2(!blocked, "opening blocked until the watchdog wrote to the FIFO");
        QVERIFY(!opened);
        const QString expected = kind == QLatin1String("fifo") ? QStringLiteral("it is a FIFO")
                                                               : QStringLiteral("it is a character device");
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    // Names read from a weight file reach the page escaped (control characters) and as plain text (not HTML).
    void fileStringsShownSafely() {
        QTemporaryDir dir;
        const std::string layer = "<b>fc</b>\x1b[2J";
        const QString good = dir.filePath(QStringLiteral("good.safetensors"));
        ks::io::writeSafetensors(QFile::encodeName(good).toStdString(),
                                 {{layer + ".weight", ks::TensorF({10, 784}, 0.0f), "float32"},
                                  {layer + ".bias", ks::TensorF({10}, 0.0f), "float32"}},
                                 {});
        ks::ui::NetworkPage page;
        QString error;
        QVERIFY2(page.openFile(good, &error), qPrintable(error));
        QVERIFY2(page.modelDescription().contains(QStringLiteral("<b>fc</b>\\x1b[2J 784")), qPrintable(page.modelDescription()));
        QVERIFY(!page.modelDescription().contains(QChar(0x1b)));
        page.waitForIdle();
        const QString bad = dir.filePath(QStringLiteral("bad.safetensors"));
        ks::io::writeSafetensors(QFile::encodeName(bad).toStdString(), {{"<i>x</i>", ks::TensorF({3}, 0.0f), "float32"}}, {});
        QVERIFY(!page.openFile(bad, &error));
        QVERIFY2(page.messageLabel()->text().contains(QStringLiteral("<i>x</i>")), qPrintable(page.messageLabel()->text()));
        QCOMPARE(page.messageLabel()->textFormat(), Qt::PlainText);
    }

    void exportRefuses_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("symlink") << QStringLiteral("symlink") << QStringLiteral("it is a symbolic link");
        QTest::newRow("FIFO") << QStringLiteral("fifo") << QStringLiteral("it is a FIFO");
        QTest::newRow("read-only") << QStringLiteral("readonly") << QStringLiteral("it is read-only");
    }
    void exportRefuses() {
        QFETCH(QString, kind);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString other = dir.filePath(QStringLiteral("other.csv"));
        std::ofstream(QFile::encodeName(other).toStdString()) << "keep me";
        const QString path = dir.filePath(QStringLiteral("chart.csv"));
        const QByteArray target = QFile::encodeName(path);
        const QString failed = ks::test::makeHostileTarget(kind, target.toStdString(), QFile::encodeName(other).toStdString());
        QVERIFY2(failed.isEmpty(), qPrintable(failed));
        struct stat before {};
        QCOMPARE(::lstat(target.constData(), &before), 0);
        ks::ui::ChartPanel panel;
        const QString message = ks::test::errorOf([&] { panel.exportCsv(path); });
        QVERIFY2(message.contains(expected) && message.contains(path), qPrintable(message));
        struct stat after {};
        QCOMPARE(::lstat(target.constData(), &after), 0);
        QCOMPARE(after.st_ino, before.st_ino);
        QCOMPARE(after.st_mode, before.st_mode);
        std::ifstream in(QFile::encodeName(other).toStdString());
        QCOMPARE(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()), std::string("keep me"));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::System).size(), qsizetype(2));  // nothing left over
    }
};

QTEST_MAIN(tst_GuiFiles)
#include "tst_gui_files.moc"
