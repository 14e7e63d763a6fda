#pragma once
// The micro-kernel contract of sgemm (core/matmul/gemm.cpp). A micro-kernel computes one full
// mr×nr tile of C from a sliver of A (mr rows × k) and a packed sliver of B (k × nr columns):
//
//   C(i, j) [+]= Σ_p A(i, p) · B(p, j)     for i < mr, j < nr, p < k
//
//  - A(i, p) is read at a[i·rowStride + p·colStride]: a packed sliver has rowStride 1 and
//    colStride mr; a row-major A read in place has rowStride lda and colStride 1 (and a transposed
//    one rowStride 1, colStride lda). All mr rows must be readable (the driver packs a short edge
//    sliver, zero-padded).
//  - B is packed: B(p, j) at b[p·nr + j], zero-padded beyond the matrix edge.
//  - C is row-major with leading dimension ldc; the whole mr×nr tile is written (the driver passes
//    a temporary tile at the edges). accumulate: C += product, otherwise C = product.
//  - k ≥ 0 (k = 0 writes zeros, or leaves C as it is when accumulating).
//  - then, when `post` is not null, the epilogue: C(i, j) += bias[j] (post->bias may be null) and
//    C = max(C, 0) when post->relu; bias points at the tile's first column.
//
// Two shapes, so that narrow products (n ≤ 8: the factored layers' X·L at rank 8) do not spend half
// the work on padding: `wide` (two native vectors of columns, e.g. 6×16 with AVX2, 12×32 with
// AVX-512) for everything else, `narrow` (nr = 8, e.g. 12×8).
//
// A third kind, the dot-product kernel, serves products a little wider (8 < n ≤ 12, A row-major),
// which either broadcast kernel would pad to 16 columns: vectors run along k instead of along n, so
// one load of A and one of Bᵀ feed a whole vector of products, and a 4×3 tile wastes nothing at
// n = 12. It computes a DR×DC tile of dot products C(i, j) = Σ_p A(i, p)·Bt(j, p) over the whole k:
//  - aRows[i] and btRows[j] point at rows of length k (A in place, Bᵀ packed or in place); the driver
//    repeats a valid row for the missing ones at an edge and ignores their results;
//  - out[i·DC + j] receives the sums (the driver adds them to C).
//
// The kernels are written once (gemm_kernels.inc, GCC vector extensions) and compiled once per
// instruction set, each file with its own -march: a KernelSet per set, chosen at run time by
// ks::activeIsa() (base/isa.hpp), as the fast emulation engine's lane kernels are.
#include <cstdint>
#include <vector>

#include "base/isa.hpp"

namespace ks::matmul::kernel {

/// Applied to a tile of C once its product is complete (oneDNN's "post-ops", XNNPACK's clamping):
/// the bias and ReLU of a layer, while the tile is still in registers.
struct TileEpilogue {
    const float* bias;  ///< per column of the tile, or null
    bool relu;
};

using MicroKernel = void (*)(std::int64_t k, const float* a, std::int64_t rowStride, std::int64_t colStride,
                             const float* b, float* c, std::int64_t ldc, bool accumulate, const TileEpilogue* post);

/// Packs a whole sliver of mr rows of a row-major A (row i at a + i·lda) over k columns into the
/// layout the micro-kernel reads: A(i, p) at out[p·mr + i].
using PackRows = void (*)(std::int64_t k, const float* a, std::int64_t lda, float* out);

/// The largest tile of any set (the driver's temporary for edge tiles).
constexpr int kMaxTileRows = 12;
constexpr int kMaxTileColumns = 32;

struct GemmKernel {
    const char* name;  ///< e.g. "6x16"
    int mr;            ///< rows of the C tile
    int nr;            ///< columns of the C tile
    MicroKernel run;
    PackRows packRows;
};

constexpr int kDotRows = 4;     ///< DR
constexpr int kDotColumns = 3;  ///< DC

struct DotKernel {
    const char* name;
    void (*run)(std::int64_t k, const float* const* aRows, const float* const* btRows, float* out);
};

/// One instruction set's kernels.
struct KernelSet {
    const char* name;  ///< "generic", "avx2", "avx512", or a test variant's name
    Isa isa;           ///< what the CPU must run for it
    int vectorBytes;   ///< its native vector: 16 (xmm), 32 (ymm), 64 (zmm)
    GemmKernel wide, narrow;
    DotKernel dot;
    /// `iterations` rounds of 12 independent chains of native-vector FMAs on registers; returns a value
    /// that depends on all of them (the FMA ceiling, matmul/fma_peak.cpp). Null in test variants.
    float (*fmaChains)(std::int64_t iterations);
};

/// The set for an instruction set (the caller checks that the CPU runs it).
const KernelSet& kernelSetFor(Isa isa);
/// The set sgemm uses now: kernelSetFor(activeIsa()).
const KernelSet& activeKernelSet();
/// Every set this CPU can run, narrowest first, including test variants: "avx512 tiles on avx2" is the
/// AVX-512 set's code (16-lane vectors, 12×32 tiles) compiled for AVX2, so that its logic is tested
/// on machines without AVX-512 (each 16-lane operation becomes two 256-bit ones).
std::vector<const KernelSet*> runnableKernelSets();
/// Tests and comparisons: sgemm uses `set` (one of runnableKernelSets(); std::invalid_argument when the CPU
/// cannot run it) until called again; nullptr returns to kernelSetFor(activeIsa()).
void setActiveKernelSet(const KernelSet* set);

}  // namespace ks::matmul::kernel
