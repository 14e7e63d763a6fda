#pragma once
// sgemm's cache blocking (the GotoBLAS/BLIS loops of gemm.cpp), derived at run time from the cache
// sizes the CPU reports and the tile of the kernel set in use, never fitted to one machine:
//  - KC, the depth of a block: a B sliver KC×nr takes half of L1d for the wide kernel (the A sliver
//    beside it and C's tile take the rest) and all of it for the narrow one (its A is read in place,
//    streaming from L2);
//  - MC, the rows of an A block: MC×KC of the wide kernel take 9/32 of L2 (the rest holds the B
//    panel's slivers as they stream through and C's tiles), a multiple of the kernel's mr;
//  - NC, the columns of a B panel: KC×NC take an eighth of L3 (a share per core on a many-core
//    part), at most 4096 columns (a wider panel gains nothing and its buffer would only grow).
// On the Zen 3 the constants were first fitted on (L1d 32 KiB, L2 512 KiB, L3 32 MiB; AVX2 tiles 6×16
// and 12×8) the rules give what was measured best there: KC 256 (1024 narrow), MC 144, NC 4096.
#include <cstdint>
#include <string>

#include "base/cpu_caches.hpp"
#include "matmul/gemm_kernel.hpp"

namespace ks::matmul {

struct GemmBlocking {
    std::int64_t kc = 0;  ///< most depth of a block (gemm.cpp splits k into equal blocks of at most this)
    std::int64_t mc = 0;  ///< rows of an A block, a multiple of the kernel's mr
    std::int64_t nc = 0;  ///< columns of a B panel, a multiple of the kernel's nr
};

/// The blocking of a set's wide and narrow kernels for these caches.
struct GemmPlan {
    const kernel::KernelSet* kernels = nullptr;
    GemmBlocking wide, narrow;
    /// A B panel of at most this many floats (L1d) is taken through by rows of tiles (gemm.cpp).
    std::int64_t l1PanelFloats = 0;
};

GemmPlan gemmPlan(const kernel::KernelSet& kernels, const CacheSizes& caches);

/// The plan sgemm uses now: the active kernel set (ks::activeIsa()) and cache sizes (ks::activeCacheSizes()).
/// Cheap (recomputed only when either changes).
const GemmPlan& activeGemmPlan();

/// "avx2: wide 6x16 (KC 256, MC 144, NC 4096), narrow 12x8 (KC 1024, MC 144), dot 4x3", for reports.
std::string describeGemmPlan(const GemmPlan& plan);

}  // namespace ks::matmul
