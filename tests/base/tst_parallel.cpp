// The parallel layer (core/base/parallel.hpp) against what each loop promises: every index exactly
// once (counting hits per index), chunks and pieces as specified, on as many distinct threads as the
// thread count says; exceptions from the caller's part and from the workers' reach the caller, and the
// pool works afterwards; nested loops and loops from two threads at once run serially instead of
// waiting (a deadlock would hang here until CTest's timeout); a team's barrier orders its phases (each
// member checks, after the barrier, what every other member wrote before it: without the barrier the
// late member's writes are missing), and members that leave do not hold the others up.
#include <QTest>

#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/parallel.hpp"
#include "test_support.hpp"

namespace {

using ks::test::errorOf;

/// The thread count for a scope.
class ThreadCountScope {
public:
    explicit ThreadCountScope(int threads) : saved_(ks::threadCount()) { ks::setThreadCount(threads); }
    ~ThreadCountScope() { ks::setThreadCount(saved_); }
    ThreadCountScope(const ThreadCountScope&) = delete;
    ThreadCountScope& operator=(const ThreadCountScope&) = delete;

private:
    int saved_;
};

/// Hits per index and the threads that ran them, safe to record from any thread.
class Coverage {
public:
    explicit Coverage(std::int64_t count) : hits_(static_cast<std::size_t>(count)) {}

    void hit(std::int64_t begin, std::int64_t end) {
        if (begin < 0 || end > std::int64_t(hits_.size()) || begin >= end) bad_ = true;
        for (std::int64_t i = std::max<std::int64_t>(begin, 0); i < std::min<std::int64_t>(end, hits_.size()); ++i)
            ++hits_[static_cast<std::size_t>(i)];
        std::lock_guard lock(mutex_);
        threads_.insert(std::this_thread::get_id());
        ++calls_;
    }

    /// Empty if every index was hit exactly once by non-empty, in-range calls; else what was wrong.
    QString problem() const {
        if (bad_) return "an empty or out-of-range call";
        for (std::size_t i = 0; i < hits_.size(); ++i)
            if (hits_[i] != 1) return QString("index %1 hit %2 times").arg(i).arg(hits_[i].load());
        return {};
    }
    int threads() const { return int(threads_.size()); }
    int calls() const { return calls_; }

private:
    std::vector<std::atomic<int>> hits_;
    std::atomic<bool> bad_{false};
    std::mutex mutex_;
    std::set<std::thread::id> threads_;
    int calls_ = 0;
};

const std::int64_t kCounts[] = {0, 1, 2, 3, 5, 7, 64, 999, 100003};
const int kThreadCounts[] = {1, 2, 3, 4, 8};

/// Spins for about `us` microseconds (keeps the thread on its core, unlike a sleep).
void busyWait(int us) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
    while (std::chrono::steady_clock::now() < end) {
    }
}

}  // namespace

class TestParallel : public QObject {
    Q_OBJECT

private slots:
    void parallelForCoversEveryIndexOnce_data() {
        QTest::addColumn<qint64>("count");
        QTest::addColumn<int>("threads");
        QTest::addColumn<bool>("worthThreads");
        for (qint64 count : kCounts)
            for (int threads : kThreadCounts)
                for (bool worth : {true, false})
                    QTest::addRow("count=%lld threads=%d %s", count, threads, worth ? "parallel" : "small work")
                        << count << threads << worth;
    }

    // One contiguous chunk per thread (min(threads, count) of them, on as many threads), or the
    // whole range in one call when the work is too small to share.
    void parallelForCoversEveryIndexOnce() {
        QFETCH(qint64, count);
        QFETCH(int, threads);
        QFETCH(bool, worthThreads);
        const ThreadCountScope scope(threads);
        Coverage coverage(count);
        ks::parallelFor(count, worthThreads ? 1e12 : ks::kMinParallelWork / 2,
                        [&](std::int64_t begin, std::int64_t end) { coverage.hit(begin, end); });
        QCOMPARE(coverage.problem(), QString());
        const int expected = count == 0 ? 0 : worthThreads ? int(std::min<qint64>(threads, count)) : 1;
        QCOMPARE(coverage.calls(), expected);
        QCOMPARE(coverage.threads(), expected);
    }

    void parallelClaimsCoversEveryIndexOnce_data() {
        QTest::addColumn<qint64>("count");
        QTest::addColumn<qint64>("grain");
        QTest::addColumn<int>("threads");
        const struct {
            qint64 count, grain;
        } cases[] = {{0, 1},    {1, 1},     {5, 8},    {95, 96},    {100, 1},    {100, 7},
                     {500, 96}, {1000, 96}, {1001, 12}, {100003, 1}, {100003, 997}};
        for (const auto& c : cases)
            for (int threads : kThreadCounts)
                QTest::addRow("count=%lld grain=%lld threads=%d", c.count, c.grain, threads) << c.count << c.grain << threads;
    }

    // Pieces from the thread's own block, then from the others' (moved here from tst_sgemm): every
    // index exactly once, no piece empty or longer than the grain, on at most min(threads,
    // ⌈count / grain⌉) threads; and the same with state per thread.
    void parallelClaimsCoversEveryIndexOnce() {
        QFETCH(qint64, count);
        QFETCH(qint64, grain);
        QFETCH(int, threads);
        const ThreadCountScope scope(threads);
        std::atomic<int> longPieces{0};
        Coverage coverage(count);
        ks::parallelClaims(count, grain, [&](std::int64_t begin, std::int64_t end) {
            if (end - begin > grain) ++longPieces;
            coverage.hit(begin, end);
        });
        QCOMPARE(coverage.problem(), QString());
        QCOMPARE(longPieces.load(), 0);
        QVERIFY(coverage.threads() <= std::min<qint64>(threads, (count + grain - 1) / grain));

        Coverage perThread(count);
        std::atomic<int> setUps{0};
        ks::parallelClaimsPerThread(count, grain, ks::kAlwaysParallel, [&](const ks::Claims& claims) {
            ++setUps;
            claims.forEach([&](std::int64_t begin, std::int64_t end) {
                if (end - begin > grain) ++longPieces;
                perThread.hit(begin, end);
            });
        });
        QCOMPARE(perThread.problem(), QString());
        QCOMPARE(longPieces.load(), 0);
        // Set up once per thread taking part (one whose pieces were all taken by the others has none).
        QVERIFY(setUps >= perThread.threads());
        QVERIFY(setUps <= std::min<qint64>(threads, (count + grain - 1) / grain));
    }

    // Serially (one block, too little work): the pieces of `grain` in order on the calling thread.
    void parallelClaimsSerialIsInOrder() {
        const ThreadCountScope scope(2);
        std::vector<std::pair<std::int64_t, std::int64_t>> pieces;
        ks::parallelClaims(10, 4, [&](std::int64_t b, std::int64_t e) { pieces.emplace_back(b, e); }, 0.0);
        const std::vector<std::pair<std::int64_t, std::int64_t>> expected = {{0, 4}, {4, 8}, {8, 10}};
        QVERIFY(pieces == expected);
    }

    void parallelForEachCoversEveryIndexOnce_data() {
        QTest::addColumn<qint64>("count");
        QTest::addColumn<int>("threads");
        QTest::addColumn<int>("limit");
        for (qint64 count : kCounts)
            for (int threads : kThreadCounts)
                for (int limit : {0, 1, 2})
                    QTest::addRow("count=%lld threads=%d limit=%d", count, threads, limit) << count << threads << limit;
    }

    // Each index once, on at most min(limit or threadCount(), count) threads.
    void parallelForEachCoversEveryIndexOnce() {
        QFETCH(qint64, count);
        QFETCH(int, threads);
        QFETCH(int, limit);
        const ThreadCountScope scope(threads);
        Coverage coverage(count);
        ks::parallelForEach(count, [&](std::int64_t i) { coverage.hit(i, i + 1); }, limit);
        QCOMPARE(coverage.problem(), QString());
        QVERIFY(coverage.threads() <= std::min<qint64>(limit > 0 ? std::min(limit, threads) : threads, count));
    }

    // Uneven items are balanced: while one thread runs the long item, the other runs all the short
    // ones (a static split would give the long one's thread 10 of them as well).
    void parallelForEachTakesWhatIsFree() {
        const ThreadCountScope scope(2);
        std::mutex mutex;
        std::set<std::thread::id> shortOnes;
        std::thread::id longOne;
        ks::parallelForEach(22, [&](std::int64_t i) {
            if (i == 0) {
                longOne = std::this_thread::get_id();
                std::this_thread::sleep_for(std::chrono::milliseconds(300));
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
            std::lock_guard lock(mutex);
            shortOnes.insert(std::this_thread::get_id());
        });
        QCOMPARE(int(shortOnes.size()), 1);
        QVERIFY(!shortOnes.count(longOne));
    }

    void exceptionsReachTheCaller_data() {
        QTest::addColumn<QString>("loop");
        QTest::addColumn<int>("thrower");  // which part throws: 0 is the calling thread's
        for (const char* loop : {"for", "team", "claims", "forEach"})
            for (int thrower : {0, 1})
                QTest::addRow("%s, part %d throws", loop, thrower) << QString(loop) << thrower;
    }

    // The first exception is rethrown on the caller once every thread has stopped; the pool runs
    // the next loop normally.
    void exceptionsReachTheCaller() {
        QFETCH(QString, loop);
        QFETCH(int, thrower);
        const ThreadCountScope scope(2);
        const auto fail = [] { throw std::runtime_error("part failed"); };
        const QString error = errorOf([&] {
            if (loop == "for") {
                ks::parallelFor(100, ks::kAlwaysParallel, [&](std::int64_t begin, std::int64_t) {
                    if ((begin == 0) == (thrower == 0)) fail();
                });
            } else if (loop == "team") {
                ks::parallelTeam(2, [&](const ks::Team& member) {
                    member.barrier();
                    if (member.index == thrower) fail();
                    member.barrier();  // the thrower has left: this does not wait for it
                    member.barrier();
                });
            } else if (loop == "claims") {
                ks::parallelClaims(100, 10, [&](std::int64_t begin, std::int64_t) {
                    if (begin == (thrower == 0 ? 0 : 50)) fail();
                });
            } else {
                ks::parallelForEach(100, [&](std::int64_t i) {
                    if (i == 17 + thrower) fail();
                });
            }
        });
        QCOMPARE(error, QString("part failed"));
        Coverage after(1000);
        ks::parallelFor(1000, ks::kAlwaysParallel, [&](std::int64_t b, std::int64_t e) { after.hit(b, e); });
        QCOMPARE(after.problem(), QString());
        QCOMPARE(after.threads(), 2);
    }

    // After an exception parallelForEach starts no further index (the others finish their current one).
    void forEachStopsAfterAnException() {
        const ThreadCountScope scope(2);
        std::atomic<int> started{0};
        const QString error = errorOf([&] {
            ks::parallelForEach(10000, [&](std::int64_t i) {
                ++started;
                if (i == 3) throw std::runtime_error("stop");
                busyWait(50);
            });
        });
        QCOMPARE(error, QString("stop"));
        QVERIFY2(started < 100, qPrintable(QString("%1 indices started").arg(started.load())));
    }

    // A loop inside a loop runs on the thread that calls it, in one call (or one member, or the
    // pieces in order): nothing waits for a pool that is busy with the outer loop.
    void nestedLoopsRunSerially_data() {
        QTest::addColumn<QString>("outer");
        QTest::addColumn<QString>("inner");
        for (const char* outer : {"for", "team", "claims", "forEach"})
            for (const char* inner : {"for", "team", "claims", "forEach"})
                QTest::addRow("%s in %s", inner, outer) << QString(outer) << QString(inner);
    }

    void nestedLoopsRunSerially() {
        QFETCH(QString, outer);
        QFETCH(QString, inner);
        const ThreadCountScope scope(3);
        QVERIFY(!ks::insideParallelLoop());
        std::atomic<int> wrong{0}, innerLoops{0};
        const auto innerLoop = [&] {
            if (!ks::insideParallelLoop()) ++wrong;
            const auto self = std::this_thread::get_id();
            Coverage coverage(50);
            int calls = 0;
            if (inner == "for") {
                ks::parallelFor(50, ks::kAlwaysParallel, [&](std::int64_t b, std::int64_t e) {
                    ++calls;
                    coverage.hit(b, e);
                });
                if (calls != 1) ++wrong;
            } else if (inner == "team") {
                ks::parallelTeam(3, [&](const ks::Team& member) {
                    ++calls;
                    if (member.size != 1 || member.index != 0) ++wrong;
                    member.barrier();
                    coverage.hit(0, 50);
                });
                if (calls != 1) ++wrong;
            } else if (inner == "claims") {
                std::int64_t next = 0;
                ks::parallelClaims(50, 7, [&](std::int64_t b, std::int64_t e) {
                    if (b != next) ++wrong;  // in order
                    next = e;
                    coverage.hit(b, e);
                });
            } else {
                std::int64_t next = 0;
                ks::parallelForEach(50, [&](std::int64_t i) {
                    if (i != next++) ++wrong;  // in order
                    coverage.hit(i, i + 1);
                });
            }
            if (!coverage.problem().isEmpty() || coverage.threads() != 1 || std::this_thread::get_id() != self) ++wrong;
            ++innerLoops;
        };
        if (outer == "for") {
            ks::parallelFor(3, ks::kAlwaysParallel, [&](std::int64_t b, std::int64_t e) {
                for (std::int64_t i = b; i < e; ++i) innerLoop();
            });
        } else if (outer == "team") {
            ks::parallelTeam(3, [&](const ks::Team& member) {
                member.barrier();
                innerLoop();
                member.barrier();
            });
        } else if (outer == "claims") {
            ks::parallelClaims(3, 1, [&](std::int64_t, std::int64_t) { innerLoop(); });
        } else {
            ks::parallelForEach(3, [&](std::int64_t) { innerLoop(); });
        }
        QCOMPARE(wrong.load(), 0);
        QCOMPARE(innerLoops.load(), 3);
        QVERIFY(!ks::insideParallelLoop());
    }

    // Two threads calling loops at once: one gets the pool, the other runs serially; both complete
    // with every index once (a lost wake-up or a deadlock would hang here).
    void concurrentCallersBothComplete() {
        const ThreadCountScope scope(2);
        std::atomic<int> failures{0};
        const auto caller = [&] {
            for (int round = 0; round < 300; ++round) {
                Coverage coverage(round % 7 == 0 ? 1 : 257);
                const std::int64_t count = round % 7 == 0 ? 1 : 257;
                switch (round % 4) {
                case 0: ks::parallelFor(count, ks::kAlwaysParallel, [&](std::int64_t b, std::int64_t e) { coverage.hit(b, e); }); break;
                case 1: ks::parallelClaims(count, 16, [&](std::int64_t b, std::int64_t e) { coverage.hit(b, e); }); break;
                case 2: ks::parallelForEach(count, [&](std::int64_t i) { coverage.hit(i, i + 1); }); break;
                default:
                    ks::parallelTeam(2, [&](const ks::Team& m) {
                        m.barrier();
                        const std::int64_t begin = count * m.index / m.size, end = count * (m.index + 1) / m.size;
                        if (begin < end) coverage.hit(begin, end);
                        m.barrier();
                    });
                }
                if (!coverage.problem().isEmpty()) ++failures;
            }
        };
        std::thread other(caller);
        caller();
        other.join();
        QCOMPARE(failures.load(), 0);
    }

    void teamBarrierOrdersPhases_data() {
        QTest::addColumn<int>("threads");
        for (int threads : {2, 3, 4})
            QTest::addRow("%d threads", threads) << threads;
    }

    // Each phase every member writes its slot, meets the others, then reads every slot (all must hold
    // this phase's value), and meets them again before the next phase overwrites them. The last member
    // is late in every phase: without the barriers the others read its slot before it is written.
    void teamBarrierOrdersPhases() {
        QFETCH(int, threads);
        const ThreadCountScope scope(threads);
        constexpr int kPhases = 200;
        std::vector<std::atomic<int>> written(static_cast<std::size_t>(threads));
        for (auto& w : written) w = -1;
        std::atomic<int> stale{0}, size{0};
        ks::parallelTeam(threads, [&](const ks::Team& member) {
            size = member.size;
            for (int phase = 0; phase < kPhases; ++phase) {
                if (member.index == member.size - 1) busyWait(phase % 10 == 0 ? 300 : 20);
                written[static_cast<std::size_t>(member.index)].store(phase, std::memory_order_relaxed);
                member.barrier();
                for (int other = 0; other < member.size; ++other)
                    if (written[static_cast<std::size_t>(other)].load(std::memory_order_relaxed) != phase) ++stale;
                member.barrier();
            }
        });
        QCOMPARE(size.load(), threads);
        QCOMPARE(stale.load(), 0);
    }

    // Plain memory written before a barrier is seen after it (the barrier orders memory, not only time).
    void teamBarrierPublishesWrites() {
        const ThreadCountScope scope(2);
        std::vector<std::int64_t> data(4096);
        std::atomic<int> wrong{0};
        ks::parallelTeam(2, [&](const ks::Team& member) {
            for (std::int64_t round = 1; round <= 100; ++round) {
                const std::size_t half = data.size() / 2, mine = half * std::size_t(member.index);
                for (std::size_t i = 0; i < half; ++i) data[mine + i] = round * 10000 + std::int64_t(mine + i);
                member.barrier();
                const std::size_t theirs = half * std::size_t(1 - member.index);
                for (std::size_t i = 0; i < half; ++i)
                    if (data[theirs + i] != round * 10000 + std::int64_t(theirs + i)) ++wrong;
                member.barrier();
            }
        });
        QCOMPARE(wrong.load(), 0);
    }

    // A member that returns early has left the team: the others' barriers do not wait for it.
    void membersThatLeaveDoNotBlockTheBarrier() {
        const ThreadCountScope scope(3);
        std::atomic<int> passed{0};
        ks::parallelTeam(3, [&](const ks::Team& member) {
            if (member.index == 1) return;
            for (int i = 0; i < 50; ++i) member.barrier();
            ++passed;
        });
        QCOMPARE(passed.load(), 2);
    }

    // A team is as large as asked, up to the thread count; its members run at the same time (each
    // waits at a barrier for all the others), each on its own thread.
    void teamSizeFollowsTheThreadCount_data() {
        QTest::addColumn<int>("threads");
        QTest::addColumn<int>("asked");
        for (int threads : kThreadCounts)
            for (int asked : {0, 1, 2, 3, 64})
                QTest::addRow("threads=%d asked=%d", threads, asked) << threads << asked;
    }

    void teamSizeFollowsTheThreadCount() {
        QFETCH(int, threads);
        QFETCH(int, asked);
        const ThreadCountScope scope(threads);
        const int expected = std::clamp(asked, 1, threads);
        std::mutex mutex;
        std::set<std::thread::id> ids;
        std::set<int> indices;
        std::atomic<int> wrongSize{0};
        ks::parallelTeam(asked, [&](const ks::Team& member) {
            if (member.size != expected) ++wrongSize;
            member.barrier();
            std::lock_guard lock(mutex);
            ids.insert(std::this_thread::get_id());
            indices.insert(member.index);
        });
        QCOMPARE(wrongSize.load(), 0);
        QCOMPARE(int(ids.size()), expected);
        QCOMPARE(int(indices.size()), expected);
        QCOMPARE(*indices.rbegin(), expected - 1);
    }

    // The one setting: the pool's size, Eigen's thread count with it; bad values and calls from
    // inside a loop refused.
    void threadCountSettingIsHonoured() {
        const int before = ks::threadCount();
        QVERIFY(before >= 1);
        for (int threads : {1, 2, 3, 5}) {
            const ThreadCountScope scope(threads);
            QCOMPARE(ks::threadCount(), threads);
            QCOMPARE(Eigen::nbThreads(), threads);
            Coverage coverage(1000);
            ks::parallelFor(1000, ks::kAlwaysParallel, [&](std::int64_t b, std::int64_t e) { coverage.hit(b, e); });
            QCOMPARE(coverage.threads(), threads);
        }
        QCOMPARE(ks::threadCount(), before);
        QVERIFY(errorOf([] { ks::setThreadCount(0); }).contains("≥ 1"));
        QCOMPARE(ks::threadCount(), before);
        const ThreadCountScope two(2);
        QString inside;
        ks::parallelFor(2, ks::kAlwaysParallel, [&](std::int64_t begin, std::int64_t) {
            const QString error = errorOf([] { ks::setThreadCount(3); });
            if (begin == 1) inside = error;  // a worker's part
        });
        QVERIFY(inside.contains("inside a parallel loop"));
        QCOMPARE(ks::threadCount(), 2);
    }

    // SerialEigenProducts: Eigen on one thread while one exists (nested guards too); a thread count
    // set meanwhile reaches Eigen when the last one ends.
    void serialEigenProducts() {
        const ThreadCountScope scope(2);
        QCOMPARE(Eigen::nbThreads(), 2);
        {
            const ks::SerialEigenProducts outer;
            QCOMPARE(Eigen::nbThreads(), 1);
            {
                const ks::SerialEigenProducts inner;
                ks::setThreadCount(3);
                QCOMPARE(ks::threadCount(), 3);
                QCOMPARE(Eigen::nbThreads(), 1);
            }
            QCOMPARE(Eigen::nbThreads(), 1);
        }
        QCOMPARE(Eigen::nbThreads(), 3);
    }
};

QTEST_GUILESS_MAIN(TestParallel)
#include "tst_parallel.moc"
