#pragma once
// A small persistent thread pool for the float32 fast paths (OpenMP is not linked; Eigen's GEMM
// runs single-threaded, so the algorithms split their work over N, K, channels or tiles themselves).
#include <cstdint>
#include <functional>

namespace ks::conv {

/// Threads the convolution kernels use (default: hardware concurrency).
int convThreads();
/// Set the thread count (1 = run on the calling thread only). Not to be called while kernels run.
void setConvThreads(int threads);

/// Calls body(begin, end) on disjoint contiguous chunks covering [0, count), one chunk per thread,
/// the calling thread taking the first. Runs serially when called from inside a parallel region or
/// while another thread is using the pool. Exceptions from body are rethrown on the caller.
void parallelFor(std::int64_t count, const std::function<void(std::int64_t begin, std::int64_t end)>& body);

}  // namespace ks::conv
