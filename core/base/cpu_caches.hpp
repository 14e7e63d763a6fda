#pragma once
// The data-cache sizes the kernels block for (sgemm's KC/MC/NC, matmul/gemm_blocking.hpp; the forward
// pass's tiles): read from the operating system at run time, never fitted to the build machine. Tests and comparisons may set
// others (setCacheSizes), as KS_ISA sets the instruction set.
#include <cstdint>
#include <optional>
#include <string>

namespace ks {

struct CacheSizes {
    std::int64_t l1d = 0;  ///< bytes of level-1 data cache per core
    std::int64_t l2 = 0;   ///< bytes of level-2 cache per core
    std::int64_t l3 = 0;   ///< bytes of level-3 cache (shared), 0 when none is reported
    /// Where the sizes came from: "sysfs" (Linux's list of cpu0's caches), "sysconf" (the C library's
    /// reading of cpuid, when sysfs has none), "assumed …" (the OS said
    /// nothing usable: the values of a common x86 core), "KS_CACHES" or "set" (setCacheSizes).
    std::string source;
};

/// What the OS reports for this machine (Linux's /sys/devices/system/cpu/cpu0/cache, else sysconf's
/// _SC_LEVEL*_CACHE_SIZE), each level it does not report assumed (L1d 32 KiB, L2 512 KiB, L3 8 MiB).
CacheSizes detectedCacheSizes();
/// The sizes the kernels block for: setCacheSizes' when set, else KS_CACHES=L1D,L2,L3 (bytes, K/M/G
/// suffixes allowed) when valid, else detectedCacheSizes().
CacheSizes activeCacheSizes();
/// Forces sizes (tests: small and large fake caches); nullopt returns to the default. std::invalid_argument
/// unless 1 KiB ≤ l1d ≤ l2 ≤ 1 GiB and l3 is 0 or ≥ l2.
void setCacheSizes(std::optional<CacheSizes> sizes);
/// Changes whenever setCacheSizes is called: kernels that derive blocking from the sizes keep it until then.
unsigned cacheSizesGeneration();
/// "L1d,L2,L3" as KS_CACHES takes it, e.g. "32K,512K,32M"; std::invalid_argument naming what is wrong.
CacheSizes parseCacheSizes(const std::string& text);
/// "32 KiB" style, for reports.
std::string formatBytes(std::int64_t bytes);

}  // namespace ks
