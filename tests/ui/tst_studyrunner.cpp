// Background work: results arrive, the newest request wins, cancellation is prompt, the cache answers.
#include <QSignalSpy>
#include <QTest>
#include <QTimer>

#include "test_support.hpp"

#include <thread>

#include "study_runner.hpp"

using namespace ks;

namespace {

std::any oneValue(double v) { return v; }

/// A job that works in small steps until told to stop, and counts how often it ran.
ui::StudyRunner::Job slowJob(double value, std::atomic<int>* runs, int steps = 200) {
    return [=](const Progress& progress) {
        ++*runs;
        for (int i = 0; i < steps; ++i) {
            progress.step(i, steps);
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return oneValue(value);
    };
}

}  // namespace

class tst_StudyRunner : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void resultArrives() {
        ui::StudyRunner runner;
        QSignalSpy done(&runner, &ui::StudyRunner::finished);
        std::atomic<int> runs{0};
        runner.request(QStringLiteral("a"), QStringLiteral("A"), slowJob(1.0, &runs, 5));
        QVERIFY(done.wait(5000));
        QCOMPARE(done.takeFirst().at(0).toString(), QStringLiteral("a"));
    }

    void newestRequestWins() {
        ui::StudyRunner runner;
        QSignalSpy done(&runner, &ui::StudyRunner::finished);
        QSignalSpy cancelled(&runner, &ui::StudyRunner::cancelled);
        std::atomic<int> runs{0};
        runner.request(QStringLiteral("first"), QStringLiteral("1"), slowJob(1.0, &runs));
        runner.request(QStringLiteral("second"), QStringLiteral("2"), slowJob(2.0, &runs));
        runner.request(QStringLiteral("third"), QStringLiteral("3"), slowJob(3.0, &runs, 5));
        QTRY_COMPARE_WITH_TIMEOUT(done.size(), 1, 5000);
        QCOMPARE(done.at(0).at(0).toString(), QStringLiteral("third"));
        KS_COMPARE_EXACT(std::any_cast<double>(done.at(0).at(1).value<std::any>()), 3.0);
        QCOMPARE(cancelled.size(), 1);  // "first" stopped early; "second" never started
        QCOMPARE(runs.load(), 2);
    }

    void cacheAnswersAtOnce() {
        ui::StudyRunner runner;
        QSignalSpy done(&runner, &ui::StudyRunner::finished);
        std::atomic<int> runs{0};
        runner.request(QStringLiteral("k"), QStringLiteral("K"), slowJob(7.0, &runs, 3));
        QVERIFY(done.wait(5000));
        runner.request(QStringLiteral("k"), QStringLiteral("K"), slowJob(7.0, &runs, 3));
        QCOMPARE(done.size(), 2);  // synchronously, from the cache
        QCOMPARE(runs.load(), 1);
    }

    void cancelIsPromptAndEventLoopTurns() {
        ui::StudyRunner runner;
        QSignalSpy cancelled(&runner, &ui::StudyRunner::cancelled);
        std::atomic<int> runs{0};
        runner.request(QStringLiteral("long"), QStringLiteral("L"), slowJob(1.0, &runs, 100000));
        int ticks = 0;
        QTimer timer;
        connect(&timer, &QTimer::timeout, [&] { ++ticks; });
        timer.start(5);
        QTest::qWait(100);
        QVERIFY(ticks > 5);  // the GUI thread kept turning while the job ran
        QElapsedTimer clock;
        clock.start();
        runner.cancel();
        QVERIFY(cancelled.wait(2000));
        QVERIFY(clock.elapsed() < 1000);
    }

    void failureIsReported() {
        ui::StudyRunner runner;
        QSignalSpy failed(&runner, &ui::StudyRunner::failed);
        runner.request(QStringLiteral("bad"), QStringLiteral("B"),
                       [](const Progress&) -> std::any { throw std::runtime_error("shape (3, 4) is impossible"); });
        QVERIFY(failed.wait(5000));
        QCOMPARE(failed.at(0).at(1).toString(), QStringLiteral("shape (3, 4) is impossible"));
    }
};

QTEST_MAIN(tst_StudyRunner)
#include "tst_studyrunner.moc"
