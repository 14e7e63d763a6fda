// sgemm's kernels for the avx2 set (AVX2 + FMA; compile flags in core/matmul/CMakeLists.txt).
#define KS_GEMM_NS avx2
#define KS_GEMM_NAME "avx2"
#define KS_GEMM_ISA ::ks::Isa::Avx2
#define KS_GEMM_BYTES 32
#define KS_GEMM_WIDE_ROWS 6
#define KS_GEMM_NARROW_ROWS 12
#define KS_GEMM_WIDE_NAME "6x16"
#define KS_GEMM_NARROW_NAME "12x8"
#define KS_GEMM_PEAK 1
#include "matmul/gemm_kernels.inc"
