// The vectorised float32 kernel of `direct`. An output tile is RB rows × 8·NV columns of one output
// channel, held in RB·NV = 12 vector registers for the whole sum over (c, r, s): per tap one
// broadcast weight and RB·NV FMAs whose input operand comes straight from memory (AVX2 FMAs take
// one memory operand, and loads issue as fast as FMAs, so the tile is FMA-bound with no input
// registers; reusing loaded input rows across the tile's rows needed branches that made GCC spill
// the accumulators). Each output is summed in the reference's order (c, r, s), one FMA per term.
// Columns: full 24-wide tiles, then a 16- or 8-wide one, then the last 8 columns recomputed by a
// tile that ends exactly at Q (the same values, computed in the same order), so no load or store
// crosses the row; outputs narrower than 8 take scalar loops. Layers with many output channels use
// tiles vectorised over the channels instead (below). Padding: the input is copied into a
// zero-bordered buffer whose borders are written once, at planning.
#include "conv/conv_direct_f32.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "base/aligned_vector.hpp"
#include "base/parallel.hpp"

namespace ks::conv::detail {

namespace {

// ---------------------------------------------------------------- 8 floats

#if defined(__AVX2__) && defined(__FMA__)
struct Vec8 {
    __m256 v;
};
inline Vec8 zero8() { return {_mm256_setzero_ps()}; }
inline Vec8 load8(const float* p) { return {_mm256_loadu_ps(p)}; }
inline Vec8 broadcast8(const float* p) { return {_mm256_broadcast_ss(p)}; }
inline Vec8 fma8(Vec8 a, Vec8 b, Vec8 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline void storeAdd8(float* p, Vec8 a, float b) { _mm256_storeu_ps(p, _mm256_add_ps(a.v, _mm256_set1_ps(b))); }
inline void store8(float* p, Vec8 a) { _mm256_storeu_ps(p, a.v); }
#else
// Portable: plain loops over 8 lanes, which the compiler maps onto whatever SIMD the target has.
struct Vec8 {
    float v[8];
};
inline Vec8 zero8() { return {}; }
inline Vec8 load8(const float* p) {
    Vec8 r;
    for (int l = 0; l < 8; ++l) r.v[l] = p[l];
    return r;
}
inline Vec8 broadcast8(const float* p) {
    Vec8 r;
    for (float& x : r.v) x = *p;
    return r;
}
inline Vec8 fma8(Vec8 a, Vec8 b, Vec8 c) {
    for (int l = 0; l < 8; ++l) c.v[l] = std::fma(a.v[l], b.v[l], c.v[l]);
    return c;
}
inline void storeAdd8(float* p, Vec8 a, float b) {
    for (int l = 0; l < 8; ++l) p[l] = a.v[l] + b;
}
inline void store8(float* p, Vec8 a) {
    for (int l = 0; l < 8; ++l) p[l] = a.v[l];
}
#endif

// ---------------------------------------------------------------- tiles

/// Below this many FLOPs per image (~15 µs on one core) the tiles run on the calling thread. The
/// pool's worker spins between calls (base/parallel.cpp), so handing it half costs a few µs when calls
/// follow each other (measured: 256×256 3×3, 1.2 MFLOP: 0.044 ms on one thread, 0.024 ms on two).
constexpr double kMinParallelFlops = 0.8e6;

/// One output channel (KB = 1) is tiled 4 rows × 24 columns; two output channels at a time (KB = 2,
/// layers with several output channels) 2 rows × 24 columns each, so that every loaded input vector
/// feeds both channels' FMAs: 12 accumulators either way, plus KB broadcast weights and one input.
template <int KB>
constexpr int kTileRows = KB == 1 ? 4 : 2;
constexpr int kTileVectors = 3;  ///< NV: 8-float vectors per tile row

/// One image and KB consecutive output channels.
struct TileArgs {
    const float* x;            ///< the image's C planes (zero-bordered copy when padded)
    std::int64_t planeStride;  ///< floats between channels of x
    std::int64_t rowStride;    ///< floats between rows of x (the padded width)
    const float* w;            ///< the first output channel's C×R×S weights
    std::int64_t wStride;      ///< floats between output channels of w (C·R·S)
    std::int64_t C, R, S, strideH;
    float bias[2];             ///< per output channel of the tile
    float* y;                  ///< the first output channel's P×Q plane
    std::int64_t yStride;      ///< floats between output channel planes (P·Q)
    std::int64_t Q;
};

/// FixedS: the kernel width when known at compile time (the tap loop unrolls), 0 otherwise.
template <int RB, int NV, int KB, int FixedS>
void tile(const TileArgs& a, std::int64_t oh0, std::int64_t q0) {
    const std::int64_t S = FixedS ? FixedS : a.S;
    Vec8 acc[KB][RB][NV];
    for (auto& channel : acc)
        for (auto& row : channel)
            for (auto& v : row) v = zero8();
    const float* xTile = a.x + oh0 * a.strideH * a.rowStride + q0;
    const std::int64_t rowStep = a.strideH * a.rowStride;  // between the tile's output rows, in x
    for (std::int64_t c = 0; c < a.C; ++c) {
        const float* xc = xTile + c * a.planeStride;
        const float* wc = a.w + c * a.R * S;
        for (std::int64_t r = 0; r < a.R; ++r) {
            // one pointer per tile row and per output channel: the unrolled taps then address with
            // constant displacements (index arithmetic per load ran out of registers)
            const float* xRows[RB];
            for (int i = 0; i < RB; ++i) xRows[i] = xc + r * a.rowStride + i * rowStep;
            const float* wRows[KB];
            for (int kb = 0; kb < KB; ++kb) wRows[kb] = wc + kb * a.wStride + r * S;
#pragma GCC unroll 8
            for (std::int64_t s = 0; s < S; ++s) {
                Vec8 wv[KB];
                for (int kb = 0; kb < KB; ++kb) wv[kb] = broadcast8(wRows[kb] + s);
                for (int i = 0; i < RB; ++i)
                    for (int v = 0; v < NV; ++v) {
                        const Vec8 in = load8(xRows[i] + s + 8 * v);  // folded into the FMA when KB = 1
                        for (int kb = 0; kb < KB; ++kb) acc[kb][i][v] = fma8(wv[kb], in, acc[kb][i][v]);
                    }
            }
        }
    }
    for (int kb = 0; kb < KB; ++kb)
        for (int i = 0; i < RB; ++i)
            for (int v = 0; v < NV; ++v)
                storeAdd8(a.y + kb * a.yStride + (oh0 + i) * a.Q + q0 + 8 * v, acc[kb][i][v], a.bias[kb]);
}

/// Outputs [q0, q1) of rows [oh0, oh0 + rows) one at a time (outputs narrower than one vector).
template <int KB>
void scalarColumns(const TileArgs& a, std::int64_t oh0, std::int64_t rows, std::int64_t q0, std::int64_t q1) {
    for (int kb = 0; kb < KB; ++kb)
        for (std::int64_t i = 0; i < rows; ++i)
            for (std::int64_t q = q0; q < q1; ++q) {
                float acc = 0;
                for (std::int64_t c = 0; c < a.C; ++c)
                    for (std::int64_t r = 0; r < a.R; ++r) {
                        const float* xr = a.x + c * a.planeStride + ((oh0 + i) * a.strideH + r) * a.rowStride + q;
                        const float* wr = a.w + kb * a.wStride + (c * a.R + r) * a.S;
                        for (std::int64_t s = 0; s < a.S; ++s) acc = std::fma(wr[s], xr[s], acc);
                    }
                a.y[kb * a.yStride + (oh0 + i) * a.Q + q] = acc + a.bias[kb];
            }
}

template <int RB, int KB, int FixedS>
void tileRow(const TileArgs& a, std::int64_t oh0) {
    constexpr std::int64_t wide = 8 * kTileVectors;
    std::int64_t q = 0;
    for (; q + wide <= a.Q; q += wide) tile<RB, kTileVectors, KB, FixedS>(a, oh0, q);
    if (a.Q - q >= 16) {
        tile<RB, 2, KB, FixedS>(a, oh0, q);
        q += 16;
    } else if (a.Q - q >= 8) {
        tile<RB, 1, KB, FixedS>(a, oh0, q);
        q += 8;
    }
    if (q == a.Q) return;
    if (a.Q >= 8)
        tile<RB, 1, KB, FixedS>(a, oh0, a.Q - 8);  // overlaps the previous tile: rewrites identical values
    else
        scalarColumns<KB>(a, oh0, RB, q, a.Q);
}

template <int KB, int FixedS>
void tileRowsOfWidth(const TileArgs& a, std::int64_t oh0, std::int64_t rows) {
    static_assert(kTileRows<1> == 4 && kTileRows<2> == 2, "the dispatch below covers 1..kTileRows rows");
    switch (rows) {
        case 4: return tileRow<4, 1, FixedS>(a, oh0);
        case 3: return tileRow<3, 1, FixedS>(a, oh0);
        case 2: return tileRow<2, KB, FixedS>(a, oh0);
        default: return tileRow<1, KB, FixedS>(a, oh0);
    }
}

/// Rows [oh0, oh0 + rows) of KB output channels, rows ≤ kTileRows<KB>; the common kernel widths with
/// their tap loop unrolled.
template <int KB>
void tileRows(const TileArgs& a, std::int64_t oh0, std::int64_t rows) {
    switch (a.S) {
        case 1: return tileRowsOfWidth<KB, 1>(a, oh0, rows);
        case 3: return tileRowsOfWidth<KB, 3>(a, oh0, rows);
        case 5: return tileRowsOfWidth<KB, 5>(a, oh0, rows);
        case 7: return tileRowsOfWidth<KB, 7>(a, oh0, rows);
        default: return tileRowsOfWidth<KB, 0>(a, oh0, rows);
    }
}

// ---------------------------------------------------------------- layers: vectorised over output channels

// With many output channels the vectors run along k instead: a tile is 16 output channels × 6
// consecutive output pixels of one row (12 accumulators); per tap two vectors of packed weights
// (w[c][r][s][16 channels], packed once at planning) and one broadcast input pixel per output pixel.
// No column waste on narrow images (14×14 layers), any column stride, and each output still summed
// over (c, r, s) in order with one FMA per term. The tile is transposed through a small buffer on
// the way out (NCHW output), a few stores per C·R·S·12 FMAs.
constexpr int kChannelLanes = 16;  ///< output channels per tile (two vectors)
constexpr int kTilePixels = 6;     ///< output pixels per tile

struct PixelTileArgs {
    const float* x;            ///< the image's C planes (zero-bordered copy when padded)
    std::int64_t planeStride;  ///< floats between channels of x
    std::int64_t rowStride;    ///< floats between rows of x
    const float* w;            ///< this channel block's packed weights [c][r][s][kChannelLanes]
    std::int64_t C, R, S, strideH, strideW;
    const float* bias;         ///< all K biases, or nullptr
    std::int64_t k0, channels;  ///< the block's first output channel and its channel count (≤ 16)
    float* y;                  ///< the image's K output planes
    std::int64_t P, Q;
};

template <int NP, int FixedS>
void pixelTile(const PixelTileArgs& a, std::int64_t oh, std::int64_t ow0) {
    const std::int64_t S = FixedS ? FixedS : a.S;
    Vec8 acc[NP][2];
    for (auto& pixel : acc) pixel[0] = pixel[1] = zero8();
    const float* xTile = a.x + oh * a.strideH * a.rowStride + ow0 * a.strideW;
    const float* wp = a.w;
    for (std::int64_t c = 0; c < a.C; ++c) {
        const float* xc = xTile + c * a.planeStride;
        for (std::int64_t r = 0; r < a.R; ++r) {
            const float* xr = xc + r * a.rowStride;
#pragma GCC unroll 8
            for (std::int64_t s = 0; s < S; ++s, wp += kChannelLanes) {
                const Vec8 w0 = load8(wp), w1 = load8(wp + 8);
                for (int j = 0; j < NP; ++j) {
                    const Vec8 xv = broadcast8(xr + j * a.strideW + s);
                    acc[j][0] = fma8(w0, xv, acc[j][0]);
                    acc[j][1] = fma8(w1, xv, acc[j][1]);
                }
            }
        }
    }
    float out[NP][kChannelLanes];
    for (int j = 0; j < NP; ++j) {
        store8(out[j], acc[j][0]);
        store8(out[j] + 8, acc[j][1]);
    }
    for (std::int64_t kk = 0; kk < a.channels; ++kk) {
        const float b = a.bias ? a.bias[a.k0 + kk] : 0.0f;
        float* yRow = a.y + (a.k0 + kk) * a.P * a.Q + oh * a.Q + ow0;
        for (int j = 0; j < NP; ++j) yRow[j] = out[j][kk] + b;
    }
}

template <int FixedS>
void pixelRowOfWidth(const PixelTileArgs& a, std::int64_t oh) {
    std::int64_t ow = 0;
    for (; ow + kTilePixels <= a.Q; ow += kTilePixels) pixelTile<kTilePixels, FixedS>(a, oh, ow);
    static_assert(kTilePixels == 6, "the dispatch below covers 1..kTilePixels - 1 pixels");
    switch (a.Q - ow) {
        case 5: return pixelTile<5, FixedS>(a, oh, ow);
        case 4: return pixelTile<4, FixedS>(a, oh, ow);
        case 3: return pixelTile<3, FixedS>(a, oh, ow);
        case 2: return pixelTile<2, FixedS>(a, oh, ow);
        case 1: return pixelTile<1, FixedS>(a, oh, ow);
        default: return;
    }
}

/// Output row oh of one block of output channels.
void pixelRow(const PixelTileArgs& a, std::int64_t oh) {
    switch (a.S) {
        case 1: return pixelRowOfWidth<1>(a, oh);
        case 3: return pixelRowOfWidth<3>(a, oh);
        default: return pixelRowOfWidth<0>(a, oh);
    }
}

/// Layers take the channel-vectorised tiles: enough output channels to fill the lanes, or a column
/// stride (which the column tiles cannot do).
bool vectoriseOverChannels(const ConvProblem& p) { return p.K >= 12 || (p.strideW != 1 && p.K >= 4); }

// ---------------------------------------------------------------- plan

class DirectFloatPlan final : public ConvPlan {
public:
    DirectFloatPlan(const ConvProblem& problem, const float* weight)
        : p_(problem),
          weight_(weight, weight + problem.weightCount()),
          Hp_(problem.H + 2 * problem.padH),
          Wp_(problem.W + 2 * problem.padW),
          overChannels_(vectoriseOverChannels(problem)) {
        if (p_.padH || p_.padW) padded_.assign(static_cast<std::size_t>(p_.C * Hp_ * Wp_), 0.0f);
        if (overChannels_) {  // [k block][c][r][s][16 lanes], lanes past K zero
            const std::int64_t taps = p_.C * p_.R * p_.S, blocks = (p_.K + kChannelLanes - 1) / kChannelLanes;
            packed_.assign(static_cast<std::size_t>(blocks * taps * kChannelLanes), 0.0f);
            for (std::int64_t k = 0; k < p_.K; ++k)
                for (std::int64_t t = 0; t < taps; ++t)
                    packed_[static_cast<std::size_t>(((k / kChannelLanes) * taps + t) * kChannelLanes + k % kChannelLanes)] =
                        weight_[static_cast<std::size_t>(k * taps + t)];
        }
    }

    void execute(const float* input, const float* bias, float* output) override {
        const std::int64_t P = p_.P(), Q = p_.Q();
        const double imageFlops = p_.flops() / double(p_.N);
        for (std::int64_t n = 0; n < p_.N; ++n) {
            const float* image = input + n * p_.C * p_.H * p_.W;
            if (!padded_.empty()) {
                parallelFor(p_.C, double(p_.C * p_.H * p_.W), [&](std::int64_t begin, std::int64_t end) {
                    for (std::int64_t c = begin; c < end; ++c)
                        for (std::int64_t h = 0; h < p_.H; ++h)
                            std::memcpy(padded_.data() + (c * Hp_ + h + p_.padH) * Wp_ + p_.padW,
                                        image + (c * p_.H + h) * p_.W, sizeof(float) * static_cast<std::size_t>(p_.W));
                });
                image = padded_.data();
            }
            if (overChannels_) {
                runOverChannels(image, bias, output + n * p_.K * P * Q, imageFlops);
                continue;
            }
            // work items (row block, block of output channels), channels innermost: a thread's range
            // walks every output channel over the same input rows while they are in cache
            const int channelBlock = p_.K >= 2 ? 2 : 1;
            const std::int64_t blockRows = channelBlock == 2 ? kTileRows<2> : kTileRows<1>;
            const std::int64_t rowBlocks = (P + blockRows - 1) / blockRows;
            const std::int64_t channelBlocks = (p_.K + channelBlock - 1) / channelBlock;
            parallelFor(rowBlocks * channelBlocks, imageFlops >= kMinParallelFlops ? imageFlops : 0.0, [&](std::int64_t begin, std::int64_t end) {
                for (std::int64_t item = begin; item < end; ++item) {
                    const std::int64_t block = item / channelBlocks, k = item % channelBlocks * channelBlock;
                    const std::int64_t channels = std::min<std::int64_t>(channelBlock, p_.K - k);
                    TileArgs a{image, Hp_ * Wp_, Wp_, weight_.data() + k * p_.C * p_.R * p_.S, p_.C * p_.R * p_.S,
                               p_.C, p_.R, p_.S, p_.strideH, {0.0f, 0.0f}, output + (n * p_.K + k) * P * Q, P * Q, Q};
                    for (std::int64_t kb = 0; kb < channels; ++kb) a.bias[kb] = bias ? bias[k + kb] : 0.0f;
                    const std::int64_t oh0 = block * blockRows;
                    const std::int64_t rows = std::min(blockRows, P - oh0);
                    if (channels == 2)
                        tileRows<2>(a, oh0, rows);
                    else
                        tileRows<1>(a, oh0, rows);
                }
            });
        }
    }

private:
    /// One image through the channel-vectorised tiles: work items (output row, block of 16 output
    /// channels), channel blocks innermost so that a thread's rows stay in cache across the blocks.
    void runOverChannels(const float* image, const float* bias, float* output, double imageFlops) {
        const std::int64_t taps = p_.C * p_.R * p_.S, blocks = (p_.K + kChannelLanes - 1) / kChannelLanes;
        const std::int64_t P = p_.P();
        parallelFor(P * blocks, imageFlops >= kMinParallelFlops ? imageFlops : 0.0, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t item = begin; item < end; ++item) {
                const std::int64_t oh = item / blocks, block = item % blocks;
                const std::int64_t k0 = block * kChannelLanes;
                const PixelTileArgs a{image, Hp_ * Wp_, Wp_, packed_.data() + block * taps * kChannelLanes,
                                      p_.C, p_.R, p_.S, p_.strideH, p_.strideW, bias, k0,
                                      std::min<std::int64_t>(kChannelLanes, p_.K - k0), output, P, p_.Q()};
                pixelRow(a, oh);
            }
        });
    }

    ConvProblem p_;
    std::vector<float> weight_;
    std::int64_t Hp_, Wp_;
    bool overChannels_;          ///< channel-vectorised tiles (layers) rather than column tiles
    AlignedVector<float> padded_;  ///< C planes Hp×Wp, borders zero (empty when unpadded)
    AlignedVector<float> packed_;  ///< weights for the channel-vectorised tiles, 64-byte aligned: whole lines per load
};

}  // namespace

std::optional<std::string> directFloatUnsupported(const ConvProblem& problem) {
    if (problem.strideW != 1 && !vectoriseOverChannels(problem)) return std::string("column stride ") + std::to_string(problem.strideW) + " with fewer than 4 output channels (vectorised over unit-stride columns or over output channels)";
    return std::nullopt;
}

std::unique_ptr<ConvPlan> makeDirectFloatPlan(const ConvProblem& problem, const float* weight) {
    return std::make_unique<DirectFloatPlan>(problem, weight);
}

}  // namespace ks::conv::detail
