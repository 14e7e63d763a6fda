#pragma once
// The float32-lane emulation kernels, one set per instruction set (lane_kernels.inc compiled by
// lane_kernels_generic.cpp, lane_kernels_avx2.cpp and lane_kernels_avx512.cpp with their own -march),
// chosen at run time by ks::activeIsa(). Internal to core: matmul/emulated_gemm.hpp and the conv
// algorithms' lane paths (conv/conv_lanes.hpp) call them.
#include <cstdint>

#include "base/isa.hpp"
#include "numeric/lane_rounding.hpp"
#include "numeric/random_bits.hpp"

namespace ks::matmul::lanes {

/// The register tile's width in columns (2 zmm, 4 ymm or 8 xmm vectors), the same for every instruction set.
constexpr int kLaneTileColumns = 32;

/// Rows of C = initial + A·B (or A·B) in one of the two emulated orders, operands already stored.
struct GemmArgs {
    const numeric::LaneSpec* spec;
    numeric::EmulatedOrder order;
    std::int64_t k, n;
    const float* a;  ///< row i at a + i·lda
    std::int64_t lda;
    const float* b;  ///< k × n, row p at b + p·ldb
    std::int64_t ldb;
    /// RoundedProducts only: each sum starts from initial[j] and adds every product; null: the sum
    /// starts with the first product (naive).
    const float* initial;
    float* c;  ///< row i at c + i·ldc
    std::int64_t ldc;
    /// When n is not a multiple of kLaneTileColumns: B's last n mod kLaneTileColumns columns, k rows of
    /// kLaneTileColumns, zero-padded (the caller copies them once for all threads); null when n is a
    /// multiple, or when B's rows can be read up to the next multiple (ldb large enough: a padded block).
    const float* edgePanel = nullptr;
    /// RoundedProducts only, optional: added to row i's sums after every product (a convolution's bias).
    const float* rowTerm = nullptr;
    /// RoundedProducts only, optional: term (p, j) is added only where keep[(p mod keepPeriod)·ldb + j]
    /// is all ones (zero: skipped, a direct convolution's taps outside the image); readable like B.
    const std::int32_t* keep = nullptr;
    std::int64_t keepPeriod = 1;
    /// Stochastic rounding's sites (numeric/random_bits.hpp): C(i, j) is element elementBase + i·elementRow + j
    /// of the tensor keyed `random` (modulo 2^32); its p-th product is step 2p and the sum adding it 2p + 1
    /// (the fused order: its p-th FMA is step p), rowTerm's sum step 2k.
    numeric::RandomKey random{};
    std::uint32_t elementBase = 0, elementRow = 0;
};

/// Stochastic stores: element i of `in` rounded at site (key, elementBase + i, step 0).
struct StochasticRoundArgs {
    const numeric::LaneRounding* rounding;
    numeric::RandomKey key;
    std::uint32_t elementBase;
    const float* in;
    float* out;
    std::int64_t count;
};

/// Tiles side by side: out[o][i][v] = Σ_e coefficient[e] · in[o][column[e]][v] over the non-zero entries e of
/// a small matrix's row i, in entry order, each product rounded, the sum from +0 (then `term`, when given,
/// added to it), for every group o < outer and lane v < length: one stage of a Winograd sandwich, whose
/// lanes are independent tiles. The reference order of conv_winograd.cpp's sandwich().
struct CombineArgs {
    const numeric::LaneSpec* spec;
    /// Whether `in` holds accumulated values (then the products are rounded as spec->mixedProduct says)
    /// rather than stored ones.
    bool accumulatedInput;
    int rows;
    const int* start;  ///< rows + 1 offsets into column and coefficient
    const int* column;
    const float* coefficient;  ///< stored-format values
    std::int64_t outer;
    std::int64_t length;          ///< floats per row: a multiple of kCombineLength
    const float* in;              ///< group o at in + o·inGroup, its row j at + j·length
    std::int64_t inGroup;
    float* out;                   ///< group o at out + o·outGroup, row i at + i·length
    std::int64_t outGroup;
    const float* term = nullptr;  ///< optional: one value added to every sum after its products
    /// The sum starts with the first product itself (not +0 + it: a −0 product stays −0), as the
    /// reference's scaling of a transform's output, v = mul(x, scale), does.
    bool fromFirstProduct = false;
    /// Stochastic rounding: out's row i of group o, lanes v0 + l (v0 a multiple of kCombineLength) is element
    /// elementBase + o·elementGroup + i·elementRow + (v0 / kCombineLength)·elementBlock + l of the tensor keyed
    /// `random`; a row's e-th entry draws its product at step 2e and its sum at 2e + 1, the term at 2·entries.
    numeric::RandomKey random{};
    std::uint32_t elementBase = 0, elementGroup = 0, elementRow = 0, elementBlock = 0;
};
constexpr std::int64_t kCombineLength = 16;

/// Radix-2 FFTs of length n side by side, kCombineLength of them: conv/fft_radix2.hpp's transform (bit
/// reversal, then decimation in time, the twiddle 1 skipped; products with an accumulated factor, sums
/// and differences rounded), element i of transform l at re[i·kCombineLength + l] (im likewise).
struct FftArgs {
    const numeric::LaneSpec* spec;
    std::int64_t n;  ///< a power of two
    const float* cosine;  ///< n/2 stored twiddles cos(−2πk/n)
    const float* sine;    ///< n/2 stored sin(−2πk/n); negated for the inverse
    bool inverse;
    float* re;
    float* im;
};

/// The FFT convolution's frequency-domain sum over channels, one channel's term: for b < count (a
/// multiple of kCombineLength), accRe += xr·wr + xi·wi and accIm += xi·wr − xr·wi (x times w's
/// conjugate), each product, sum and difference rounded in that order (products of two accumulated values).
struct SpectralArgs {
    const numeric::LaneSpec* spec;
    std::int64_t count;
    const float *xr, *xi, *wr, *wi;
    float *accRe, *accIm;
};

struct Kernels {
    Isa isa;
    void (*rows)(const GemmArgs& args, std::int64_t rowBegin, std::int64_t rowEnd);
    /// out[i] = in[i] rounded to the format (in == out allowed).
    void (*round)(const numeric::LaneRounding& rounding, const float* in, float* out, std::int64_t count);
    void (*roundStochastic)(const StochasticRoundArgs& args);
    void (*combine)(const CombineArgs& args);
    void (*fft)(const FftArgs& args);
    void (*spectral)(const SpectralArgs& args);
};

/// The kernels compiled for `isa` (every set is compiled on x86-64; run only what isaSupported()).
const Kernels& kernelsFor(Isa isa);

namespace generic { extern const Kernels kernels; }
namespace avx2 { extern const Kernels kernels; }
namespace avx512 { extern const Kernels kernels; }

}  // namespace ks::matmul::lanes
