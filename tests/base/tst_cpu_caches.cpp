// The cache sizes the kernels block for: L1d and L2 as glibc's sysconf reads them from cpuid (an
// independent reading of the same hardware; the code reads sysfs, and reads it here only to know which it
// took), KS_CACHES-style text parsed and refused by name,
// forced sizes active until released, and each change seen by the blocking's generation counter.
#include <QTest>

#include <QFile>
#include <stdexcept>

#include <unistd.h>

#include "base/cpu_caches.hpp"
#include "test_support.hpp"

using namespace ks;

namespace {

/// Bytes of the cache at /sys/devices/system/cpu/cpu0/cache/index<i> of this level and type, or 0.
std::int64_t sysfsCache(int level, const QString& type) {
    for (int i = 0; i < 8; ++i) {
        const QString dir = QStringLiteral("/sys/devices/system/cpu/cpu0/cache/index%1/").arg(i);
        QFile levelFile(dir + QStringLiteral("level")), typeFile(dir + QStringLiteral("type")), sizeFile(dir + QStringLiteral("size"));
        if (!levelFile.open(QIODevice::ReadOnly) || !typeFile.open(QIODevice::ReadOnly) || !sizeFile.open(QIODevice::ReadOnly))
            continue;
        if (levelFile.readAll().trimmed().toInt() != level || QString::fromLatin1(typeFile.readAll().trimmed()) != type) continue;
        QByteArray size = sizeFile.readAll().trimmed();  // e.g. "32K"
        std::int64_t unit = 1;
        if (size.endsWith('K')) unit = 1024;
        else if (size.endsWith('M')) unit = 1024 * 1024;
        if (unit > 1) size.chop(1);
        return size.toLongLong() * unit;
    }
    return 0;
}

}  // namespace

class tst_CpuCaches : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void detectedAgreesWithSysconf() {
        const CacheSizes detected = detectedCacheSizes();
        QVERIFY(detected.l1d >= 1024 && detected.l2 >= detected.l1d);
        const long l1d = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        if (l1d <= 0 || l2 <= 0) QSKIP("sysconf reports no cache sizes on this machine");
        QCOMPARE(detected.source, std::string(sysfsCache(1, QStringLiteral("Data")) > 0 ? "sysfs" : "sysconf"));
        QCOMPARE(detected.l1d, std::int64_t(l1d));
        QCOMPARE(detected.l2, std::int64_t(l2));
        if (detected.source == "sysfs") QCOMPARE(detected.l3, sysfsCache(3, QStringLiteral("Unified")));
    }

    void textIsParsed_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("l1d");
        QTest::addColumn<qint64>("l2");
        QTest::addColumn<qint64>("l3");
        QTest::newRow("suffixes") << "32K,512K,32M" << qint64(32768) << qint64(524288) << qint64(33554432);
        QTest::newRow("bytes, no L3") << "49152,1048576,0" << qint64(49152) << qint64(1048576) << qint64(0);
        QTest::newRow("lower case, G") << "48k,2m,1g" << qint64(49152) << qint64(2097152) << qint64(1073741824);
    }
    void textIsParsed() {
        QFETCH(QString, text);
        QFETCH(qint64, l1d);
        QFETCH(qint64, l2);
        QFETCH(qint64, l3);
        const CacheSizes s = parseCacheSizes(text.toStdString());
        QCOMPARE(s.l1d, l1d);
        QCOMPARE(s.l2, l2);
        QCOMPARE(s.l3, l3);
        QCOMPARE(s.source, std::string("KS_CACHES"));
    }

    void badTextIsNamed_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("message");
        QTest::newRow("two sizes") << "32K,512K" << "expected three sizes";
        QTest::newRow("four sizes") << "32K,512K,8M,1G" << "expected three sizes";
        QTest::newRow("not a number") << "lots,512K,8M" << "'lots' is not a size";
        QTest::newRow("unknown unit") << "32K,512Q,8M" << "unknown unit 'Q'";
        QTest::newRow("L1 above L2") << "1M,512K,8M" << "L1d ≤ L2";
        QTest::newRow("L1 too small") << "512,512K,8M" << "1 KiB ≤ L1d";
        QTest::newRow("L3 below L2") << "32K,512K,256K" << "L3 = 0 or ≥ L2";
        QTest::newRow("negative") << "-32K,512K,8M" << "out of range";
        QTest::newRow("huge") << "32K,512K,99999999G" << "out of range";
    }
    void badTextIsNamed() {
        QFETCH(QString, text);
        QFETCH(QString, message);
        const QString error = ks::test::errorOf([&] { (void)parseCacheSizes(text.toStdString()); });
        QVERIFY2(error.contains(message), qPrintable(error));
    }

    void forcingAndReleasing() {
        const CacheSizes before = activeCacheSizes();
        const unsigned generation = cacheSizesGeneration();
        setCacheSizes(CacheSizes{4096, 65536, 0, {}});
        QVERIFY(cacheSizesGeneration() != generation);
        QCOMPARE(activeCacheSizes().l1d, std::int64_t(4096));
        QCOMPARE(activeCacheSizes().l3, std::int64_t(0));
        QCOMPARE(activeCacheSizes().source, std::string("set"));
        QVERIFY(ks::test::errorOf([] { setCacheSizes(CacheSizes{4096, 2048, 0, {}}); }).contains("L1d ≤ L2"));
        QCOMPARE(activeCacheSizes().l1d, std::int64_t(4096));  // a refused setting changes nothing
        setCacheSizes(std::nullopt);
        QCOMPARE(activeCacheSizes().l1d, before.l1d);
        QCOMPARE(activeCacheSizes().source, before.source);
    }

    void bytesAreFormatted() {
        QCOMPARE(formatBytes(32768), std::string("32 KiB"));
        QCOMPARE(formatBytes(33554432), std::string("32 MiB"));
        QCOMPARE(formatBytes(1000), std::string("1000 B"));
    }
};

QTEST_APPLESS_MAIN(tst_CpuCaches)
#include "tst_cpu_caches.moc"
