// The FMA ceiling: each kernel set's loop of twelve independent chains of native-vector FMAs
// (gemm_kernels.inc), timed on a team of threads.
#include "matmul/fma_peak.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "base/parallel.hpp"
#include "matmul/gemm_kernel.hpp"

namespace ks::matmul {

namespace {

constexpr int kChains = 12;  ///< as in gemm_kernels.inc's fmaChains

}  // namespace

std::string fmaPeakKernel(Isa isa) {
    const kernel::KernelSet& set = kernel::kernelSetFor(isa);
    return std::string(set.name) + ": " + std::to_string(kChains) + " chains of " + std::to_string(set.vectorBytes / 4) +
           (isa == Isa::Generic ? "-float multiplies and adds (x86-64 has no FMA)" : "-float FMAs");
}

double fmaPeakGflops(int threads, double seconds, Isa isa) {
    if (!isaSupported(isa)) throw std::invalid_argument("fma peak: this CPU cannot run " + isaName(isa));
    const kernel::KernelSet& set = kernel::kernelSetFor(isa);
    const auto fmaChains = set.fmaChains;
    const double flopsPerIteration = 2.0 * kChains * (set.vectorBytes / 4);
    if (threads < 1) throw std::invalid_argument("fma peak: threads must be ≥ 1, got " + std::to_string(threads));
    if (!(seconds > 0)) throw std::invalid_argument("fma peak: seconds must be > 0, got " + std::to_string(seconds));
    using Clock = std::chrono::steady_clock;
    // Calibrate on one thread: iterations for about `seconds`.
    std::int64_t iterations = 1 << 16;
    double elapsed = 0;
    volatile float sink = 0;
    for (;;) {
        const auto start = Clock::now();
        sink = sink + fmaChains(iterations);
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        if (elapsed > seconds / 8 || iterations > (std::int64_t{1} << 40)) break;
        iterations *= 2;
    }
    iterations = std::max<std::int64_t>(1, static_cast<std::int64_t>(double(iterations) * seconds / elapsed));
    // Every member of a team (all running at once) the same work; the rate is the total over the
    // wall time of the slowest. The members meet at a barrier first, so that none starts while
    // another is still being woken.
    std::atomic<int> team{1};
    std::atomic<float> sum{0};
    Clock::time_point start;
    parallelTeam(threads, [&](const Team& member) {
        member.barrier();
        if (member.index == 0) {
            start = Clock::now();
            team = member.size;  // the pool may have fewer threads than asked
        }
        const float value = fmaChains(iterations);
        float s = sum.load();
        while (!sum.compare_exchange_weak(s, s + value)) {
        }
    });
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    sink = sink + sum.load();
    return flopsPerIteration * double(iterations) * team.load() / wall * 1e-9;
}

}  // namespace ks::matmul
