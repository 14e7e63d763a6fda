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
