// Twelve independent chains of 8-float FMAs: Zen 3 and Skylake have two FMA pipes of latency 4, so
// at least eight chains in flight keep both busy; twelve leave room. The multiplier is hidden from
// the optimiser (an empty asm), so that nothing is folded and every FMA is executed.
#include "matmul/fma_peak.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "base/parallel.hpp"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace ks::matmul {

namespace {

constexpr int kChains = 12;
constexpr int kLanes = 8;  ///< floats per chain (one AVX2 vector)

#if defined(__AVX2__) && defined(__FMA__)
/// `iterations` rounds of kChains FMAs; returns a value that depends on all of them.
float fmaChains(std::int64_t iterations) {
    __m256 c[kChains];
    for (int j = 0; j < kChains; ++j) c[j] = _mm256_set1_ps(static_cast<float>(j));
    __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-6f);
    for (std::int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
        for (int j = 0; j < kChains; ++j) c[j] = _mm256_fmadd_ps(a, c[j], b);
        __asm__ volatile("" : "+x"(a));
    }
    float sum = 0;
    for (int j = 0; j < kChains; ++j) sum += _mm256_cvtss_f32(c[j]);
    return sum;
}
const char* const kKernelName = "avx2-fma, 12 chains of 8 floats";
#else
float fmaChains(std::int64_t iterations) {
    float c[kChains][kLanes];
    for (int j = 0; j < kChains; ++j)
        for (int l = 0; l < kLanes; ++l) c[j][l] = static_cast<float>(j);
    volatile float hidden = 0.999999f;
    const float b = 1e-6f;
    for (std::int64_t i = 0; i < iterations; ++i) {
        const float a = hidden;
        for (int j = 0; j < kChains; ++j)
            for (int l = 0; l < kLanes; ++l) c[j][l] = a * c[j][l] + b;
    }
    float sum = 0;
    for (int j = 0; j < kChains; ++j) sum += c[j][0];
    return sum;
}
const char* const kKernelName = "portable C++, 12 chains of 8 floats";
#endif

constexpr double kFlopsPerIteration = 2.0 * kChains * kLanes;

}  // namespace

const char* fmaPeakKernel() { return kKernelName; }

double fmaPeakGflops(int threads, double seconds) {
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
    return kFlopsPerIteration * double(iterations) * team.load() / wall * 1e-9;
}

}  // namespace ks::matmul
