// The command line's contract: --help, --version, exit status 2 for usage errors with one clear line; and hostile
// input and output paths (devices, FIFOs, links, read-only files), refused with exit status 1 and one line.
#include <QDir>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/file_util.hpp"
#include "io/npy.hpp"
#include "io/weights.hpp"

#include "hostile_targets.hpp"

namespace {

struct CliRun {
    bool finished = false;  ///< false: still running after the timeout (then killed)
    int exitCode = -1;
    QByteArray out, err;
    QString output() const { return QString::fromUtf8(out + err); }
};

/// Runs the CLI in `folder`; `addressSpaceLimit` (bytes, 0 for none) is set as the child's RLIMIT_AS (ulimit -v), so
/// that a regression that reads without bound cannot take the machine's memory. Under AddressSanitizer, which reserves
/// terabytes of address space for its shadow memory, a ulimit -v would stop the child at start-up: there the bound is
/// ASan's largest allocation instead (a larger one is reported and ends the child).
CliRun runCli(const QStringList& arguments, const QString& folder, int timeoutMs = 30000,
              rlim_t addressSpaceLimit = 0) {
    QProcess process;
    process.setWorkingDirectory(folder);
#ifdef KS_SANITIZE
    if (addressSpaceLimit) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("ASAN_OPTIONS"), env.value(QStringLiteral("ASAN_OPTIONS")) +
                                                       QStringLiteral(":max_allocation_size_mb=%1").arg(addressSpaceLimit >> 20));
        process.setProcessEnvironment(env);
    }
#else
    if (addressSpaceLimit)
        process.setChildProcessModifier([addressSpaceLimit] {
            const struct rlimit limit {addressSpaceLimit, addressSpaceLimit};
            ::setrlimit(RLIMIT_AS, &limit);
        });
#endif
    process.start(QStringLiteral(KS_CLI_PATH), arguments);
    CliRun run;
    run.finished = process.waitForFinished(timeoutMs);
    if (!run.finished) {
        process.kill();
        process.waitForFinished(5000);
    }
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

/// A process id that no process has: a child that has exited and been reaped.
pid_t deadPid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    return child;
}

std::string fileText(const QString& path) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

class tst_Cli : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void exitStatusAndMessages_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("expectedOutput");  // searched in stdout + stderr
        QTest::newRow("help") << QStringList{QStringLiteral("--help")} << 0 << QStringLiteral("Commands:");
        QTest::newRow("version") << QStringList{QStringLiteral("--version")} << 0 << QStringLiteral("kernelscope-cli 0.");
        QTest::newRow("no command") << QStringList{} << 2 << QStringLiteral("Usage:");
        QTest::newRow("unknown command") << QStringList{QStringLiteral("frobnicate")} << 2
                                         << QStringLiteral("unknown command 'frobnicate'");
        QTest::newRow("command help") << QStringList{QStringLiteral("info"), QStringLiteral("--help")} << 0
                                      << QStringLiteral("Usage: kernelscope-cli info");
        QTest::newRow("unknown option") << QStringList{QStringLiteral("info"), QStringLiteral("--bogus")} << 2
                                        << QStringLiteral("unknown option '--bogus'");
        QTest::newRow("info") << QStringList{QStringLiteral("info")} << 0 << QStringLiteral("Eigen");
        QTest::newRow("info, dispatched kernels") << QStringList{QStringLiteral("info")} << 0 << QStringLiteral("dispatched kernels: ");
        QTest::newRow("bad format name") << QStringList{QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("fp17x"),
                                                       QStringLiteral("--in"), QStringLiteral("a.npy"), QStringLiteral("--out"), QStringLiteral("b.npy")}
                                         << 2 << QStringLiteral("unknown number format 'fp17x'");
        QTest::newRow("bad family") << QStringList{QStringLiteral("precision"), QStringLiteral("--out"), QStringLiteral("x"),
                                                   QStringLiteral("--family"), QStringLiteral("e99")}
                                    << 2 << QStringLiteral("unknown format family 'e99'");
        QTest::newRow("bad shape") << QStringList{QStringLiteral("bench"), QStringLiteral("conv"), QStringLiteral("--shape"), QStringLiteral("1,2,3")}
                                   << 2 << QStringLiteral("--shape");
        QTest::newRow("not an integer") << QStringList{QStringLiteral("precision"), QStringLiteral("--out"), QStringLiteral("x"),
                                                       QStringLiteral("--trials"), QStringLiteral("many")}
                                        << 2 << QStringLiteral("--trials: expected an integer, got 'many'");
        QTest::newRow("bench peak") << QStringList{QStringLiteral("bench"), QStringLiteral("peak"), QStringLiteral("--seconds"),
                                                   QStringLiteral("0.02"), QStringLiteral("--rounds"), QStringLiteral("1")}
                                    << 0 << QStringLiteral("best GFLOP/s");
        QTest::newRow("bench peak, every set") << QStringList{QStringLiteral("bench"), QStringLiteral("peak"), QStringLiteral("--seconds"),
                                                             QStringLiteral("0.02"), QStringLiteral("--rounds"), QStringLiteral("1"),
                                                             QStringLiteral("--isa"), QStringLiteral("all")}
                                               << 0 << QStringLiteral("generic: 12 chains of 4-float multiplies and adds");
        QTest::newRow("bench peak, unknown set") << QStringList{QStringLiteral("bench"), QStringLiteral("peak"), QStringLiteral("--isa"),
                                                                QStringLiteral("sse9")}
                                                 << 2 << QStringLiteral("unknown instruction set 'sse9'");
        QTest::newRow("info, sgemm plan") << QStringList{QStringLiteral("info")} << 0 << QStringLiteral("sgemm: ");
        QTest::newRow("info, caches") << QStringList{QStringLiteral("info")} << 0 << QStringLiteral("caches: L1d ");
        QTest::newRow("info, winograd kernels") << QStringList{QStringLiteral("info")} << 0 << QStringLiteral("winograd: alpha^2 products on sgemm's ");
        QTest::newRow("bench peak, no time") << QStringList{QStringLiteral("bench"), QStringLiteral("peak"), QStringLiteral("--seconds"),
                                                            QStringLiteral("0")}
                                             << 2 << QStringLiteral("--seconds");
        QTest::newRow("bench emulation") << QStringList{QStringLiteral("bench"), QStringLiteral("emulation"), QStringLiteral("--shape"),
                                                        QStringLiteral("3,17,5"), QStringLiteral("--specs"), QStringLiteral("bf16/fp32"),
                                                        QStringLiteral("--min-seconds"), QStringLiteral("0"),
                                                        QStringLiteral("--workloads"), QStringLiteral("gemm,mlp"),
                                                        QStringLiteral("--reference-digits"), QStringLiteral("10")}
                                         << 0 << QStringLiteral("mlp ");
        QTest::newRow("bench emulation, not covered")
            << QStringList{QStringLiteral("bench"), QStringLiteral("emulation"), QStringLiteral("--shape"), QStringLiteral("2,2,2"),
                           QStringLiteral("--specs"), QStringLiteral("fp32/fp16:sr"), QStringLiteral("--min-seconds"), QStringLiteral("0")}
            << 0 << QStringLiteral("not covered: stochastic rounding of float32 operands' products runs on the reference");
        QTest::newRow("eval --emulation") << QStringList{QStringLiteral("eval"), QStringLiteral("--compute"), QStringLiteral("fp16"),
                                                         QStringLiteral("--emulation"), QStringLiteral("turbo")}
                                          << 2 << QStringLiteral("--emulation: unknown value 'turbo'");
        QTest::newRow("matmul --emulation") << QStringList{QStringLiteral("bench"), QStringLiteral("matmul"), QStringLiteral("--shape"),
                                                           QStringLiteral("2,2,2"), QStringLiteral("--emulation"), QStringLiteral("quick")}
                                            << 2 << QStringLiteral("--emulation: unknown value 'quick'");
        // ONNX models (issue 20): a graph that is not a chain of Model layers runs as a graph; one whose algorithm
        // cannot run a node is refused naming the node; options that need a sequential model say why not.
        const QString onnx = QStringLiteral(KS_ONNX_FIXTURES) + QLatin1Char('/');
        QTest::newRow("eval ONNX LeNet-5") << QStringList{QStringLiteral("eval"), QStringLiteral("--weights"), onnx + "lenet5.onnx"}
                                           << 0 << QStringLiteral("accuracy: 0.9690");
        QTest::newRow("eval ONNX LeNet-300-100 (a Model)")
            << QStringList{QStringLiteral("eval"), QStringLiteral("--weights"), onnx + "lenet_300_100.onnx", QStringLiteral("--rank"),
                           QStringLiteral("all=300")}
            << 0 << QStringLiteral("accuracy: 0.9525");
        QTest::newRow("eval ONNX --matmul on a graph")
            << QStringList{QStringLiteral("eval"), QStringLiteral("--weights"), onnx + "resnet_tiny.onnx", QStringLiteral("--matmul"),
                           QStringLiteral("naive")}
            << 2 << QStringLiteral("--matmul: the model is not a sequential network");
        QTest::newRow("eval ONNX --rank on a graph")
            << QStringList{QStringLiteral("eval"), QStringLiteral("--weights"), onnx + "lenet5.onnx", QStringLiteral("--rank"),
                           QStringLiteral("/conv2/Conv=6,/fc1/Gemm=40")}
            << 0 << QStringLiteral("/conv2/Conv.0 6→6 5×5, /conv2/Conv.1 6→16 1×1, avgpool 2, /fc1/Gemm 256→120 (rank 40)");
        QTest::newRow("eval ONNX --rank, no such node")
            << QStringList{QStringLiteral("eval"), QStringLiteral("--weights"), onnx + "lenet5.onnx", QStringLiteral("--rank"),
                           QStringLiteral("fc9=4")}
            << 2 << QStringLiteral("--rank: no Conv or Linear node is named 'fc9'");
        QTest::newRow("layers --conv-algo find")
            << QStringList{QStringLiteral("layers"), QStringLiteral("--model"), onnx + "cnn_tiny.onnx", QStringLiteral("--conv-algo"),
                           QStringLiteral("find"), QStringLiteral("--limit"), QStringLiteral("16"), QStringLiteral("--repeats"),
                           QStringLiteral("1")}
            << 0 << QStringLiteral("algorithm");
        QTest::newRow("layers ONNX residual fp16")
            << QStringList{QStringLiteral("layers"), QStringLiteral("--model"), onnx + "resnet_tiny.onnx", QStringLiteral("--compute"),
                           QStringLiteral("fp16"), QStringLiteral("--limit"), QStringLiteral("50"), QStringLiteral("--repeats"), QStringLiteral("1")}
            << 0 << QStringLiteral("top-1 agreement with float32: ");
        QTest::newRow("layers, algorithm cannot run a node")
            << QStringList{QStringLiteral("layers"), QStringLiteral("--model"), onnx + "lenet5.onnx", QStringLiteral("--conv-algo"),
                           QStringLiteral("winograd-4x4"), QStringLiteral("--limit"), QStringLiteral("5")}
            << 1 << QStringLiteral("/conv1/Conv: winograd-4x4 cannot compute");
        QTest::newRow("layers, per-node algorithm")
            << QStringList{QStringLiteral("layers"), QStringLiteral("--model"), onnx + "lenet5.onnx", QStringLiteral("--conv-algo"),
                           QStringLiteral("/conv1/Conv=fft,/conv2/Conv=im2col"), QStringLiteral("--limit"), QStringLiteral("20"),
                           QStringLiteral("--repeats"), QStringLiteral("1")}
            << 0 << QStringLiteral("/conv2/Conv");
        QTest::newRow("layers, per-node algorithm, unknown node")
            << QStringList{QStringLiteral("layers"), QStringLiteral("--model"), onnx + "lenet5.onnx", QStringLiteral("--conv-algo"),
                           QStringLiteral("conv9=fft"), QStringLiteral("--limit"), QStringLiteral("5")}
            << 1 << QStringLiteral("no Conv node is named 'conv9' (the Conv nodes: /conv1/Conv, /conv2/Conv)");
        QTest::newRow("missing input file") << QStringList{QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("fp16"),
                                                          QStringLiteral("--in"), QStringLiteral("/nonexistent/a.npy"), QStringLiteral("--out"),
                                                          QStringLiteral("/tmp/b.npy")}
                                            << 1 << QStringLiteral("/nonexistent/a.npy");
    }
    void exitStatusAndMessages() {
        QFETCH(QStringList, arguments);
        QFETCH(int, exitCode);
        QFETCH(QString, expectedOutput);
        QProcess process;
        process.start(QStringLiteral(KS_CLI_PATH), arguments);
        QVERIFY(process.waitForFinished(30000));
        const QString output = QString::fromUtf8(process.readAllStandardOutput() + process.readAllStandardError());
        QCOMPARE(process.exitStatus(), QProcess::NormalExit);
        QCOMPARE(process.exitCode(), exitCode);
        QVERIFY2(output.contains(expectedOutput), qPrintable(output));
        if (exitCode == 2 && !arguments.isEmpty())
            QCOMPARE(output.trimmed().count(QLatin1Char('\n')), 0);  // one clear line
    }

    // An input that is not a regular file is refused at once: before, /dev/zero was read until memory ran out and
    // a FIFO without a writer blocked in open() for ever.
    void inputNotARegularFile_data() {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("kind");
        const QStringList round{QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("fp16"),
                                QStringLiteral("--out"), QStringLiteral("y.npy"), QStringLiteral("--in")};
        QTest::newRow("round --in /dev/zero") << round << QStringLiteral("/dev/zero") << QStringLiteral("a character device");
        QTest::newRow("round --in FIFO") << round << QStringLiteral("fifo") << QStringLiteral("a FIFO");
        QTest::newRow("round --in directory") << round << QStringLiteral("folder") << QStringLiteral("a directory");
        const QStringList eval{QStringLiteral("eval"), QStringLiteral("--weights")};
        QTest::newRow("eval --weights FIFO") << eval << QStringLiteral("fifo") << QStringLiteral("a FIFO");
        QTest::newRow("eval --weights /dev/zero") << eval << QStringLiteral("/dev/zero") << QStringLiteral("a character device");
        QTest::newRow("eval --weights directory") << eval << QStringLiteral("folder") << QStringLiteral("a directory");
    }
    void inputNotARegularFile() {
        QFETCH(QStringList, arguments);
        QFETCH(QString, path);
        QFETCH(QString, kind);
        QTemporaryDir dir;
        QCOMPARE(::mkfifo(dir.filePath(QStringLiteral("fifo")).toLocal8Bit().constData(), 0600), 0);
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("folder")));
        const CliRun run = runCli(arguments << path, dir.path(), 20000, rlim_t{4} << 30);
        QVERIFY2(run.finished, "the CLI did not finish within 20 s");
        QCOMPARE(run.exitCode, 1);
        const QString expected = QStringLiteral("cannot read '%1': it is %2").arg(path, kind);
        QVERIFY2(run.output().contains(expected), qPrintable(run.output()));
        QCOMPARE(run.output().trimmed().count(QLatin1Char('\n')), 0);
        QVERIFY(!QFile::exists(dir.filePath(QStringLiteral("y.npy"))));
    }

    // --out names a target the CLI must not replace: a symbolic link (it would replace the link, or as root write
    // where it points), a FIFO, a device node, a directory, a read-only file; or a folder that does not exist.
    void outputRefused_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("symlink") << QStringLiteral("symlink") << QStringLiteral("it is a symbolic link");
        QTest::newRow("symlink to /dev/null") << QStringLiteral("devnull-link") << QStringLiteral("it is a symbolic link");
        QTest::newRow("FIFO") << QStringLiteral("fifo") << QStringLiteral("it is a FIFO");
        QTest::newRow("device node") << QStringLiteral("device") << QStringLiteral("it is a character device");
        QTest::newRow("directory") << QStringLiteral("directory") << QStringLiteral("it is a directory");
        QTest::newRow("read-only file") << QStringLiteral("readonly") << QStringLiteral("it is read-only");
        QTest::newRow("missing folder") << QStringLiteral("missing") << QStringLiteral("the folder 'no-such-folder' does not exist");
    }
    void outputRefused() {
        QFETCH(QString, kind);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        ks::io::writeNpy(dir.filePath(QStringLiteral("x.npy")).toStdString(), ks::TensorF({2}, std::vector<float>{1, 2}));
        std::ofstream(dir.filePath(QStringLiteral("other.npy")).toStdString()) << "keep me";
        QString out = QStringLiteral("target.npy");
        const QByteArray target = dir.filePath(out).toLocal8Bit();
        if (kind == QLatin1String("missing")) {
            out = QStringLiteral("no-such-folder/y.npy");
        } else if (const QString failed = ks::test::makeHostileTarget(
                       kind, target.toStdString(), dir.filePath(QStringLiteral("other.npy")).toStdString());
                   !failed.isEmpty()) {
            if (kind == QLatin1String("device")) QSKIP("mknod needs root");
            QFAIL(qPrintable(failed));
        }
        struct stat before {};
        const bool existed = ::lstat(target.constData(), &before) == 0;
        const CliRun run = runCli({QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("fp16"),
                                   QStringLiteral("--in"), QStringLiteral("x.npy"), QStringLiteral("--out"), out},
                                  dir.path());
        QVERIFY2(run.finished, "the CLI did not finish within 30 s");
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.output().contains(QStringLiteral("cannot write '%1': %2").arg(out, expected)), qPrintable(run.output()));
        QVERIFY2(!run.output().contains(QStringLiteral("tmp")), qPrintable(run.output()));  // the user's path only
        QCOMPARE(run.output().trimmed().count(QLatin1Char('\n')), 0);
        struct stat after {};
        QCOMPARE(::lstat(target.constData(), &after) == 0, existed);
        if (existed) {
            QCOMPARE(after.st_ino, before.st_ino);
            QCOMPARE(after.st_mode, before.st_mode);
        }
        QCOMPARE(fileText(dir.filePath(QStringLiteral("other.npy"))), std::string("keep me"));
        if (kind == QLatin1String("readonly")) QCOMPARE(fileText(dir.filePath(out)), std::string("keep me"));
        const QStringList left = QDir(dir.path()).entryList({QStringLiteral("*tmp*")}, QDir::Files | QDir::System);
        QVERIFY2(left.isEmpty(), qPrintable(left.join(u' ')));
    }

    // What a killed write left behind (its temporary file, named after its dead process) is removed by the next
    // write to the same target.
    void staleTemporaryRemoved() {
        QTemporaryDir dir;
        ks::io::writeNpy(dir.filePath(QStringLiteral("x.npy")).toStdString(), ks::TensorF({2}, std::vector<float>{1, 2}));
        const QString stale =
            QString::fromStdString(ks::io::temporaryNamePrefix("y.npy", deadPid())) + QStringLiteral("k1ll3d00");
        std::ofstream(dir.filePath(stale).toStdString()) << "half a file";
        const CliRun run = runCli({QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("fp16"),
                                   QStringLiteral("--in"), QStringLiteral("x.npy"), QStringLiteral("--out"),
                                   QStringLiteral("y.npy")},
                                  dir.path());
        QCOMPARE(run.exitCode, 0);
        QVERIFY(QFile::exists(dir.filePath(QStringLiteral("y.npy"))));
        QVERIFY2(!QFile::exists(dir.filePath(stale)), qPrintable(stale));
    }

    // `conv --padding 20000` on a 4×4 input: a 40002×40002 output (6.4 GB) and a padded copy as large. Under a
    // 2 GiB address-space limit it used to end in a bare std::bad_alloc; now the problem's validation refuses it
    // before allocating and says what is too large.
    // A padding of 200000 needs 1.3 TB, more than any machine's memory: refused by the physical memory (or a
    // lower cgroup limit) without a ulimit, which is how it is checked under ASan too.
    void convTooLargeForMemory_data() {
        QTest::addColumn<QString>("padding");
        QTest::addColumn<qulonglong>("addressSpaceLimit");
        QTest::addColumn<QString>("expected");
#ifndef KS_SANITIZE
        QTest::newRow("padding 20000 under ulimit -v 2 GiB")
            << "20000" << (qulonglong{2} << 30) << "too large for memory: the output 1x1x40002x40002 takes 6.4 GB";
#endif
        QTest::newRow("padding 200000") << "200000" << qulonglong{0}
                                        << "too large for memory: the output 1x1x400002x400002 takes 640.0 GB";
    }
    void convTooLargeForMemory() {
        QFETCH(QString, padding);
        QFETCH(qulonglong, addressSpaceLimit);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        ks::io::writeNpy(dir.filePath(QStringLiteral("x.npy")).toStdString(), ks::TensorF({4, 4}, 1.0f));
        ks::io::writeNpy(dir.filePath(QStringLiteral("w.npy")).toStdString(), ks::TensorF({3, 3}, 1.0f));
        const CliRun run = runCli({QStringLiteral("conv"), QStringLiteral("--input"), QStringLiteral("x.npy"),
                                   QStringLiteral("--weight"), QStringLiteral("w.npy"), QStringLiteral("--padding"),
                                   padding, QStringLiteral("--out"), QStringLiteral("y.npy")},
                                  dir.path(), 60000, rlim_t(addressSpaceLimit));
        QVERIFY2(run.finished, "the CLI did not finish within 60 s");
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.output().contains(expected), qPrintable(run.output()));
        if (addressSpaceLimit) QVERIFY2(run.output().contains(QStringLiteral("ulimit -v")), qPrintable(run.output()));
        QCOMPARE(run.output().trimmed().count(QLatin1Char('\n')), 0);
    }

    // An allocation that fails anyway (here: a 1.5 GB sparse input file under a 1 GiB address-space limit) ends
    // with one line saying that memory ran out, exit status 1, not an uncaught exception.
    void outOfMemoryMessage() {
#ifdef KS_SANITIZE
        QSKIP("under ASan an allocation over the limit is reported and ends the process instead of throwing "
              "std::bad_alloc, and a ulimit -v stops ASan at start-up: the Release suite checks this");
#endif
        QTemporaryDir dir;
        const QByteArray path = dir.filePath(QStringLiteral("huge.npy")).toLocal8Bit();
        const int fd = ::open(path.constData(), O_WRONLY | O_CREAT | O_EXCL, 0600);
        QVERIFY(fd >= 0);
        QCOMPARE(::ftruncate(fd, off_t{1500} << 20), 0);
        ::close(fd);
        const CliRun run = runCli({QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("fp16"),
                                   QStringLiteral("--in"), QStringLiteral("huge.npy"), QStringLiteral("--out"),
                                   QStringLiteral("y.npy")},
                                  dir.path(), 60000, rlim_t{1} << 30);
        QVERIFY2(run.finished, "the CLI did not finish within 60 s");
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.output().startsWith(QStringLiteral("kernelscope-cli round: out of memory")), qPrintable(run.output()));
        QCOMPARE(run.output().trimmed().count(QLatin1Char('\n')), 0);
    }

#ifdef KS_GUI_PATH
    // The GUI opens the files named on its command line ("Open with"), each on its page, and reports one it cannot;
    // with --screenshot the pages are drawn after the files are open, and the exit status says whether all opened.
    void guiOpensFilesNamedOnItsCommandLine() {
        QTemporaryDir dir;
        QProcess gui;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
        env.insert(QStringLiteral("XDG_CONFIG_HOME"), dir.filePath(QStringLiteral("config")));
        gui.setProcessEnvironment(env);
        gui.start(QStringLiteral(KS_GUI_PATH), {QStringLiteral("--screenshot"), dir.filePath(QStringLiteral("shots")),
                                                QStringLiteral(KS_ONNX_FIXTURES "/lenet5.onnx"), dir.filePath(QStringLiteral("missing.onnx"))});
        QVERIFY(gui.waitForFinished(240000));
        const QString err = QString::fromUtf8(gui.readAllStandardError());
        QCOMPARE(gui.exitCode(), 1);
        QVERIFY2(err.contains(QStringLiteral("missing.onnx")), qPrintable(err));
        QVERIFY2(!err.contains(QStringLiteral("lenet5.onnx")), qPrintable(err));
        QVERIFY(QFileInfo::exists(dir.filePath(QStringLiteral("shots/page-layers.png"))));
    }
#endif

    // `eval --data` reads only the test files of an MNIST folder, as its help says: a folder holding only
    // t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (here 20 blank digits, all labelled 3) is enough.
    void evalReadsTestOnlyFolder() {
        QTemporaryDir dir;
        const auto be32 = [](std::uint32_t v) {
            return std::string{char(v >> 24), char(v >> 16 & 0xff), char(v >> 8 & 0xff), char(v & 0xff)};
        };
        const int count = 20;
        std::ofstream(dir.filePath(QStringLiteral("t10k-images-idx3-ubyte")).toStdString(), std::ios::binary)
            << be32(0x803) + be32(count) + be32(28) + be32(28) + std::string(std::size_t(count) * 28 * 28, '\0');
        std::ofstream(dir.filePath(QStringLiteral("t10k-labels-idx1-ubyte")).toStdString(), std::ios::binary)
            << be32(0x801) + be32(count) + std::string(std::size_t(count), '\3');
        const CliRun help = runCli({QStringLiteral("eval"), QStringLiteral("--help")}, dir.path());
        QVERIFY2(help.output().contains(QStringLiteral("its t10k-* files (training files not needed)")), qPrintable(help.output()));
        const CliRun run = runCli({QStringLiteral("eval"), QStringLiteral("--data"), dir.path()}, dir.path());
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.output().contains(QStringLiteral("(20 images in")), qPrintable(run.output()));
    }

    // Issue 18 (groundwork): `round --format mxfp4` blocks along the last axis with E8M0 scales; the hand-worked blocks of
    // tst_mx through the command line, each row its own blocks; only nearest rounding; unknown names list the MX ones.
    void roundToAnMxFormat() {
        QTemporaryDir dir;
        std::vector<float> row(36, 0.0f);
        row[0] = 8, row[1] = 1, row[2] = 3, row[3] = -2;      // block 1 (32): scale 2
        row[32] = 0.99f, row[33] = 0.1f, row[35] = -0.5f;     // block 2 (4): scale 2^-3, 0.99 saturates at 6·2^-3
        std::vector<float> both = row;
        both.insert(both.end(), row.begin(), row.end());
        ks::io::writeNpy(dir.filePath(QStringLiteral("x.npy")).toStdString(), ks::TensorF({2, 36}, both));
        const CliRun run = runCli({QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("mxfp4"), QStringLiteral("--in"),
                                   QStringLiteral("x.npy"), QStringLiteral("--out"), QStringLiteral("y.npy")},
                                  dir.path());
        QVERIFY2(run.finished && run.exitCode == 0, qPrintable(run.output()));
        const ks::io::NpyArray y = ks::io::readNpy(dir.filePath(QStringLiteral("y.npy")).toStdString());
        const auto& out = std::get<ks::TensorF>(y.tensor);
        for (int r = 0; r < 2; ++r) {
            const float* v = out.data() + r * 36;
            QCOMPARE((std::vector<float>{v[0], v[1], v[2], v[3]}), (std::vector<float>{8, 1, 3, -2}));
            QCOMPARE((std::vector<float>{v[32], v[33], v[34], v[35]}), (std::vector<float>{0.75f, 0.125f, 0, -0.5f}));
        }
        const CliRun stochastic = runCli({QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("mxfp4"),
                                          QStringLiteral("--rounding"), QStringLiteral("stochastic"), QStringLiteral("--in"),
                                          QStringLiteral("x.npy"), QStringLiteral("--out"), QStringLiteral("z.npy")},
                                         dir.path());
        QCOMPARE(stochastic.exitCode, 2);
        const CliRun unknown = runCli({QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("mxfp5"), QStringLiteral("--in"),
                                       QStringLiteral("x.npy"), QStringLiteral("--out"), QStringLiteral("z.npy")},
                                      dir.path());
        QCOMPARE(unknown.exitCode, 2);
        QVERIFY2(unknown.output().contains(QStringLiteral("mxfp6-e2m3")), qPrintable(unknown.output()));
    }

    // `precision --specs`: the points are the listed specifications, block-scaled and modelled ones among them, named in
    // the CSV with their bits per element; a method that cannot run one says why; a bad name is a usage error.
    void precisionOverListedSpecs() {
        QTemporaryDir dir;
        const CliRun run = runCli({QStringLiteral("precision"), QStringLiteral("--operation"), QStringLiteral("matmul"),
                                   QStringLiteral("--shape"), QStringLiteral("4,64,3"), QStringLiteral("--methods"),
                                   QStringLiteral("naive,log"), QStringLiteral("--trials"), QStringLiteral("1"), QStringLiteral("--specs"),
                                   QStringLiteral("mxfp4/fp32  volta-fp16-tc fp32"), QStringLiteral("--out"), dir.path()},
                                  dir.path());
        QVERIFY2(run.finished && run.exitCode == 0, qPrintable(run.output()));
        const std::string csv = fileText(dir.filePath(QStringLiteral("precision-matmul-specs.csv")));
        for (const char* row : {"\n0,4.25,", ",naive,specs,mxfp4/fp32,ok", ",naive,specs,volta-fp16-tc,ok", ",naive,specs,fp32,ok",
                                ",log,specs,volta-fp16-tc,it sums its products its own way"})
            QVERIFY2(csv.find(row) != std::string::npos, row);
        const CliRun bad = runCli({QStringLiteral("precision"), QStringLiteral("--specs"), QStringLiteral("mxfp4"),
                                   QStringLiteral("--out"), dir.path()},
                                  dir.path());
        QCOMPARE(bad.exitCode, 2);
        QVERIFY2(bad.output().contains(QStringLiteral("accumulation format")), qPrintable(bad.output()));
        // `round` takes every scaled format along the last axis: int4 per block of 4, scale 1: 3.5 ties to 4.
        ks::io::writeNpy(dir.filePath(QStringLiteral("x.npy")).toStdString(), ks::TensorF({1, 4}, {1, -2, 3.5f, 7}));
        const CliRun round = runCli({QStringLiteral("round"), QStringLiteral("--format"), QStringLiteral("int4@block4"),
                                     QStringLiteral("--in"), QStringLiteral("x.npy"), QStringLiteral("--out"), QStringLiteral("y.npy")},
                                    dir.path());
        QVERIFY2(round.finished && round.exitCode == 0, qPrintable(round.output()));
        const auto y = std::get<ks::TensorF>(ks::io::readNpy(dir.filePath(QStringLiteral("y.npy")).toStdString()).tensor);
        QCOMPARE(y.storage(), (std::vector<float>{1, -2, 4, 7}));
        const CliRun formats = runCli({QStringLiteral("formats")}, dir.path());
        for (const char* text : {"nvfp4: E2M1 elements, an E4M3 scale", "hopper-fp8 = e4m3/fp64/e8m13:acc=tc4x14", "Fasi"})
            QVERIFY2(formats.output().contains(QString::fromUtf8(text)), text);
    }

    // Issue 18: a sweep cut into shards (--shard I/N), its folders joined by `merge`, gives the CSVs, charts and
    // report of the unsharded run: byte for byte apart from timings and the output folder's name in the report.
    // A missing, duplicated or foreign shard is refused with a message naming it.
    void shardsMergeToTheUnshardedRun_data() {
        QTest::addColumn<QStringList>("sweep");
        QTest::addColumn<QStringList>("files");  // compared byte for byte
        QTest::addColumn<int>("shards");
        const QStringList precision = {QStringLiteral("precision"), QStringLiteral("--operation"), QStringLiteral("matmul"),
                                       QStringLiteral("--methods"), QStringLiteral("naive,dense"), QStringLiteral("--family"),
                                       QStringLiteral("e5"), QStringLiteral("--from"), QStringLiteral("4"), QStringLiteral("--to"),
                                       QStringLiteral("6"), QStringLiteral("--trials"), QStringLiteral("2")};
        QStringList precisionFiles = {QStringLiteral("precision-matmul-e5.csv")};
#ifdef KS_CLI_HAS_CHARTS
        precisionFiles << QStringLiteral("precision-matmul-e5.png");
#endif
        QTest::newRow("precision, 1 shard") << precision << precisionFiles << 1;
        QTest::newRow("precision, 4 shards") << precision << precisionFiles << 4;
        QTest::newRow("precision, more shards than points") << precision << precisionFiles << 8;  // 6 points
        const QStringList lns = {QStringLiteral("lns"), QStringLiteral("--fraction-bits"), QStringLiteral("2,4"),
                                 QStringLiteral("--accumulator-bits"), QStringLiteral("8,16,24"), QStringLiteral("--trials"),
                                 QStringLiteral("5")};
        QTest::newRow("lns, 3 shards") << lns << QStringList{QStringLiteral("lns-fraction-bits.csv"), QStringLiteral("lns-accumulator-bits.csv")} << 3;
        const QStringList report = {QStringLiteral("report"), QStringLiteral("--sections"), QStringLiteral("lns"), QStringLiteral("--trials"),
                                    QStringLiteral("1")};
        QTest::newRow("report, 2 shards") << report << QStringList{QStringLiteral("lns-fraction-bits-exact.csv"), QStringLiteral("lns-accumulator-bits.csv"),
                                                                   QStringLiteral("report.md")} << 2;
    }
    void shardsMergeToTheUnshardedRun() {
        QFETCH(QStringList, sweep);
        QFETCH(QStringList, files);
        QFETCH(int, shards);
        QTemporaryDir dir;
        const CliRun whole = runCli(sweep + QStringList{QStringLiteral("--out"), QStringLiteral("whole")}, dir.path(), 120000);
        QVERIFY2(whole.finished && whole.exitCode == 0, qPrintable(whole.output()));
        QStringList folders;
        for (int i = 1; i <= shards; ++i) {
            folders << QStringLiteral("shard%1").arg(i);
            const CliRun part = runCli(sweep + QStringList{QStringLiteral("--shard"), QStringLiteral("%1/%2").arg(i).arg(shards),
                                                            QStringLiteral("--out"), folders.back()},
                                       dir.path(), 120000);
            QVERIFY2(part.finished && part.exitCode == 0, qPrintable(part.output()));
            QVERIFY(QFile::exists(dir.filePath(folders.back() + QStringLiteral("/kernelscope-shard.txt"))));
            QVERIFY2(!QFile::exists(dir.filePath(folders.back() + QLatin1Char('/') + files.front())), "a shard renders nothing");
        }
        std::reverse(folders.begin(), folders.end());  // listed in any order
        const auto merge = [&](const QStringList& from) {
            return runCli(QStringList{QStringLiteral("merge")} + from + QStringList{QStringLiteral("--out"), QStringLiteral("merged")},
                          dir.path(), 120000);
        };
        const CliRun merged = merge(folders);
        QVERIFY2(merged.finished && merged.exitCode == 0, qPrintable(merged.output()));
        const auto normalised = [&](const QString& path) {
            std::string text = fileText(dir.filePath(path));
            if (path.endsWith(QStringLiteral(".md"))) {  // the folder's name and the run's duration differ
                text = QString::fromStdString(text).replace(QRegularExpression(QStringLiteral("--out (whole|merged)")), QStringLiteral("--out DIR"))
                           .replace(QRegularExpression(QStringLiteral("Made in [0-9.]+ s")), QStringLiteral("Made in T s")).toStdString();
            }
            return text;
        };
        for (const QString& file : files) {
            const std::string expected = normalised(QStringLiteral("whole/") + file);
            QVERIFY2(!expected.empty(), qPrintable(file));
            QVERIFY2(normalised(QStringLiteral("merged/") + file) == expected, qPrintable(file + QStringLiteral(" differs")));
        }
        if (shards < 2) return;
        // Refusals, each naming what is wrong.
        const CliRun missing = merge(folders.mid(1));
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(missing.output().contains(QStringLiteral("shard %1/%1 is missing").arg(shards)), qPrintable(missing.output()));
        const CliRun twice = merge(folders + QStringList{folders.front()});
        QCOMPARE(twice.exitCode, 1);
        QVERIFY2(twice.output().contains(QStringLiteral("is given twice: %1 and %1").arg(folders.front())), qPrintable(twice.output()));
        const CliRun notAShard = merge(folders + QStringList{QStringLiteral("whole")});
        QCOMPARE(notAShard.exitCode, 1);
        QVERIFY2(notAShard.output().contains(QStringLiteral("whole holds no kernelscope-shard.txt")), qPrintable(notAShard.output()));
        // Another sweep's shard (other arguments) is not joined.
        const CliRun other = runCli(sweep + QStringList{QStringLiteral("--seed"), QStringLiteral("7"), QStringLiteral("--shard"),
                                                         QStringLiteral("1/%1").arg(shards), QStringLiteral("--out"), QStringLiteral("other")},
                                    dir.path(), 120000);
        if (other.exitCode == 0) {  // the report has no --seed
            const CliRun foreign = merge(folders.mid(0, shards - 1) + QStringList{QStringLiteral("other")});
            QCOMPARE(foreign.exitCode, 1);
            QVERIFY2(foreign.output().contains(QStringLiteral("shards of different sweeps")), qPrintable(foreign.output()));
        }
        // A slice that lost rows is caught by its manifest's count.
        const QString csv = dir.filePath(folders.front() + QLatin1Char('/') + QDir(dir.filePath(folders.front()))
                                                                            .entryList({QStringLiteral("*.shard.csv")})
                                                                            .front());
        std::string text = fileText(csv);
        text.resize(text.rfind('\n', text.size() - 2) + 1);  // drop the last row
        ks::io::writeFileAtomically(csv.toStdString(), text);
        const CliRun truncated = merge(folders);
        QCOMPARE(truncated.exitCode, 1);
        QVERIFY2(truncated.output().contains(QStringLiteral("its manifest says")), qPrintable(truncated.output()));
    }

    // `accumulation`: the sweep, the swamping picture and the network's accuracy per listed spec, each a CSV with its
    // caption; the promoted tensor core beats the unpromoted one at 14 bits in the CSV itself; bad values are usage errors.
    void accumulationCommand() {
        QTemporaryDir dir;
        const CliRun run = runCli({QStringLiteral("accumulation"), QStringLiteral("--operand"), QStringLiteral("e4m3"),
                                   QStringLiteral("--values"), QStringLiteral("14,24"), QStringLiteral("--dots"), QStringLiteral("8"),
                                   QStringLiteral("--models"), QStringLiteral("sequential,tensor core,tensor core, promoted"),
                                   QStringLiteral("--network"), QStringLiteral("fp32 hopper-fp8"), QStringLiteral("--digits"),
                                   QStringLiteral("40"), QStringLiteral("--out"), dir.path()},
                                  dir.path(), 120000);
        QVERIFY2(run.finished && run.exitCode == 0, qPrintable(run.output()));
        const std::string sweep = fileText(dir.filePath(QStringLiteral("accumulation-bits.csv")));
        QVERIFY(sweep.rfind("# Accumulation: error vs accumulator bits (e4m3 operands)", 0) == 0);
        for (const char* text : {",hopper-fp8\n", ",hopper-fp8-promoted\n", ",sequential,e4m3/fp64/fp32\n"})
            QVERIFY2(sweep.find(text) != std::string::npos, text);
        QVERIFY(fileText(dir.filePath(QStringLiteral("accumulation-swamping.csv"))).find("the first dot product") != std::string::npos);
        const std::string network = fileText(dir.filePath(QStringLiteral("network-accuracy-specs.csv")));
        QVERIFY2(network.find(",40,hopper-fp8\n") != std::string::npos, network.c_str());
        for (const QStringList& bad : {QStringList{QStringLiteral("--axis"), QStringLiteral("width")},
                                       QStringList{QStringLiteral("--values"), QStringLiteral("40")},
                                       QStringList{QStringLiteral("--operand"), QStringLiteral("lns8.3")},
                                       QStringList{QStringLiteral("--network"), QStringLiteral("mxfp4")}}) {
            const CliRun refused = runCli(QStringList{QStringLiteral("accumulation"), QStringLiteral("--out"), dir.path()} + bad, dir.path());
            QVERIFY2(refused.exitCode == 2, qPrintable(bad.join(' ') + ": " + refused.output()));
        }
    }

    // The report in its three forms from one run of a short section: the findings in each, the HTML self-contained
    // (each embedded image is the PNG beside it, byte for byte), the PDF a PDF with every figure in it.
    void reportInThreeForms() {
        QTemporaryDir dir, elsewhere;  // run from another folder: figures are found by the report's folder, not the cwd
        const CliRun run = runCli({QStringLiteral("report"), QStringLiteral("--sections"), QStringLiteral("lns"),
                                   QStringLiteral("--trials"), QStringLiteral("1"), QStringLiteral("--out"), dir.path()},
                                  elsewhere.path(), 120000);
        QVERIFY2(run.finished && run.exitCode == 0, qPrintable(run.output()));
        const std::string md = fileText(dir.filePath(QStringLiteral("report.md")));
        const std::string html = fileText(dir.filePath(QStringLiteral("report.html")));
        // Each CSV is headed by its figure's title and parameters.
        QVERIFY(fileText(dir.filePath(QStringLiteral("lns-fraction-bits-exact.csv"))).rfind("# Log accumulation", 0) == 0);
        QVERIFY(fileText(dir.filePath(QStringLiteral("lns-fraction-bits-exact.csv"))).find("\n# (1×256)·(256×1), inputs normal") !=
                std::string::npos);
        for (const std::string* text : {&md, &html}) {
            QVERIFY(text->find("What this shows") != std::string::npos);
            QVERIFY(text->find("sequential LNS addition's error is") != std::string::npos);
            QVERIFY(text->find("of lns-fraction-bits-exact.csv") != std::string::npos);
        }
#ifdef KS_CLI_HAS_CHARTS
        int images = 0;
        for (const char* name : {"lns-fraction-bits-exact.png", "lns-accumulator-bits.png"}) {
            const std::string png = fileText(dir.filePath(QString::fromLatin1(name)));
            QVERIFY2(png.size() > 1000, name);
            const std::string uri = "src=\"data:image/png;base64," +
                                    QByteArray(png.data(), qsizetype(png.size())).toBase64().toStdString() + "\"";
            QVERIFY2(html.find(uri) != std::string::npos, name);
            ++images;
        }
        QCOMPARE(html.find("src=\"lns-"), std::string::npos);
        const std::string pdf = fileText(dir.filePath(QStringLiteral("report.pdf")));
        QCOMPARE(pdf.substr(0, 5), std::string("%PDF-"));
        // Each figure at its own size (a figure that failed to load would be Qt's small placeholder instead).
        const QRegularExpression image(QStringLiteral("/Subtype\\s*/Image\\s*/Width 1600\\s*/Height 1000\\b"));
        QCOMPARE(int(QString::fromLatin1(QByteArray::fromStdString(pdf)).count(image)), images);
#endif
    }

    // Names read from files reach the terminal escaped: a layer whose name holds an OSC title sequence, BEL and a
    // clear-screen sequence, printed by `eval` ("model: ...") and, in a file the model check refuses, in the error.
    void fileStringsEscaped_data() {
        QTest::addColumn<bool>("validModel");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("expected");
        QTest::newRow("eval prints the model") << true << 0 << QStringLiteral("model: fc\\x1b]0;pwned\\x07\\x1b[2J 784");
        QTest::newRow("error names a tensor") << false << 1 << QStringLiteral("x\\x1b[31m");
    }
    void fileStringsEscaped() {
        QFETCH(bool, validModel);
        QFETCH(int, exitCode);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        std::vector<ks::io::NamedTensor> tensors;
        if (validModel) {
            const std::string layer = "fc\x1b]0;pwned\x07\x1b[2J";
            tensors.push_back({layer + ".weight", ks::TensorF({10, 784}, 0.0f), "float32"});
            tensors.push_back({layer + ".bias", ks::TensorF({10}, 0.0f), "float32"});
        } else {
            tensors.push_back({"x\x1b[31m", ks::TensorF({3}, 0.0f), "float32"});
        }
        ks::io::writeSafetensors(dir.filePath(QStringLiteral("evil.safetensors")).toStdString(), tensors, {});
        const CliRun run = runCli({QStringLiteral("eval"), QStringLiteral("--weights"), QStringLiteral("evil.safetensors"),
                                   QStringLiteral("--limit"), QStringLiteral("20")},
                                  dir.path());
        QCOMPARE(run.exitCode, exitCode);
        QVERIFY2(run.output().contains(expected), qPrintable(run.output()));
        QVERIFY2(!(run.out + run.err).contains('\x1b') && !(run.out + run.err).contains('\x07'),
                 qPrintable(run.output()));
    }
};

QTEST_APPLESS_MAIN(tst_Cli)
#include "tst_cli.moc"
