// The vectorised float32 kernel of `direct`. An output tile is RB rows × 8·NV columns of one output
// channel, held in RB·NV = 12 vector registers for the whole sum over (c, r, s): per tap one
// broadcast weight and RB·NV FMAs whose input operand comes straight from memory (AVX2 FMAs take
// one memory operand, and loads issue as fast as FMAs, so the tile is FMA-bound with no input
// registers; reusing loaded input rows across the tile's rows needed branches that made GCC spill
// the accumulators). Each output is summed in the reference's order (c, r, s), one FMA per term.
// Columns: full 24-wide tiles, then a 16- or 8-wide one, then the last 8 columns recomputed by a
// tile that ends exactly at Q (the same values, computed in the same order), so no load or store
// crosses the row; outputs narrower than 8 take scalar loops. Padding: the input is copied into a
// zero-bordered buffer whose borders are written once, at planning.
#include "conv/conv_direct_f32.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "conv/parallel.hpp"

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
#endif

// ---------------------------------------------------------------- tiles

constexpr int kTileRows = 4;     ///< RB: output rows per register tile
constexpr int kTileVectors = 3;  ///< NV: 8-float vectors per tile row (4×3 accumulators + 1 weight of 16 registers)

/// One image and one output channel.
struct TileArgs {
    const float* x;            ///< the image's C planes (zero-bordered copy when padded)
    std::int64_t planeStride;  ///< floats between channels of x
    std::int64_t rowStride;    ///< floats between rows of x (the padded width)
    const float* w;            ///< this output channel's C×R×S weights
    std::int64_t C, R, S, strideH;
    float bias;
    float* y;  ///< this output channel's P×Q plane
    std::int64_t Q;
};

template <int RB, int NV>
void tile(const TileArgs& a, std::int64_t oh0, std::int64_t q0) {
    Vec8 acc[RB][NV];
    for (auto& row : acc)
        for (auto& v : row) v = zero8();
    const float* xTile = a.x + oh0 * a.strideH * a.rowStride + q0;
    const std::int64_t rowStep = a.strideH * a.rowStride;  // between the tile's output rows, in x
    for (std::int64_t c = 0; c < a.C; ++c) {
        const float* xc = xTile + c * a.planeStride;
        const float* wc = a.w + c * a.R * a.S;
        for (std::int64_t r = 0; r < a.R; ++r) {
            const float* xr = xc + r * a.rowStride;
            for (std::int64_t s = 0; s < a.S; ++s) {
                const Vec8 wv = broadcast8(wc + r * a.S + s);
                for (int i = 0; i < RB; ++i)
                    for (int v = 0; v < NV; ++v) acc[i][v] = fma8(wv, load8(xr + i * rowStep + s + 8 * v), acc[i][v]);
            }
        }
    }
    for (int i = 0; i < RB; ++i)
        for (int v = 0; v < NV; ++v) storeAdd8(a.y + (oh0 + i) * a.Q + q0 + 8 * v, acc[i][v], a.bias);
}

/// Outputs [q0, q1) of rows [oh0, oh0 + rows) one at a time (outputs narrower than one vector).
void scalarColumns(const TileArgs& a, std::int64_t oh0, std::int64_t rows, std::int64_t q0, std::int64_t q1) {
    for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t q = q0; q < q1; ++q) {
            float acc = 0;
            for (std::int64_t c = 0; c < a.C; ++c)
                for (std::int64_t r = 0; r < a.R; ++r) {
                    const float* xr = a.x + c * a.planeStride + ((oh0 + i) * a.strideH + r) * a.rowStride + q;
                    const float* wr = a.w + (c * a.R + r) * a.S;
                    for (std::int64_t s = 0; s < a.S; ++s) acc = std::fma(wr[s], xr[s], acc);
                }
            a.y[(oh0 + i) * a.Q + q] = acc + a.bias;
        }
}

template <int RB>
void tileRow(const TileArgs& a, std::int64_t oh0) {
    constexpr std::int64_t wide = 8 * kTileVectors;
    std::int64_t q = 0;
    for (; q + wide <= a.Q; q += wide) tile<RB, kTileVectors>(a, oh0, q);
    if (a.Q - q >= 16) {
        tile<RB, 2>(a, oh0, q);
        q += 16;
    } else if (a.Q - q >= 8) {
        tile<RB, 1>(a, oh0, q);
        q += 8;
    }
    if (q == a.Q) return;
    if (a.Q >= 8)
        tile<RB, 1>(a, oh0, a.Q - 8);  // overlaps the previous tile: rewrites identical values
    else
        scalarColumns(a, oh0, RB, q, a.Q);
}

void tileRows(const TileArgs& a, std::int64_t oh0, std::int64_t rows) {
    static_assert(kTileRows == 4, "the dispatch below covers 1..kTileRows rows");
    switch (rows) {
        case 4: return tileRow<4>(a, oh0);
        case 3: return tileRow<3>(a, oh0);
        case 2: return tileRow<2>(a, oh0);
        default: return tileRow<1>(a, oh0);
    }
}

// ---------------------------------------------------------------- plan

class DirectFloatPlan final : public ConvPlan {
public:
    DirectFloatPlan(const ConvProblem& problem, const float* weight)
        : p_(problem),
          weight_(weight, weight + problem.weightCount()),
          Hp_(problem.H + 2 * problem.padH),
          Wp_(problem.W + 2 * problem.padW) {
        if (p_.padH || p_.padW) padded_.assign(static_cast<std::size_t>(p_.C * Hp_ * Wp_), 0.0f);
    }

    void execute(const float* input, const float* bias, float* output) override {
        const std::int64_t P = p_.P(), Q = p_.Q();
        const std::int64_t rowBlocks = (P + kTileRows - 1) / kTileRows;
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
            // work items (row block, output channel), channels innermost: a thread's range walks
            // every output channel over the same input rows while they are in cache
            parallelFor(rowBlocks * p_.K, imageFlops, [&](std::int64_t begin, std::int64_t end) {
                for (std::int64_t item = begin; item < end; ++item) {
                    const std::int64_t block = item / p_.K, k = item % p_.K;
                    const TileArgs a{image,
                                     Hp_ * Wp_,
                                     Wp_,
                                     weight_.data() + k * p_.C * p_.R * p_.S,
                                     p_.C,
                                     p_.R,
                                     p_.S,
                                     p_.strideH,
                                     bias ? bias[k] : 0.0f,
                                     output + (n * p_.K + k) * P * Q,
                                     Q};
                    const std::int64_t oh0 = block * kTileRows;
                    tileRows(a, oh0, std::min<std::int64_t>(kTileRows, P - oh0));
                }
            });
        }
    }

private:
    ConvProblem p_;
    std::vector<float> weight_;
    std::int64_t Hp_, Wp_;
    std::vector<float> padded_;  ///< C planes Hp×Wp, borders zero (empty when unpadded)
};

}  // namespace

std::optional<std::string> directFloatUnsupported(const ConvProblem& problem) {
    if (problem.strideW != 1) return std::string("column stride ") + std::to_string(problem.strideW) + " (vectorised over unit-stride columns)";
    return std::nullopt;
}

std::unique_ptr<ConvPlan> makeDirectFloatPlan(const ConvProblem& problem, const float* weight) {
    return std::make_unique<DirectFloatPlan>(problem, weight);
}

}  // namespace ks::conv::detail
