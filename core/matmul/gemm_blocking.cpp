#include "matmul/gemm_blocking.hpp"

#include <algorithm>
#include <memory>

namespace ks::matmul {

namespace {

constexpr std::int64_t kMaxNc = 4096;
constexpr std::int64_t kMinKc = 16;

/// The largest multiple of `unit` not above `value`, and at least `unit`.
std::int64_t multipleBelow(std::int64_t value, std::int64_t unit) { return std::max(unit, value / unit * unit); }

}  // namespace

GemmPlan gemmPlan(const kernel::KernelSet& kernels, const CacheSizes& caches) {
    constexpr std::int64_t kFloat = sizeof(float);
    GemmPlan plan;
    plan.kernels = &kernels;
    const kernel::GemmKernel& wide = kernels.wide;
    const kernel::GemmKernel& narrow = kernels.narrow;
    plan.wide.kc = multipleBelow(caches.l1d / 2 / (wide.nr * kFloat), 8);
    plan.narrow.kc = multipleBelow(caches.l1d / (narrow.nr * kFloat), 8);
    plan.wide.kc = std::max(plan.wide.kc, kMinKc);
    plan.narrow.kc = std::max(plan.narrow.kc, kMinKc);
    // MC from the wide kernel's A block for both: the narrow kernel reads A in place, so its MC only
    // groups rows.
    const std::int64_t aBlockBytes = caches.l2 * 9 / 32;
    plan.wide.mc = multipleBelow(aBlockBytes / (plan.wide.kc * kFloat), wide.mr);
    plan.narrow.mc = multipleBelow(aBlockBytes / (plan.wide.kc * kFloat), narrow.mr);
    const auto panelColumns = [&](const GemmBlocking& b, int nr) {
        const std::int64_t columns = caches.l3 > 0 ? caches.l3 / 8 / (b.kc * kFloat) : kMaxNc;
        return multipleBelow(std::min(columns, kMaxNc), nr);
    };
    plan.wide.nc = panelColumns(plan.wide, wide.nr);
    plan.narrow.nc = panelColumns(plan.narrow, narrow.nr);
    plan.l1PanelFloats = caches.l1d / kFloat;
    return plan;
}

const GemmPlan& activeGemmPlan() {
    // One plan per thread, rebuilt when the kernel set or the cache sizes change (tests switch both).
    struct Cached {
        const kernel::KernelSet* kernels = nullptr;
        unsigned generation = 0;
        GemmPlan plan;
    };
    thread_local Cached cached;
    const kernel::KernelSet& kernels = kernel::activeKernelSet();
    const unsigned generation = cacheSizesGeneration();
    if (cached.kernels != &kernels || cached.generation != generation) {
        cached.plan = gemmPlan(kernels, activeCacheSizes());
        cached.kernels = &kernels;
        cached.generation = generation;
    }
    return cached.plan;
}

std::string describeGemmPlan(const GemmPlan& plan) {
    const auto blocks = [](const GemmBlocking& b, bool withNc) {
        return " (KC " + std::to_string(b.kc) + ", MC " + std::to_string(b.mc) +
               (withNc ? ", NC " + std::to_string(b.nc) : std::string()) + ")";
    };
    const kernel::KernelSet& k = *plan.kernels;
    return std::string(k.name) + ": wide " + k.wide.name + blocks(plan.wide, true) + ", narrow " + k.narrow.name +
           blocks(plan.narrow, false) + ", " + k.dot.name;
}

}  // namespace ks::matmul
