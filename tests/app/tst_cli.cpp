// The command line's contract: --help, --version, exit status 2 for usage errors with one clear line.
#include <QProcess>
#include <QtTest>

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
        QTest::newRow("bench peak, no time") << QStringList{QStringLiteral("bench"), QStringLiteral("peak"), QStringLiteral("--seconds"),
                                                            QStringLiteral("0")}
                                             << 2 << QStringLiteral("--seconds");
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
};

QTEST_APPLESS_MAIN(tst_Cli)
#include "tst_cli.moc"
