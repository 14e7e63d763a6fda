// Timings taken alone: ks::measure waits for heavy work in progress (a shared holder of the gate) and holds the
// gate while it runs, so that no new chunk starts beside it. Checked with threads and flags, never with times:
// "has not happened yet while the other holds the gate" cannot fail on a slow machine when the gate works.
#include <QTest>

#include <atomic>
#include <thread>

#include "base/timing.hpp"
#include "base/timing_gate.hpp"

class tst_TimingGate : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void timingWaitsForHeavyWork() {
        std::atomic<bool> release{false}, held{false}, timed{false};
        std::thread heavy([&] {
            const ks::SharedComputeScope chunk;
            held = true;
            while (!release) std::this_thread::yield();
        });
        while (!held) std::this_thread::yield();
        std::thread timing([&] { (void)ks::measure([&] { timed = true; }, {0, 1, 1, 0.0}); });
        QTest::qWait(150);
        QVERIFY2(!timed, "a timing ran beside heavy work");
        release = true;
        heavy.join();
        timing.join();
        QVERIFY(timed);
    }

    void heavyWorkWaitsForATiming() {
        std::atomic<bool> release{false}, running{false}, chunkStarted{false};
        std::thread timing([&] {
            (void)ks::measure(
                [&] {
                    running = true;
                    while (!release) std::this_thread::yield();
                },
                {0, 1, 1, 0.0});
        });
        while (!running) std::this_thread::yield();
        std::thread heavy([&] {
            const ks::SharedComputeScope chunk;
            chunkStarted = true;
        });
        QTest::qWait(150);
        QVERIFY2(!chunkStarted, "heavy work started during a timing");
        release = true;
        timing.join();
        heavy.join();
        QVERIFY(chunkStarted);
    }

    void heavyChunksRunTogether() {
        // Shared holders do not wait for each other (two precision points on two cores).
        const ks::SharedComputeScope first;
        std::atomic<bool> second{false};
        std::thread other([&] {
            const ks::SharedComputeScope chunk;
            second = true;
        });
        other.join();
        QVERIFY(second);
    }
};

QTEST_APPLESS_MAIN(tst_TimingGate)
#include "tst_timing_gate.moc"
