// sgemm's kernels for the generic set (x86-64 baseline, SSE2; compile flags in core/matmul/CMakeLists.txt).
#define KS_GEMM_NS generic
#define KS_GEMM_NAME "generic"
#define KS_GEMM_ISA ::ks::Isa::Generic
#define KS_GEMM_BYTES 16
#define KS_GEMM_WIDE_ROWS 6
#define KS_GEMM_NARROW_ROWS 6
#define KS_GEMM_WIDE_NAME "6x8"
#define KS_GEMM_NARROW_NAME "6x8"
#define KS_GEMM_PEAK 1
#include "matmul/gemm_kernels.inc"
