// core/io's file helpers: printable() for strings read from files, and (below) reading and writing files safely.
#include "io/file_util.hpp"
#include "io/printable.hpp"

#include <QFile>
#include <QStringDecoder>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hostile_targets.hpp"
#include "test_support.hpp"

namespace {

std::string text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void put(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

/// A process id that no process has: a child that has exited and been reaped.
pid_t deadPid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    return child;
}

/// Names in `folder` that hold the temporary-file tag of writeFileAtomically.
QStringList temporaries(const QString& folder) {
    return QDir(folder).entryList({QStringLiteral("*.kernelscope-tmp-*")}, QDir::Files | QDir::Hidden | QDir::System);
}

}  // namespace

class tst_FileUtil : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // Expected outputs written by hand from the rules in printable.hpp.
    void printableEscapes_data() {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("plain ASCII kept") << QByteArray("fc1.weight") << QByteArray("fc1.weight");
        QTest::newRow("empty") << QByteArray("") << QByteArray("");
        QTest::newRow("ESC (SGR colour)") << QByteArray("a\x1b[31mred") << QByteArray("a\\x1b[31mred");
        QTest::newRow("OSC window title") << QByteArray("\x1b]0;pwned\x07") << QByteArray("\\x1b]0;pwned\\x07");
        QTest::newRow("NUL inside") << QByteArray("a\0b", 3) << QByteArray("a\\x00b");
        QTest::newRow("newline, CR, TAB") << QByteArray("x\ny\rz\t") << QByteArray("x\\x0ay\\x0dz\\x09");
        QTest::newRow("DEL") << QByteArray("a\x7f") << QByteArray("a\\x7f");
        QTest::newRow("C1 CSI U+009B") << QByteArray("\xc2\x9b" "2J") << QByteArray("\\xc2\\x9b2J");
        QTest::newRow("C1 U+0080") << QByteArray("\xc2\x80") << QByteArray("\\xc2\\x80");
        QTest::newRow("U+00A0 kept (first after C1)") << QByteArray("\xc2\xa0") << QByteArray("\xc2\xa0");
        QTest::newRow("2-byte UTF-8 kept") << QByteArray("caf\xc3\xa9") << QByteArray("caf\xc3\xa9");
        QTest::newRow("3-byte UTF-8 kept") << QByteArray("\xe2\x82\xac") << QByteArray("\xe2\x82\xac");
        QTest::newRow("4-byte UTF-8 kept") << QByteArray("\xf0\x9f\x98\x80") << QByteArray("\xf0\x9f\x98\x80");
        QTest::newRow("U+10FFFF kept") << QByteArray("\xf4\x8f\xbf\xbf") << QByteArray("\xf4\x8f\xbf\xbf");
        QTest::newRow("backslash kept") << QByteArray("a\\x1b") << QByteArray("a\\x1b");
        QTest::newRow("bidi override U+202E") << QByteArray("a\xe2\x80\xae" "b") << QByteArray("a\\u{202e}b");
        QTest::newRow("bidi isolate U+2066") << QByteArray("\xe2\x81\xa6") << QByteArray("\\u{2066}");
        QTest::newRow("line separator U+2028") << QByteArray("\xe2\x80\xa8") << QByteArray("\\u{2028}");
        QTest::newRow("U+2027 kept (before separators)") << QByteArray("\xe2\x80\xa7") << QByteArray("\xe2\x80\xa7");
        QTest::newRow("U+202F kept (after overrides)") << QByteArray("\xe2\x80\xaf") << QByteArray("\xe2\x80\xaf");
        QTest::newRow("stray continuation") << QByteArray("\x80x") << QByteArray("\\x80x");
        QTest::newRow("byte FF") << QByteArray("\xff") << QByteArray("\\xff");
        QTest::newRow("overlong '/' C0 AF") << QByteArray("\xc0\xaf") << QByteArray("\\xc0\\xaf");
        QTest::newRow("overlong E0 80 AF") << QByteArray("\xe0\x80\xaf") << QByteArray("\\xe0\\x80\\xaf");
        QTest::newRow("overlong F0 80 80 AF") << QByteArray("\xf0\x80\x80\xaf") << QByteArray("\\xf0\\x80\\x80\\xaf");
        QTest::newRow("surrogate ED A0 80") << QByteArray("\xed\xa0\x80") << QByteArray("\\xed\\xa0\\x80");
        QTest::newRow("above U+10FFFF") << QByteArray("\xf4\x90\x80\x80") << QByteArray("\\xf4\\x90\\x80\\x80");
        QTest::newRow("truncated at end") << QByteArray("a\xe2\x82") << QByteArray("a\\xe2\\x82");
        QTest::newRow("truncated, then ASCII") << QByteArray("\xe2\x82" "b") << QByteArray("\\xe2\\x82b");
        QTest::newRow("lead then ESC") << QByteArray("\xc3\x1b") << QByteArray("\\xc3\\x1b");
    }
    void printableEscapes() {
        QFETCH(QByteArray, input);
        QFETCH(QByteArray, expected);
        const std::string out = ks::io::printable(std::string_view(input.constData(), std::size_t(input.size())));
        QCOMPARE(QByteArray::fromStdString(out), expected);
    }

    // Random bytes, judged by Qt's UTF-8 decoder and Unicode tables (not ours): the output always decodes without
    // error and holds no control or bidi formatting character; an input that is already valid and harmless is kept.
    void printableRandomBytes() {
        std::mt19937 rng(14);
        int keptUnchanged = 0;
        for (int trial = 0; trial < 20000; ++trial) {
            std::string input(std::size_t(rng() % 12), '\0');
            for (char& c : input) {
                // Mostly bytes that start or continue UTF-8 sequences, so that valid ones occur often.
                const unsigned r = rng();
                c = static_cast<char>(r % 4 == 0 ? 0x80 + (r >> 8) % 64 : r % 4 == 1 ? 0xc2 + (r >> 8) % 51
                                                                                    : (r >> 8) % 256);
            }
            const std::string out = ks::io::printable(input);
            QCOMPARE(ks::io::printable(out), out);  // idempotent
            QStringDecoder outDecoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
            const QString decodedOut = outDecoder(QByteArray::fromStdString(out));
            QVERIFY2(!outDecoder.hasError(), out.c_str());
            for (const QChar ch : decodedOut) {
                QVERIFY2(ch.category() != QChar::Other_Control, out.c_str());
                QVERIFY2(ch.unicode() < 0x2028 || ch.unicode() > 0x202e, out.c_str());
                QVERIFY2(ch.unicode() < 0x2066 || ch.unicode() > 0x2069, out.c_str());
            }
            QStringDecoder inDecoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
            const QString decodedIn = inDecoder(QByteArray::fromStdString(input));
            bool harmless = !inDecoder.hasError();
            for (const QChar ch : decodedIn)
                harmless = harmless && ch.category() != QChar::Other_Control &&
                           ch.direction() != QChar::DirLRE && ch.direction() != QChar::DirRLE &&
                           ch.direction() != QChar::DirLRO && ch.direction() != QChar::DirRLO &&
                           ch.direction() != QChar::DirPDF && ch.direction() != QChar::DirLRI &&
                           ch.direction() != QChar::DirRLI && ch.direction() != QChar::DirFSI &&
                           ch.direction() != QChar::DirPDI && ch.unicode() != 0x200e && ch.unicode() != 0x200f &&
                           ch.unicode() != 0x2028 && ch.unicode() != 0x2029;
            if (harmless) {
                QCOMPARE(out, input);
                ++keptUnchanged;
            } else {
                QVERIFY2(out != input, input.c_str());
            }
        }
        QVERIFY2(keptUnchanged > 1000, qPrintable(QString::number(keptUnchanged)));  // the comparison did run
    }

    void readFileRegular() {
        QTemporaryDir dir;
        const std::filesystem::path path = dir.filePath(QStringLiteral("a.bin")).toStdString();
        const std::string bytes("x\0y\xff", 4);
        put(path, bytes);
        QCOMPARE(ks::io::readFile(path), bytes);
        QCOMPARE(ks::io::readFile(path, 4), bytes);  // exactly at the limit
        const QString tooLarge = ks::test::errorOf([&] { ks::io::readFile(path, 3); });
        QVERIFY2(tooLarge.contains(QStringLiteral("4 bytes")) && tooLarge.contains(QStringLiteral("3 bytes")) &&
                     tooLarge.contains(QString::fromStdString(path.string())),
                 qPrintable(tooLarge));
        const std::filesystem::path link = dir.filePath(QStringLiteral("link")).toStdString();
        std::filesystem::create_symlink(path, link);
        QCOMPARE(ks::io::readFile(link), bytes);  // reading through a link is harmless
    }

    // /proc files say they are empty: the reader must not trust the size, and must still stop at the limit.
    void readFileWithoutTrueSize() {
        const std::string status = ks::io::readFile("/proc/self/status");
        QVERIFY2(status.find("Pid:") != std::string::npos, status.c_str());
        const QString grew = ks::test::errorOf([] { ks::io::readFile("/proc/self/status", 10); });
        QVERIFY2(grew.contains(QStringLiteral("grew past the 10 bytes")), qPrintable(grew));
    }

    void readFileRefusesNonRegular_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("directory") << QStringLiteral("directory") << QStringLiteral("it is a directory");
        QTest::newRow("/dev/zero") << QStringLiteral("/dev/zero") << QStringLiteral("it is a character device");
        QTest::newRow("FIFO without writer") << QStringLiteral("fifo") << QStringLiteral("it is a FIFO");
        QTest::newRow("link to /dev/zero") << QStringLiteral("link") << QStringLiteral("it is a character device");
    }
    void readFileRefusesNonRegular() {
        QFETCH(QString, kind);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        std::filesystem::path path = dir.filePath(QStringLiteral("input")).toStdString();
        if (kind == QLatin1String("directory")) std::filesystem::create_directory(path);
        else if (kind == QLatin1String("fifo")) QCOMPARE(::mkfifo(path.c_str(), 0600), 0);
        else if (kind == QLatin1String("link")) std::filesystem::create_symlink("/dev/zero", path);
        else path = kind.toStdString();
        // On a thread, so that a reader blocked in open() (a FIFO) fails the test instead of hanging it.
        std::atomic<bool> done{false};
        QString message;
        std::thread reader([&] {
            message = ks::test::errorOf([&] { ks::io::readFile(path); });
            done = true;
        });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (!done && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (!done && kind == QLatin1String("fifo")) {
            const int writer = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);  // releases the blocked open
            if (writer >= 0) ::close(writer);
        }
        reader.join();
        QVERIFY2(done, "readFile did not return within 10 s");
        QVERIFY2(message.contains(expected) && message.contains(QString::fromStdString(path.string())),
                 qPrintable(message));
    }

    void writeNewAndReplace() {
        QTemporaryDir dir;
        const std::filesystem::path path = dir.filePath(QStringLiteral("out.csv")).toStdString();
        ks::io::writeFileAtomically(path, "first");
        QCOMPARE(text(path), std::string("first"));
        const mode_t mask = ::umask(0);
        ::umask(mask);
        struct stat st {};
        QCOMPARE(::stat(path.c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0666 & ~mask);
        ks::io::writeFileAtomically(path, "second");
        QCOMPARE(text(path), std::string("second"));
        ks::io::writeFileAtomically(path, "");
        QCOMPARE(text(path), std::string());
        // A replaced file keeps its permissions (a private file stays private).
        QCOMPARE(::chmod(path.c_str(), 0600), 0);
        ks::io::writeFileAtomically(path, "third");
        QCOMPARE(::stat(path.c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, mode_t(0600));
        QCOMPARE(text(path), std::string("third"));
        QVERIFY2(temporaries(dir.path()).isEmpty(), qPrintable(temporaries(dir.path()).join(u' ')));
    }

    void writeRefuses_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("symlink to a file") << QStringLiteral("symlink") << QStringLiteral("it is a symbolic link");
        QTest::newRow("dangling symlink") << QStringLiteral("dangling") << QStringLiteral("it is a symbolic link");
        QTest::newRow("symlink to /dev/null") << QStringLiteral("devnull-link") << QStringLiteral("it is a symbolic link");
        QTest::newRow("FIFO") << QStringLiteral("fifo") << QStringLiteral("it is a FIFO");
        QTest::newRow("directory") << QStringLiteral("directory") << QStringLiteral("it is a directory");
        QTest::newRow("character device") << QStringLiteral("device") << QStringLiteral("it is a character device");
        QTest::newRow("read-only file") << QStringLiteral("readonly") << QStringLiteral("it is read-only");
        QTest::newRow("missing folder") << QStringLiteral("missing") << QStringLiteral("does not exist");
    }
    void writeRefuses() {
        QFETCH(QString, kind);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const std::filesystem::path other = dir.filePath(QStringLiteral("other.txt")).toStdString();
        put(other, "keep me");
        std::filesystem::path path = dir.filePath(QStringLiteral("target")).toStdString();
        if (kind == QLatin1String("missing")) {
            path = dir.filePath(QStringLiteral("no-such-folder/out.npy")).toStdString();
        } else if (const QString failed = ks::test::makeHostileTarget(kind, path, other); !failed.isEmpty()) {
            if (kind == QLatin1String("device")) QSKIP("mknod needs root");
            QFAIL(qPrintable(failed));
        }
        struct stat before {};
        const bool existed = ::lstat(path.c_str(), &before) == 0;
        const QString message = ks::test::errorOf([&] { ks::io::writeFileAtomically(path, "new"); });
        QVERIFY2(message.contains(expected), qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("'") + QString::fromStdString(path.string()) + QStringLiteral("'")),
                 qPrintable(message));
        QVERIFY2(!message.contains(QStringLiteral("kernelscope-tmp")), qPrintable(message));  // the user's path only
        struct stat after {};
        QCOMPARE(::lstat(path.c_str(), &after) == 0, existed);
        if (existed) {
            QCOMPARE(after.st_ino, before.st_ino);  // the same file, not a replacement
            QCOMPARE(after.st_mode, before.st_mode);
        }
        QCOMPARE(text(other), std::string("keep me"));
        if (kind == QLatin1String("readonly")) QCOMPARE(text(path), std::string("keep me"));
        QVERIFY2(temporaries(dir.path()).isEmpty(), qPrintable(temporaries(dir.path()).join(u' ')));
    }

    // A write killed between creating its temporary file and renaming it leaves the file behind; the next write to
    // the same target removes it when its process is gone, and leaves a live process's alone.
    void staleTemporariesRemoved() {
        QTemporaryDir dir;
        const std::filesystem::path path = dir.filePath(QStringLiteral("report.md")).toStdString();
        const std::filesystem::path folder = dir.path().toStdString();
        const std::filesystem::path stale = folder / (ks::io::temporaryNamePrefix(path, deadPid()) + "abcd1234");
        const std::filesystem::path live = folder / (ks::io::temporaryNamePrefix(path, ::getppid()) + "abcd1234");
        const std::filesystem::path otherTarget =
            folder / (ks::io::temporaryNamePrefix(folder / "other.md", deadPid()) + "abcd1234");
        for (const auto& p : {stale, live, otherTarget}) put(p, "partial");
        ks::io::writeFileAtomically(path, "done");
        QCOMPARE(text(path), std::string("done"));
        QVERIFY(!std::filesystem::exists(stale));
        QVERIFY(std::filesystem::exists(live));
        QVERIFY(std::filesystem::exists(otherTarget));  // another target's: cleaned when that one is written
    }
};

QTEST_APPLESS_MAIN(tst_FileUtil)
#include "tst_file_util.moc"
