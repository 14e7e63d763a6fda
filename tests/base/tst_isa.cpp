// The instruction-set choice of the dispatched kernels: names round-trip, a forced set is the active
// one until released, a set the CPU lacks is refused by name, and the detected set agrees with cpuid.
#include <QTest>

#include <stdexcept>

#include "base/isa.hpp"

using namespace ks;

class tst_Isa : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void namesRoundTrip() {
        for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) QCOMPARE(parseIsa(isaName(isa)), isa);
        try {
            (void)parseIsa("sse9");
            QFAIL("no exception");
        } catch (const std::invalid_argument& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("'sse9'")), e.what());
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("generic, avx2 or avx512")), e.what());
        }
    }
    void detectedAgreesWithTheCpu() {
        __builtin_cpu_init();
        const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
        const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
        QCOMPARE(detectedIsa(), avx512 ? Isa::Avx512 : avx2 ? Isa::Avx2 : Isa::Generic);
        QVERIFY(isaSupported(Isa::Generic));
    }
    void forcingAndReleasing() {
        const Isa before = activeIsa();
        setIsa(Isa::Generic);
        QCOMPARE(activeIsa(), Isa::Generic);
        setIsa(std::nullopt);
        QCOMPARE(activeIsa(), before);
        for (Isa isa : {Isa::Avx2, Isa::Avx512})
            if (!isaSupported(isa)) QVERIFY_THROWS_EXCEPTION(std::invalid_argument, setIsa(isa));
    }
};

QTEST_APPLESS_MAIN(tst_Isa)
#include "tst_isa.moc"
