// sgemm: a packed, cache-blocked float32 GEMM in the GotoBLAS/BLIS design (Goto & van de Geijn,
// "Anatomy of high-performance matrix multiplication", 2008; Van Zee & van de Geijn, BLIS, 2015).
//
//   for jc (NC columns of C):            B panel KC×NC packed in slivers of nr columns (L3)
//     for pc (KC of the k dimension):
//       for ic (MC rows of C):           A block MC×KC packed in slivers of mr rows (L2)
//         for jr (nr columns):           B sliver KC×nr stays in L1 across the ir loop
//           for ir (mr rows):            micro-kernel: one mr×nr tile of C in registers
//
// Packing resolves the transposes and zero-pads the edges, so one micro-kernel (gemm_kernel.hpp)
// serves every case. Narrow products (n ≤ kDirectMaxColumns) read A in place instead of packing it:
// each element of A is then used by only a few column slivers, and copying it would cost about as
// much as the multiply-adds it feeds (the factored layers' X·L with rank 8–64). Products 9–12
// columns wide with A row-major take a dot-product kernel whose vectors run along k instead.
// Shallow products whose whole B panel fits in L1 (the factored layers' T·R, k = 8–16) go through
// the tiles row by row, writing C in whole rows.
//
// Threads (BLIS's scheme for the ic loop): when C is at least as tall as wide, the team shares one
// packed B panel: each thread packs a share of its slivers, the team meets at a barrier, then each
// thread multiplies its own rows of C by the whole panel (packing its own A blocks), and meets the
// others again before the panel is overwritten. B is packed once instead of once per thread (best
// of 2 threads at 512²…2048²: 164–167 → 171–176 GFLOP/s; medians move less on a shared machine).
// Wider than tall, C is split into blocks of columns instead, one per thread, each packing its own
// part of B; the A they share is then the smaller operand, and nobody waits.
//
// PackedB keeps a B packed once (the panels below, in their order) for sgemmPacked, which then
// packs nothing per call and can finish each tile with a bias and ReLU (Epilogue).
#include "matmul/gemm.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

#include "base/parallel.hpp"
#include "base/scratch_buffer.hpp"
#include "matmul/gemm_blocking.hpp"
#include "matmul/gemm_kernel.hpp"

namespace ks::matmul {

namespace {

using kernel::GemmKernel;

// The cache blocking (KC, MC, NC) comes from the cache sizes and the kernel set at run time:
// matmul/gemm_blocking.hpp. A product's plan is taken once, by the calling thread, and shared by its team.

/// Products with at most this many columns read A in place (see the top comment).
constexpr std::int64_t kDirectMaxColumns = 128;
/// Products this narrow take the narrow micro-kernel (one vector of columns per row).
constexpr std::int64_t kNarrowMaxColumns = 8;
/// Products a little wider (up to 12 columns, where the wide kernel would compute 16), with A
/// row-major, take the dot-product kernel (gemm_kernel.hpp) when k is at least kDotMinDepth (its
/// vectors run along k).
constexpr std::int64_t kDotMaxColumns = 12;
constexpr std::int64_t kDotMinDepth = 32;
/// A B stored k×n is transposed for that kernel by each thread: up to this many floats (1 MiB).
constexpr std::int64_t kDotMaxTransposed = 256 * 1024;
/// Below this much work one thread is faster than waking a second one.
constexpr double kMinParallelFlops = 2.0e6;

// One set per thread, kept between calls so that a product does not pay for fresh pages every time.
thread_local ScratchBuffer t_packedA, t_packedB, t_edgeA;

struct Operands {
    Trans transA, transB;
    const float* a;
    std::int64_t lda;
    const float* b;
    std::int64_t ldb;
    float* c;
    std::int64_t ldc;
    bool accumulate;
    const GemmPlan* plan;            ///< kernels and blocking
    const Epilogue* post = nullptr;  ///< applied with the last depth block
};

const GemmKernel& kernelFor(const GemmPlan& plan, std::int64_t n) {
    return n <= kNarrowMaxColumns ? plan.kernels->narrow : plan.kernels->wide;
}

const GemmBlocking& blockingFor(const GemmPlan& plan, std::int64_t n) {
    return n <= kNarrowMaxColumns ? plan.narrow : plan.wide;
}

/// One element of C's epilogue, for the paths that write C outside the micro-kernels.
inline float applyEpilogue(float v, const Epilogue* post, std::int64_t j) {
    if (!post) return v;
    if (post->bias) v += post->bias[j];
    return post->relu && v < 0.0f ? 0.0f : v;  // NaN stays NaN, as in PyTorch's relu
}

/// Slivers of nr columns of op(B)(p0 … p0+kc, j0 … j0+nc): sliver s holds B(p, s·nr + j) at
/// out[s·kc·nr + p·nr + j], zero beyond column nc.
void packB(const Operands& o, std::int64_t p0, std::int64_t kc, std::int64_t j0, std::int64_t nc, int nr, float* out) {
    for (std::int64_t s = 0; s < nc; s += nr) {
        const std::int64_t width = std::min<std::int64_t>(nr, nc - s);
        float* dst = out + s * kc;
        if (o.transB == Trans::No) {  // B stored k×n: rows of the sliver are contiguous
            const float* src = o.b + p0 * o.ldb + j0 + s;
            for (std::int64_t p = 0; p < kc; ++p, src += o.ldb, dst += nr) {
                std::copy(src, src + width, dst);
                std::fill(dst + width, dst + nr, 0.0f);
            }
        } else {  // B stored n×k: each column of op(B) is a contiguous row of B
            for (std::int64_t j = 0; j < width; ++j) {
                const float* src = o.b + (j0 + s + j) * o.ldb + p0;
                for (std::int64_t p = 0; p < kc; ++p) dst[p * nr + j] = src[p];
            }
            for (std::int64_t j = width; j < nr; ++j)
                for (std::int64_t p = 0; p < kc; ++p) dst[p * nr + j] = 0.0f;
        }
    }
}

/// Slivers of mr rows of op(A)(i0 … i0+mc, p0 … p0+kc): sliver s holds A(s·mr + i, p) at
/// out[s·mr·kc + p·mr + i], zero beyond row mc.
void packA(const Operands& o, std::int64_t i0, std::int64_t mc, std::int64_t p0, std::int64_t kc, const GemmKernel& micro,
           float* out) {
    const int mr = micro.mr;
    for (std::int64_t s = 0; s < mc; s += mr) {
        const std::int64_t height = std::min<std::int64_t>(mr, mc - s);
        float* dst = out + s * kc;
        if (o.transA == Trans::No) {  // A stored m×k: read the sliver's rows side by side
            const float* src = o.a + (i0 + s) * o.lda + p0;
            if (height == mr) {
                micro.packRows(kc, src, o.lda, dst);
                continue;
            }
            for (std::int64_t p = 0; p < kc; ++p, dst += mr) {
                for (std::int64_t i = 0; i < height; ++i) dst[i] = src[i * o.lda + p];
                for (std::int64_t i = height; i < mr; ++i) dst[i] = 0.0f;
            }
        } else {  // A stored k×m: each column of the sliver is contiguous
            const float* src = o.a + p0 * o.lda + i0 + s;
            for (std::int64_t p = 0; p < kc; ++p, src += o.lda, dst += mr) {
                std::copy(src, src + height, dst);
                std::fill(dst + height, dst + mr, 0.0f);
            }
        }
    }
}

void zeroRows(float* c, std::int64_t ldc, std::int64_t m, std::int64_t n) {
    for (std::int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
}

/// Where PackedB keeps the panel of columns jc… (ncPadded of them, whole slivers) and depths pc…:
/// panels in (jc, pc) order, every earlier column block NC wide.
std::int64_t panelOffset(std::int64_t jc, std::int64_t pc, std::int64_t k, std::int64_t ncPadded) {
    return jc * k + pc * ncPadded;
}

/// The depth of the blocks of k, split evenly (784 = 196·4 rather than 256·3 + 16, whose last block
/// would pay a whole pass over C for 16 steps of k), each at most the blocking's KC (the narrow
/// kernel's is deeper: its A is read in place and re-read per block; X·L, 500×784·784×8, one thread:
/// 74 GFLOP/s in one block, 71 in two).
std::int64_t depthBlock(std::int64_t k, const GemmBlocking& blocking) {
    const std::int64_t most = blocking.kc;
    const std::int64_t blocks = std::max<std::int64_t>(1, (k + most - 1) / most);
    return (k + blocks - 1) / blocks;
}

/// This thread's buffer for the A blocks (or A's edge sliver, when A is read in place) of a product
/// with n columns and depth k over `rows` rows; allocated on first use, then kept.
float* packedABuffer(const GemmPlan& plan, std::int64_t n, std::int64_t k, std::int64_t rows) {
    const int mr = kernelFor(plan, n).mr;
    const GemmBlocking& blocking = blockingFor(plan, n);
    const std::int64_t kcMax = depthBlock(k, blocking);
    return n <= kDirectMaxColumns ? t_edgeA.get(kcMax * mr)
                                  : t_packedA.get(kcMax * std::min(blocking.mc, (rows + mr - 1) / mr * mr));
}

/// Where a tile at the edge of C finds its rows of A, and which rows of its result belong to C.
struct EdgeSliver {
    const float* a;
    std::int64_t rowStride, colStride;
    std::int64_t firstRow;  ///< the tile's row that is C's first row here
};

/// A tile at the edge of C (height ≤ mr rows, width ≤ nr columns): the micro-kernel writes a whole
/// tile into a temporary, of which rows firstRow… (the part inside C) are added or copied, then the
/// epilogue (bias from column `biasColumn`). Out of line: inlined, it took registers from the loop
/// over full tiles.
[[gnu::noinline]] void edgeTile(const GemmKernel& micro, std::int64_t kc, const EdgeSliver& a, const float* bSliver,
                                float* cTile, std::int64_t ldc, std::int64_t height, std::int64_t width,
                                bool accumulate, const Epilogue* post, std::int64_t biasColumn) {
    alignas(64) float tile[kernel::kMaxTileRows * kernel::kMaxTileColumns];
    const int nr = micro.nr;
    micro.run(kc, a.a, a.rowStride, a.colStride, bSliver, tile, nr, false, nullptr);
    const float* result = tile + a.firstRow * nr;
    for (std::int64_t i = 0; i < height; ++i)
        for (std::int64_t j = 0; j < width; ++j) {
            const float v = accumulate ? cTile[i * ldc + j] + result[i * nr + j] : result[i * nr + j];
            cTile[i * ldc + j] = applyEpilogue(v, post, biasColumn + j);
        }
}

/// The product, or rows [rowBegin, rowEnd) of it for each member of `team`. Every member calls
/// this with the same arguments; packedB (the shared panel, kcMax·ncMax floats) is shared too.
/// With `prepacked` (every panel of op(B), as PackedB stores them) nothing is packed: o.b is unused.
void gemmOnTeam(const Operands& o, std::int64_t m, std::int64_t n, std::int64_t k, float* packedB, const Team& team,
                const float* prepacked = nullptr) {
    const GemmPlan& plan = *o.plan;
    const GemmKernel& micro = kernelFor(plan, n);
    const GemmBlocking& blocking = blockingFor(plan, n);
    const int mr = micro.mr, nr = micro.nr;
    const bool directA = n <= kDirectMaxColumns;
    // A(i, p) of op(A) in place: its address and the strides between rows and between columns.
    const std::int64_t aRowStride = o.transA == Trans::No ? o.lda : 1;
    const std::int64_t aColStride = o.transA == Trans::No ? 1 : o.lda;
    // This member's rows of C, whole slivers of mr, and its share of the slivers of each B panel.
    const std::int64_t rowUnits = (m + mr - 1) / mr;
    const std::int64_t rowBegin = std::min(rowUnits * team.index / team.size * mr, m);
    const std::int64_t rowEnd = std::min(rowUnits * (team.index + 1) / team.size * mr, m);

    float* packedA = packedABuffer(plan, n, k, rowEnd - rowBegin);

    for (std::int64_t jc = 0; jc < n; jc += blocking.nc) {
        const std::int64_t nc = std::min(blocking.nc, n - jc);
        const std::int64_t slivers = (nc + nr - 1) / nr;
        const std::int64_t kcBlock = depthBlock(k, blocking);
        for (std::int64_t pc = 0; pc < k; pc += kcBlock) {
            const std::int64_t kc = std::min(kcBlock, k - pc);
            const bool accumulate = o.accumulate || pc > 0;
            const Epilogue* post = pc + kc == k ? o.post : nullptr;
            const std::int64_t sBegin = slivers * team.index / team.size, sEnd = slivers * (team.index + 1) / team.size;
            if (prepacked) {
                packedB = const_cast<float*>(prepacked + panelOffset(jc, pc, k, slivers * nr));
            } else {
                if (sBegin < sEnd)
                    packB(o, pc, kc, jc + sBegin * nr, std::min(nc, sEnd * nr) - sBegin * nr, nr, packedB + sBegin * nr * kc);
                team.barrier();  // the panel is complete
            }
            for (std::int64_t ic = rowBegin; ic < rowEnd; ic += blocking.mc) {
                const std::int64_t mc = std::min(blocking.mc, rowEnd - ic);
                const std::int64_t fullRows = mc / mr * mr;
                // A short last sliver of rows read in place ends at C's last row and starts mr rows
                // earlier (recomputing a few rows of the tile before) when A has that many rows;
                // otherwise it is packed and zero-padded. The scalar packing took 5 % of X·L with
                // m = 500, n = 8.
                const bool shiftedEdge = directA && fullRows < mc && ic + mc >= mr;
                if (!directA) packA(o, ic, mc, pc, kc, micro, packedA);
                else if (fullRows < mc && !shiftedEdge) packA(o, ic + fullRows, mc - fullRows, pc, kc, micro, packedA);
                // Full tiles straight from the loop (for shallow products the loop's own work is a
                // large part of a tile's); edge tiles through a temporary, in edgeTile.
                const std::int64_t fullHeight = directA ? fullRows : mc;
                const auto tileAt = [&](std::int64_t ir, std::int64_t jr) {
                    float* cTile = o.c + (ic + ir) * o.ldc + jc + jr;
                    if (ir + mr > fullHeight || jr + nr > nc) {
                        const std::int64_t height = std::min<std::int64_t>(mr, mc - ir);
                        EdgeSliver a{packedA + ir * kc, 1, mr, 0};  // packed
                        if (directA && height == mr) a = {o.a + (ic + ir) * aRowStride + pc * aColStride, aRowStride, aColStride, 0};
                        else if (shiftedEdge) a = {o.a + (ic + ir + height - mr) * aRowStride + pc * aColStride, aRowStride, aColStride, mr - height};
                        else if (directA) a.a = packedA;  // the short sliver alone was packed
                        return edgeTile(micro, kc, a, packedB + jr * kc, cTile, o.ldc, height,
                                        std::min<std::int64_t>(nr, nc - jr), accumulate, post, jc + jr);
                    }
                    const kernel::TileEpilogue tilePost{post && post->bias ? post->bias + jc + jr : nullptr,
                                                        post && post->relu};
                    if (directA)
                        micro.run(kc, o.a + (ic + ir) * aRowStride + pc * aColStride, aRowStride, aColStride,
                                  packedB + jr * kc, cTile, o.ldc, accumulate, post ? &tilePost : nullptr);
                    else
                        micro.run(kc, packedA + ir * kc, 1, mr, packedB + jr * kc, cTile, o.ldc, accumulate,
                                  post ? &tilePost : nullptr);
                };
                // A B sliver is kept in L1 across the tiles of a column (BLIS's order). When the
                // whole panel fits in L1 (a shallow product: the factored layers' T·R with depth
                // 8–16), tiles go row by row instead, so that C is written in whole rows and each
                // A sliver is read once.
                // (The rank-16 layer's 120×16·16×512, a 32 KiB panel on Zen 3: 67 GFLOP/s by columns of
                // tiles, 75 by rows.)
                if (kc * slivers * nr <= plan.l1PanelFloats) {
                    for (std::int64_t ir = 0; ir < mc; ir += mr)
                        for (std::int64_t jr = 0; jr < nc; jr += nr) tileAt(ir, jr);
                } else {
                    for (std::int64_t jr = 0; jr < nc; jr += nr)
                        for (std::int64_t ir = 0; ir < mc; ir += mr) tileAt(ir, jr);
                }
            }
            if (!prepacked) team.barrier();  // nobody reads the panel any more
        }
    }
}

bool usesDotKernel(const Operands& o, std::int64_t n, std::int64_t k) {
    return o.transA == Trans::No && n > kNarrowMaxColumns && n <= kDotMaxColumns && k >= kDotMinDepth &&
           (o.transB == Trans::Yes || n * k <= kDotMaxTransposed);
}

/// op(B)ᵀ as n rows of k (the layout of the dot-product kernel's Bᵀ rows).
void transposeB(const Operands& o, std::int64_t n, std::int64_t k, float* out) {
    for (std::int64_t j = 0; j < n; ++j)  // written in order; the reads share cache lines
        for (std::int64_t p = 0; p < k; ++p) out[j * k + p] = o.transB == Trans::No ? o.b[p * o.ldb + j] : o.b[j * o.ldb + p];
}

/// Rows [rowBegin, rowEnd) of C by the dot-product kernel. Bᵀ is read in place when B is stored
/// n×k, and packed (n·k ≤ kDotMaxTransposed floats) otherwise.
void dotGemm(const Operands& o, std::int64_t rowBegin, std::int64_t rowEnd, std::int64_t n, std::int64_t k) {
    using kernel::kDotColumns;
    using kernel::kDotRows;
    const float* bt = o.b;
    std::int64_t ldbt = o.ldb;
    if (o.transB == Trans::No) {
        float* packed = t_packedB.get(n * k);
        transposeB(o, n, k, packed);
        bt = packed;
        ldbt = k;
    }
    const kernel::DotKernel& dot = o.plan->kernels->dot;
    float sums[kDotRows * kDotColumns];
    const float* aRows[kDotRows];
    const float* btRows[kDotColumns];
    // The whole k in one pass: blocking k to keep Bᵀ and the A tile in L1 was slower in place
    // (m = 500, k = 784, n = 8: best 60 against 74 GFLOP/s), the A rows then being read in pieces.
    for (std::int64_t i0 = rowBegin; i0 < rowEnd; i0 += kDotRows) {
        const std::int64_t rows = std::min<std::int64_t>(kDotRows, rowEnd - i0);
        for (int i = 0; i < kDotRows; ++i) aRows[i] = o.a + (i0 + std::min<std::int64_t>(i, rows - 1)) * o.lda;
        for (std::int64_t j0 = 0; j0 < n; j0 += kDotColumns) {
            const std::int64_t cols = std::min<std::int64_t>(kDotColumns, n - j0);
            for (int j = 0; j < kDotColumns; ++j) btRows[j] = bt + (j0 + std::min<std::int64_t>(j, cols - 1)) * ldbt;
            dot.run(k, aRows, btRows, sums);
            for (std::int64_t i = 0; i < rows; ++i) {
                float* cRow = o.c + (i0 + i) * o.ldc + j0;
                for (std::int64_t j = 0; j < cols; ++j) {
                    const float v = o.accumulate ? cRow[j] + sums[i * kDotColumns + j] : sums[i * kDotColumns + j];
                    cRow[j] = applyEpilogue(v, o.post, j0 + j);
                }
            }
        }
    }
}

/// body(t) for every t < team, one t per thread (fewer threads: several each, in order).
template <class Body>
void forEachMember(int team, Body&& body) {
    parallelFor(team, kAlwaysParallel, [&](std::int64_t first, std::int64_t last) {
        for (std::int64_t t = first; t < last; ++t) body(static_cast<int>(t));
    });
}

/// Floats of the shared B panel for a product with n columns and depth k.
std::int64_t panelSize(const GemmPlan& plan, std::int64_t n, std::int64_t k) {
    const int nr = kernelFor(plan, n).nr;
    const GemmBlocking& blocking = blockingFor(plan, n);
    return depthBlock(k, blocking) * ((std::min(blocking.nc, n) + nr - 1) / nr * nr);
}

/// The whole product on the calling thread.
void serialGemm(const Operands& o, std::int64_t m, std::int64_t n, std::int64_t k) {
    gemmOnTeam(o, m, n, k, t_packedB.get(panelSize(*o.plan, n, k)), Team{});
}

/// Throws invalid_argument with what() when !ok; the message is built only then (sgemm is called
/// for products of a few µs, where formatting five messages per call showed in profiles).
template <class Message>
void check(bool ok, Message&& what) {
    if (!ok) throw std::invalid_argument("sgemm: " + what());
}

}  // namespace

std::string sgemmKernelName() { return describeGemmPlan(activeGemmPlan()); }

void sgemm(Trans transA, Trans transB, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
           std::int64_t lda, const float* b, std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate,
           int threads) {
    using std::to_string;
    check(m >= 0 && n >= 0 && k >= 0,
          [&] { return "negative size m=" + to_string(m) + " n=" + to_string(n) + " k=" + to_string(k); });
    check(threads >= 0, [&] { return "threads must be ≥ 0 (0: threadCount()), got " + to_string(threads); });
    const std::int64_t aWidth = transA == Trans::No ? k : m, bWidth = transB == Trans::No ? n : k;
    check(lda >= aWidth, [&] { return "lda=" + to_string(lda) + " is less than the width of stored A (" + to_string(aWidth) + ")"; });
    check(ldb >= bWidth, [&] { return "ldb=" + to_string(ldb) + " is less than the width of stored B (" + to_string(bWidth) + ")"; });
    check(ldc >= n, [&] { return "ldc=" + to_string(ldc) + " is less than n=" + to_string(n); });
    check((a || m * k == 0) && (b || k * n == 0) && (c || m * n == 0),
          [] { return std::string("null pointer for a non-empty matrix"); });

    const GemmPlan plan = activeGemmPlan();  // the caller's: the team's threads use this one
    const Operands o{transA, transB, a, lda, b, ldb, c, ldc, accumulate, &plan};
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (!accumulate) zeroRows(c, ldc, m, n);
        return;
    }
    int team = threads == 0 ? threadCount() : std::min(threads, threadCount());
    if (2.0 * double(m) * double(n) * double(k) < kMinParallelFlops) team = 1;
    const GemmKernel& wide = plan.kernels->wide;
    const bool splitRows = m >= n;
    const std::int64_t unit = splitRows ? wide.mr : wide.nr;
    const std::int64_t units = ((splitRows ? m : n) + unit - 1) / unit;
    team = static_cast<int>(std::min<std::int64_t>(team, units));
    if (insideParallelLoop()) team = 1;

    if (usesDotKernel(o, n, k)) {  // rows of C per thread, nothing shared
        const std::int64_t rowUnits = (m + kernel::kDotRows - 1) / kernel::kDotRows;
        team = static_cast<int>(std::min<std::int64_t>(team, rowUnits));
        forEachMember(team, [&](int t) {
            dotGemm(o, std::min(rowUnits * t / team * kernel::kDotRows, m),
                    std::min(rowUnits * (t + 1) / team * kernel::kDotRows, m), n, k);
        });
        return;
    }
    if (team <= 1) return serialGemm(o, m, n, k);

    if (splitRows) {  // one shared B panel, rows of C per thread
        float* packedB = t_packedB.get(panelSize(plan, n, k));
        // A member that throws (allocating its A buffer) leaves the team: the others' barriers do
        // not wait for it, and the exception reaches the caller.
        parallelTeam(team, [&](const Team& member) { gemmOnTeam(o, m, n, k, packedB, member); });
        return;
    }
    forEachMember(team, [&](int t) {  // columns of C per thread, each with its own part of B
        const std::int64_t begin = std::min(units * t / team * unit, n);
        const std::int64_t end = std::min(units * (t + 1) / team * unit, n);
        Operands part = o;
        part.b = transB == Trans::No ? b + begin : b + begin * ldb;
        part.c = c + begin;
        if (end > begin) serialGemm(part, m, end - begin, k);
    });
}

PackedB::PackedB(Trans transB, std::int64_t k, std::int64_t n, const float* b, std::int64_t ldb)
    : k_(k), n_(n), plan_(std::make_shared<const GemmPlan>(activeGemmPlan())) {
    using std::to_string;
    check(k >= 0 && n >= 0, [&] { return "PackedB: negative size k=" + to_string(k) + " n=" + to_string(n); });
    const std::int64_t bWidth = transB == Trans::No ? n : k;
    check(ldb >= bWidth, [&] { return "PackedB: ldb=" + to_string(ldb) + " is less than the width of stored B (" + to_string(bWidth) + ")"; });
    check(b || k * n == 0, [] { return std::string("PackedB: null pointer for a non-empty matrix"); });
    const Operands o{Trans::No, transB, nullptr, 0, b, ldb, nullptr, 0, false, plan_.get()};
    dot_ = usesDotKernel(o, n, k);
    if (dot_) {  // Bᵀ, n rows of k
        data_.resize(static_cast<std::size_t>(n * k));
        transposeB(o, n, k, data_.data());
        return;
    }
    const int nr = kernelFor(*plan_, n).nr;
    const GemmBlocking& blocking = blockingFor(*plan_, n);
    const std::int64_t slivers = (n + nr - 1) / nr;
    data_.resize(static_cast<std::size_t>(k * slivers * nr));
    for (std::int64_t jc = 0; jc < n; jc += blocking.nc) {
        const std::int64_t nc = std::min(blocking.nc, n - jc), ncPadded = (nc + nr - 1) / nr * nr;
        const std::int64_t kcBlock = depthBlock(k, blocking);
        for (std::int64_t pc = 0; pc < k; pc += kcBlock)
            packB(o, pc, std::min(kcBlock, k - pc), jc, nc, nr, data_.data() + panelOffset(jc, pc, k, ncPadded));
    }
}

void sgemmPacked(std::int64_t m, const float* a, std::int64_t lda, const PackedB& b, float* c, std::int64_t ldc,
                 bool accumulate, const Epilogue& post) {
    using std::to_string;
    const std::int64_t n = b.n(), k = b.k();
    check(m >= 0, [&] { return "negative size m=" + to_string(m); });
    check(lda >= k, [&] { return "lda=" + to_string(lda) + " is less than k=" + to_string(k); });
    check(ldc >= n, [&] { return "ldc=" + to_string(ldc) + " is less than n=" + to_string(n); });
    check((a || m * k == 0) && (c || m * n == 0), [] { return std::string("null pointer for a non-empty matrix"); });
    if (m == 0 || n == 0) return;
    const bool hasEpilogue = post.bias || post.relu;
    if (k == 0) {
        if (!accumulate) zeroRows(c, ldc, m, n);
        if (hasEpilogue)
            for (std::int64_t i = 0; i < m; ++i)
                for (std::int64_t j = 0; j < n; ++j) c[i * ldc + j] = applyEpilogue(c[i * ldc + j], &post, j);
        return;
    }
    // The plan B was packed with (the kernel set and blocking of its panels), whatever is active now.
    Operands o{Trans::No, Trans::Yes, a, lda, b.data_.data(), k, c, ldc, accumulate, b.plan_.get(),
               hasEpilogue ? &post : nullptr};
    if (b.dot_) return dotGemm(o, 0, m, n, k);
    gemmOnTeam(o, m, n, k, nullptr, Team{}, b.data_.data());
}

}  // namespace ks::matmul
