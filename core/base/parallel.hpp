#pragma once
// The one parallel layer of core/: every loop that runs on several threads (the convolutions, sgemm,
// the factored products, the network's forward passes, the studies) runs on one small persistent pool
// of std::threads, sized by one setting, threadCount(). Four shapes of loop:
//  - parallelFor: [0, count) in one contiguous chunk per thread (static split);
//  - parallelTeam: a team whose members run at the same time and can meet at a barrier (sgemm's
//    shared packed B panel, the FMA peak);
//  - parallelClaims: one block per thread, claimed in pieces of `grain`; a thread that finishes takes
//    the pieces left in the others' blocks (BlockClaims, block_claims.hpp);
//  - parallelForEach: each index claimed by whichever thread is free (long, uneven items).
// Common rules: the calling thread takes part (it is thread/member/block 0); a loop called from inside
// another loop, or while another thread is using the pool, runs on the calling thread alone (nested
// loops never wait for each other, so they never deadlock); the first exception thrown by the body on
// any thread is rethrown on the caller once every thread has stopped.
//
// Waiting threads spin briefly (~100 µs) before they sleep: waking a sleeping thread costs tens of
// microseconds on the virtual machines this runs on, as much as a whole small convolution, and the
// next loop of a sequence of kernels usually comes within that.
#include <cstdint>
#include <functional>
#include <limits>

#include "base/block_claims.hpp"

namespace ks {

/// Threads of every parallel loop (the pool's size, the caller included); default: the hardware's
/// concurrency.
int threadCount();
/// Sets the thread count (≥ 1; 1 runs every loop on the calling thread), and Eigen's own (its OpenMP
/// products, Eigen::setNbThreads) with it. Waits for a loop that is running to finish; throws
/// std::invalid_argument for threads < 1, std::logic_error when called from inside a parallel loop.
void setThreadCount(int threads);

/// True on a thread that is running a part of a loop on the pool (the caller's part included): loops
/// called there run serially.
bool insideParallelLoop();

/// Below this many FLOPs (a loop's `work`), a loop is not worth waking a thread for (~10 µs).
inline constexpr double kMinParallelWork = 2e5;
/// A `work` that is always worth the threads.
inline constexpr double kAlwaysParallel = std::numeric_limits<double>::infinity();

/// Calls body(begin, end) on disjoint contiguous chunks covering [0, count), one chunk per thread
/// (at most threadCount() chunks; [count·t / chunks, count·(t + 1) / chunks)), the calling thread
/// taking the first. One call body(0, count) on the calling thread when `work` (an estimate in FLOPs
/// of the whole loop) is below kMinParallelWork, or nested, or the pool is busy.
void parallelFor(std::int64_t count, double work, const std::function<void(std::int64_t begin, std::int64_t end)>& body);

class TeamBarrier;

/// A member of a team of threads (parallelTeam). The default is a team of one: the calling thread
/// alone, whose barrier() returns at once.
class Team {
public:
    Team() = default;
    int index = 0;  ///< 0 … size − 1; 0 is the calling thread
    int size = 1;
    /// Waits until every member still in the team has arrived (a member that returned or threw has
    /// left it). Memory written by any member before its barrier() is visible to all after theirs.
    void barrier() const;

private:
    friend void parallelTeam(int, const std::function<void(const Team&)>&);
    Team(int memberIndex, int teamSize, TeamBarrier* barrier) : index(memberIndex), size(teamSize), barrier_(barrier) {}
    TeamBarrier* barrier_ = nullptr;
};

/// body(member) on a team of min(team, threadCount()) members running at the same time, one per
/// thread, the calling thread being member 0; a team of one (body(Team{}) on the calling thread)
/// when team ≤ 1, nested, or the pool is busy. Members split their work by member.index and
/// member.size (not by `team`: the team may be smaller than asked). A member that throws leaves the
/// team (the others' barriers no longer wait for it); the first exception is rethrown.
void parallelTeam(int team, const std::function<void(const Team& member)>& body);

/// fn(begin, end) on disjoint, non-empty pieces of at most `grain` covering [0, count): the range is
/// split into min(threadCount(), ⌈count / grain⌉) blocks, one per thread; each thread takes the pieces
/// of its own block in order, then the pieces left in the others' (BlockClaims: a thread slowed down
/// by the shared machine leaves the rest of its block to the others). On the calling thread alone, in
/// order, when there is one block, `work` < kMinParallelWork, nested, or the pool is busy.
void parallelClaims(std::int64_t count, std::int64_t grain, const std::function<void(std::int64_t begin, std::int64_t end)>& fn,
                    double work = kAlwaysParallel);

/// The pieces one thread takes in parallelClaimsPerThread.
class Claims {
public:
    /// fn(begin, end) for each piece this thread claims: its own block's in order, then those left in
    /// the others' blocks.
    template <class Fn>
    void forEach(Fn&& fn) const {
        claims_.run(own_, fn);
    }

private:
    friend void parallelClaimsPerThread(std::int64_t, std::int64_t, double, const std::function<void(const Claims&)>&);
    Claims(BlockClaims& claims, int own) : claims_(claims), own_(own) {}
    BlockClaims& claims_;
    int own_;
};

/// parallelClaims with state per thread: perThread(claims) once on each thread that takes part (on the
/// calling thread alone when parallelClaims would run there), which sets up what its pieces share
/// (buffers, plans) and then calls claims.forEach(fn). Together the threads' pieces cover [0, count).
void parallelClaimsPerThread(std::int64_t count, std::int64_t grain, double work,
                             const std::function<void(const Claims& claims)>& perThread);

/// fn(index) for every index in [0, count), each claimed by one thread when it is free, in no
/// particular order (for items of uneven length: a study's points, chunks of emulated samples), on at
/// most `threads` threads (0: threadCount()). After an exception no further index is started.
/// On the calling thread, in order, when nested or the pool is busy.
void parallelForEach(std::int64_t count, const std::function<void(std::int64_t index)>& fn, int threads = 0);

/// While one exists, Eigen's own products (its OpenMP GEMM) run on the calling thread: for results that
/// must not depend on the thread count (training). Eigen has one process-wide setting, so this holds
/// for every thread; setThreadCount() during its life takes effect for Eigen when the last one ends.
class SerialEigenProducts {
public:
    SerialEigenProducts();
    ~SerialEigenProducts();
    SerialEigenProducts(const SerialEigenProducts&) = delete;
    SerialEigenProducts& operator=(const SerialEigenProducts&) = delete;
};

}  // namespace ks
