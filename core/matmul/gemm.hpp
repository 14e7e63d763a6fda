#pragma once
// The float32 GEMM that every fast path runs on: dense and factored matmul, im2col and Winograd
// convolution, the network's layers. Row-major, BLAS-like: transposes and leading dimensions are
// free (handled while packing), so callers never copy an operand to change its layout.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ks::matmul {

struct GemmPlan;  // matmul/gemm_blocking.hpp

enum class Trans : std::uint8_t { No, Yes };

/// C (m×n) = op(A)·op(B), or C += op(A)·op(B) when `accumulate`. Row-major storage:
///  op(A) is m×k: A is stored m×k (lda ≥ k) when transA is No, k×m (lda ≥ m) when Yes;
///  op(B) is k×n: B is stored k×n (ldb ≥ n) when transB is No, n×k (ldb ≥ k) when Yes;
///  C is m×n with ldc ≥ n. k = 0 gives C = 0 (or leaves C unchanged when accumulating).
/// threads: 1 runs on the calling thread only (for callers that parallelise themselves),
/// 0 uses threadCount() (base/parallel.hpp), n > 1 at most n threads (and at most threadCount(); fewer
/// when the product is small).
void sgemm(Trans transA, Trans transB, std::int64_t m, std::int64_t n, std::int64_t k, const float* a,
           std::int64_t lda, const float* b, std::int64_t ldb, float* c, std::int64_t ldc, bool accumulate = false,
           int threads = 0);

/// Applied to C by sgemmPacked once the product is complete, while each tile is still in registers
/// (a layer's bias and ReLU, without another pass over C): C(i, j) += bias[j], then max(C, 0).
struct Epilogue {
    const float* bias = nullptr;  ///< n values, or null
    bool relu = false;
};

/// op(B) (k×n) packed once in the layout sgemm's kernels read, for a B that many products share (a
/// layer's weights, multiplied by tile after tile of activations): sgemmPacked then packs nothing.
class PackedB {
public:
    PackedB() = default;
    /// op(B) as in sgemm: B stored k×n (ldb ≥ n) when transB is No, n×k (ldb ≥ k) when Yes.
    PackedB(Trans transB, std::int64_t k, std::int64_t n, const float* b, std::int64_t ldb);
    std::int64_t k() const { return k_; }
    std::int64_t n() const { return n_; }

private:
    friend void sgemmPacked(std::int64_t, const float*, std::int64_t, const PackedB&, float*, std::int64_t, bool,
                            const Epilogue&);
    std::int64_t k_ = 0, n_ = 0;
    /// The kernels and blocking the panels were packed for (sgemmPacked uses them even if KS_ISA or the
    /// cache sizes changed since).
    std::shared_ptr<const GemmPlan> plan_;
    bool dot_ = false;         ///< stored as Bᵀ for the dot-product kernel (narrow products)
    std::vector<float> data_;  ///< otherwise the panels of sgemm's packing, in (column block, depth block) order
};

/// C (m×n) [+]= A·op(B) with A row-major (m×k, lda ≥ k) and op(B) packed, then the epilogue; on
/// the calling thread (callers split the rows of A between threads). Without an epilogue, the same
/// results as a one-thread sgemm, bit for bit.
void sgemmPacked(std::int64_t m, const float* a, std::int64_t lda, const PackedB& b, float* c, std::int64_t ldc,
                 bool accumulate = false, const Epilogue& post = {});

/// The kernels and blocking sgemm uses now (e.g. "avx2: wide 6x16 (KC 256, MC 144, NC 4096), …"), for reports.
std::string sgemmKernelName();

}  // namespace ks::matmul
