#pragma once
// Threads for the float32 fast paths: the algorithms split their work over N, K, channels, tiles or
// GEMMs themselves (many small GEMMs in parallel beat one GEMM split in two), on a small persistent
// pool of std::threads.
#include <cstdint>
#include <functional>

namespace ks::conv {

/// Threads the convolution kernels use (default: hardware concurrency).
int convThreads();
/// Set the thread count (1 = run on the calling thread only). Not to be called while kernels run.
void setConvThreads(int threads);

/// Calls body(begin, end) on disjoint contiguous chunks covering [0, count), one chunk per thread,
/// the calling thread taking the first. Runs serially when called from inside a parallel region or
/// while another thread is using the pool, or when `work` (an estimate in FLOPs of the whole loop) is
/// too small to pay for waking threads (~10 µs). Exceptions from body are rethrown on the caller.
void parallelFor(std::int64_t count, double work,
                 const std::function<void(std::int64_t begin, std::int64_t end)>& body);

/// Below this many FLOPs a loop runs on the calling thread.
inline constexpr double kMinParallelWork = 2e5;

}  // namespace ks::conv
