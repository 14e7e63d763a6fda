#include "base/parallel.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ks {

// A persistent pool of std::threads woken through a condition variable. (Not OpenMP: libgomp's idle
// workers spin after every region, which burnt the second core during the serial parts of a kernel,
// and an exception escaping an OpenMP region ends the program.) Waking a sleeping thread costs tens
// of microseconds on these virtual machines, as much as a whole single-channel 256×256 convolution's
// half: so both sides first spin briefly (≤ kSpin) on atomics, and only then sleep; so do the
// members of a team at a barrier. A loop is handed to spinning workers without locks, through one
// cache line (the generation and part count in one word, the job, the count of parts running; the
// conv pool, with these spread over two lines and a mutex taken on both sides, took ~0.1 µs more per
// loop); the mutex and condition variables are only for threads that sleep.

namespace {

thread_local bool t_insideLoop = false;

constexpr auto kSpin = std::chrono::microseconds(100);
/// A team member still waiting after kSpin yields its core until this, then sleeps.
constexpr auto kYield = std::chrono::microseconds(1000);

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Spins until ready() or `limit` has passed; true if ready.
template <class Ready>
bool spinUntil(Ready ready, std::chrono::microseconds limit = kSpin) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (int i = 0;; ++i) {
        if (ready()) return true;
        if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return false;
        cpuRelax();
    }
}

/// A non-owning reference to a callable taking the part index (no allocation per loop).
class PartFn {
public:
    template <class F>
    explicit PartFn(F& f) : object_(&f), call_([](void* o, int part) { (*static_cast<F*>(o))(part); }) {}
    PartFn() = default;
    void operator()(int part) const { call_(object_, part); }

private:
    void* object_ = nullptr;
    void (*call_)(void*, int) = nullptr;
};

/// Marks the calling thread as inside a loop for its scope.
class InsideLoop {
public:
    InsideLoop() { t_insideLoop = true; }
    ~InsideLoop() { t_insideLoop = false; }
    InsideLoop(const InsideLoop&) = delete;
    InsideLoop& operator=(const InsideLoop&) = delete;
};

class ThreadPool {
public:
    explicit ThreadPool(int threads) { resize(threads); }
    ~ThreadPool() { stopAll(); }

    int size() const { return size_.load(std::memory_order_relaxed); }

    void resize(int threads) {
        std::lock_guard dispatch(dispatchMutex_);  // waits for a running loop
        stopAll();
        generation_ = 0;
        published_.store(0, std::memory_order_relaxed);
        threads = std::clamp(threads, 1, kMaxThreads);
        for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { workerLoop(i); });
        size_.store(threads, std::memory_order_relaxed);
    }

    /// job(part) for part < parts, each part on its own thread at the same time, part 0 on the
    /// caller. False, with nothing run, if the pool is busy (another caller) or has fewer than
    /// `parts` threads (resized since the caller asked): the caller then runs serially.
    bool tryRun(int parts, PartFn job) {
        std::unique_lock dispatch(dispatchMutex_, std::try_to_lock);
        if (!dispatch.owns_lock() || parts > size()) return false;
        job_ = job;
        error_ = nullptr;
        pending_.store(parts - 1, std::memory_order_relaxed);
        // The generation and the number of parts in one word: a worker that is not in this loop
        // never reads a later loop's part count as this one's.
        published_.store(++generation_ << kPartBits | std::uint64_t(parts), std::memory_order_seq_cst);
        if (sleepingWorkers_.load(std::memory_order_seq_cst) > 0) {
            std::lock_guard lock(mutex_);  // a worker between its last check and its wait holds this
            wake_.notify_all();
        }
        runPart(0);
        if (!spinUntil([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
            std::unique_lock lock(mutex_);
            callerSleeping_.store(true, std::memory_order_seq_cst);
            done_.wait(lock, [this] { return pending_.load(std::memory_order_seq_cst) == 0; });
            callerSleeping_.store(false, std::memory_order_relaxed);
        }
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
        return true;
    }

private:
    static constexpr int kPartBits = 16;
    static constexpr int kMaxThreads = (1 << kPartBits) - 1;
    static constexpr std::uint64_t kStop = ~std::uint64_t{0};

    void runPart(int part) {
        const InsideLoop inside;
        try {
            job_(part);
        } catch (...) {
            std::lock_guard lock(errorMutex_);
            if (!error_) error_ = std::current_exception();
        }
    }

    void workerLoop(int index) {
        std::uint64_t seen = 0, word = 0;
        const auto published = [&] { return (word = published_.load(std::memory_order_seq_cst)) != seen; };
        for (;;) {
            if (!spinUntil(published)) {  // sleep until the next loop
                std::unique_lock lock(mutex_);
                sleepingWorkers_.fetch_add(1, std::memory_order_seq_cst);
                wake_.wait(lock, published);
                sleepingWorkers_.fetch_sub(1, std::memory_order_relaxed);
            }
            if (word == kStop) return;
            seen = word;
            if (index >= int(word & kMaxThreads)) continue;  // not in this loop
            runPart(index);
            if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 && callerSleeping_.load(std::memory_order_seq_cst)) {
                std::lock_guard lock(mutex_);  // the caller checks pending_ under this lock before it sleeps
                done_.notify_one();
            }
        }
    }

    void stopAll() {
        {
            std::lock_guard lock(mutex_);
            published_.store(kStop, std::memory_order_seq_cst);  // ends the workers' spin and sleep
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
        size_.store(1, std::memory_order_relaxed);
    }

    std::mutex dispatchMutex_;  ///< held by the caller whose loop runs
    std::mutex mutex_;          ///< for sleeping and waking only
    std::mutex errorMutex_;
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    std::atomic<int> size_{1};
    std::uint64_t generation_ = 0;
    std::exception_ptr error_;
    // What a loop's threads share while it runs, in one cache line of its own: the caller writes it
    // once, each worker reads it in one transfer and writes pending_ once.
    alignas(64) std::atomic<std::uint64_t> published_{0};  ///< generation << kPartBits | parts; workers spin on it
    PartFn job_;
    std::atomic<int> pending_{0};  ///< workers' parts still running; the caller spins on it
    alignas(64) std::atomic<int> sleepingWorkers_{0};
    std::atomic<bool> callerSleeping_{false};
};

ThreadPool& pool() {
    static ThreadPool instance(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    return instance;
}

/// Eigen's thread setting and the SerialEigenProducts guards alive.
struct EigenThreads {
    std::mutex mutex;
    int serialGuards = 0;
    int wanted = 0;  ///< set by setThreadCount while a guard is alive (0: none)
};

EigenThreads& eigenThreads() {
    static EigenThreads instance;
    return instance;
}

/// Runs `part` on `parts` threads of the pool if it can (part 0 on the caller); false if not (nested,
/// one thread, or the pool busy), in which case nothing has run.
template <class Part>
bool runOnPool(int parts, Part& part) {
    if (parts <= 1 || t_insideLoop || pool().size() == 1) return false;
    return pool().tryRun(parts, PartFn(part));
}

}  // namespace

/// A barrier for the members of one team, whose number can shrink (a member that leaves counts as
/// arrived at every later barrier). One 64-bit word holds the members still in the team (high half)
/// and those yet to arrive in this phase (low half); the last to arrive resets it and advances the
/// phase, which the others spin on (kSpin), then yield (to kYield), then sleep on (a futex).
class alignas(64) TeamBarrier {  // a line of its own: the members spin on it
public:
    explicit TeamBarrier(int members) : state_(pack(std::uint32_t(members), std::uint32_t(members))) {}

    void arriveAndWait() {
        const std::uint32_t phase = phase_.load(std::memory_order_acquire);
        if (arrive(false)) return;
        const auto passed = [&] { return phase_.load(std::memory_order_acquire) != phase; };
        if (spinUntil(passed)) return;
        const auto deadline = std::chrono::steady_clock::now() + kYield;
        while (!passed()) {
            if (std::chrono::steady_clock::now() < deadline) {
                std::this_thread::yield();
                continue;
            }
            sleepers_.fetch_add(1, std::memory_order_seq_cst);
            phase_.wait(phase, std::memory_order_acquire);  // returns at once if the phase moved on
            sleepers_.fetch_sub(1, std::memory_order_relaxed);
        }
    }

    void leave() { arrive(true); }

private:
    static std::uint64_t pack(std::uint32_t members, std::uint32_t remaining) { return std::uint64_t{members} << 32 | remaining; }

    /// Counts the caller in; true if it was the last of the phase (which it then completes).
    bool arrive(bool leaving) {
        std::uint64_t s = state_.load(std::memory_order_relaxed);
        for (;;) {
            const std::uint32_t members = std::uint32_t(s >> 32) - (leaving ? 1 : 0);
            const std::uint32_t remaining = std::uint32_t(s);
            const bool last = remaining == 1;
            const std::uint64_t next = last ? pack(members, members) : pack(members, remaining - 1);
            if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_relaxed)) {
                if (last) {
                    phase_.fetch_add(1, std::memory_order_seq_cst);
                    if (sleepers_.load(std::memory_order_seq_cst) > 0) phase_.notify_all();
                }
                return last;
            }
        }
    }

    std::atomic<std::uint64_t> state_;
    std::atomic<std::uint32_t> phase_{0};
    std::atomic<int> sleepers_{0};
};

void Team::barrier() const {
    if (barrier_) barrier_->arriveAndWait();
}

int threadCount() { return pool().size(); }

void setThreadCount(int threads) {
    if (threads < 1) throw std::invalid_argument("thread count must be ≥ 1, got " + std::to_string(threads));
    if (t_insideLoop) throw std::logic_error("setThreadCount called from inside a parallel loop");
    pool().resize(threads);
    EigenThreads& eigen = eigenThreads();
    std::lock_guard lock(eigen.mutex);
    if (eigen.serialGuards > 0) eigen.wanted = threads;
    else Eigen::setNbThreads(threads);
}

bool insideParallelLoop() { return t_insideLoop; }

void parallelFor(std::int64_t count, double work, const std::function<void(std::int64_t, std::int64_t)>& body) {
    if (count <= 0) return;
    const int parts = static_cast<int>(std::min<std::int64_t>(threadCount(), count));
    auto part = [&](int p) {
        const std::int64_t begin = count * p / parts, end = count * (p + 1) / parts;
        if (begin < end) body(begin, end);
    };
    if (work < kMinParallelWork || !runOnPool(parts, part)) body(0, count);
}

void parallelTeam(int team, const std::function<void(const Team&)>& body) {
    const int size = std::clamp(team, 1, threadCount());
    TeamBarrier barrier(size);
    auto member = [&](int index) {
        struct Leave {  // returned or threw: the others' barriers stop waiting for this member
            TeamBarrier& b;
            ~Leave() { b.leave(); }
        } leave{barrier};
        body(Team(index, size, &barrier));
    };
    if (!runOnPool(size, member)) body(Team{});
}

void parallelClaimsPerThread(std::int64_t count, std::int64_t grain, double work,
                             const std::function<void(const Claims&)>& perThread) {
    if (count <= 0) return;
    grain = std::max<std::int64_t>(grain, 1);
    const int blocks = static_cast<int>(std::min<std::int64_t>(threadCount(), (count + grain - 1) / grain));
    if (work >= kMinParallelWork && blocks > 1) {
        BlockClaims claims(count, blocks, grain);
        auto part = [&](int own) { perThread(Claims(claims, own)); };
        if (runOnPool(blocks, part)) return;
    }
    BlockClaims whole(count, 1, grain);  // the pieces in order, on the calling thread
    perThread(Claims(whole, 0));
}

void parallelClaims(std::int64_t count, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn,
                    double work) {
    parallelClaimsPerThread(count, grain, work, [&](const Claims& claims) { claims.forEach(fn); });
}

void parallelForEach(std::int64_t count, const std::function<void(std::int64_t)>& fn, int threads) {
    if (count <= 0) return;
    const int parts = static_cast<int>(std::min<std::int64_t>(threads > 0 ? std::min(threads, threadCount()) : threadCount(), count));
    std::atomic<std::int64_t> next{0};
    auto part = [&](int) {
        try {
            for (std::int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < count;) fn(i);
        } catch (...) {
            next.store(count, std::memory_order_relaxed);  // the others stop after their current index
            throw;
        }
    };
    if (!runOnPool(parts, part))
        for (std::int64_t i = 0; i < count; ++i) fn(i);
}

SerialEigenProducts::SerialEigenProducts() {
    EigenThreads& eigen = eigenThreads();
    std::lock_guard lock(eigen.mutex);
    if (eigen.serialGuards++ == 0) {
        eigen.wanted = Eigen::nbThreads();
        Eigen::setNbThreads(1);
    }
}

SerialEigenProducts::~SerialEigenProducts() {
    EigenThreads& eigen = eigenThreads();
    std::lock_guard lock(eigen.mutex);
    if (--eigen.serialGuards == 0) Eigen::setNbThreads(eigen.wanted);
}

}  // namespace ks
