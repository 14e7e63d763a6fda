#include "conv/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace ks::conv {

// A persistent pool of std::threads woken through a condition variable, even though kscore links
// OpenMP (for the matmul module): libgomp's idle workers spin after every region, which would burn
// the second core during the serial parts of a kernel and between calls. The kernels' GEMMs are
// called single-threaded (conv_gemm.hpp), so nothing here starts OpenMP teams.
// Waking a sleeping thread costs tens of microseconds on these virtual machines, as much as a whole
// single-channel 256×256 convolution's half: so both sides first spin briefly (≤ kSpin) on atomics
// — the next call of a loop of kernels usually comes within that — and only then sleep.

namespace {

thread_local bool insideParallelRegion = false;

constexpr auto kSpin = std::chrono::microseconds(100);

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Spins until ready() or kSpin has passed; true if ready.
template <class Ready>
bool spinUntil(Ready ready) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (int i = 0;; ++i) {
        if (ready()) return true;
        if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return false;
        cpuRelax();
    }
}

class ThreadPool {
public:
    explicit ThreadPool(int threads) { resize(threads); }
    ~ThreadPool() { stopAll(); }

    int size() const { return static_cast<int>(workers_.size()) + 1; }

    void resize(int threads) {
        std::lock_guard dispatch(dispatchMutex_);
        stopAll();
        stop_ = false;
        generation_ = 0;
        published_.store(0, std::memory_order_relaxed);
        for (int i = 1; i < std::max(threads, 1); ++i) workers_.emplace_back([this, i] { workerLoop(i); });
    }

    /// False if the pool is busy (another caller): the caller then runs serially.
    bool tryRun(std::int64_t count, const std::function<void(std::int64_t, std::int64_t)>& body) {
        std::unique_lock dispatch(dispatchMutex_, std::try_to_lock);
        if (!dispatch.owns_lock()) return false;
        const int parts = static_cast<int>(std::min<std::int64_t>(size(), count));
        {
            std::lock_guard lock(mutex_);
            body_ = &body;
            count_ = count;
            parts_ = parts;
            pending_.store(parts - 1, std::memory_order_relaxed);
            error_ = nullptr;
            ++generation_;
            published_.store(generation_, std::memory_order_release);
        }
        wake_.notify_all();
        runPart(0);
        spinUntil([this] { return pending_.load(std::memory_order_acquire) == 0; });
        std::unique_lock lock(mutex_);
        done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
        body_ = nullptr;
        if (error_) std::rethrow_exception(error_);
        return true;
    }

private:
    void runPart(int part) {
        const std::int64_t begin = count_ * part / parts_;
        const std::int64_t end = count_ * (part + 1) / parts_;
        insideParallelRegion = true;
        try {
            if (begin < end) (*body_)(begin, end);
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!error_) error_ = std::current_exception();
        }
        insideParallelRegion = false;
    }

    void workerLoop(int index) {
        std::uint64_t seen = 0;
        for (;;) {
            spinUntil([&] { return published_.load(std::memory_order_acquire) != seen; });
            {
                std::unique_lock lock(mutex_);
                wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
                if (stop_) return;
                seen = generation_;
                if (index >= parts_) continue;
            }
            runPart(index);
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard lock(mutex_);  // the caller checks pending_ under this lock before it sleeps
                done_.notify_one();
            }
        }
    }

    void stopAll() {
        {
            std::lock_guard lock(mutex_);
            stop_ = true;
            published_.store(~std::uint64_t{0}, std::memory_order_release);  // ends the workers' spin
        }
        wake_.notify_all();
        for (auto& t : workers_) t.join();
        workers_.clear();
    }

    std::mutex dispatchMutex_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    std::vector<std::thread> workers_;
    bool stop_ = false;
    std::uint64_t generation_ = 0;
    const std::function<void(std::int64_t, std::int64_t)>* body_ = nullptr;
    std::int64_t count_ = 0;
    int parts_ = 1;
    std::atomic<int> pending_{0};
    std::atomic<std::uint64_t> published_{0};  ///< generation_, readable without the mutex (spinning)
    std::exception_ptr error_;
};

ThreadPool& pool() {
    static ThreadPool instance(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    return instance;
}

}  // namespace

int convThreads() { return pool().size(); }

void setConvThreads(int threads) { pool().resize(threads); }

void parallelFor(std::int64_t count, double work, const std::function<void(std::int64_t, std::int64_t)>& body) {
    if (count <= 0) return;
    if (count == 1 || work < kMinParallelWork || insideParallelRegion || pool().size() == 1 || !pool().tryRun(count, body)) body(0, count);
}


}  // namespace ks::conv
