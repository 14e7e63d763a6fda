// sgemm's kernels for the avx512 set (AVX-512 F/BW/DQ/VL; compile flags in core/matmul/CMakeLists.txt).
#define KS_GEMM_NS avx512
#define KS_GEMM_NAME "avx512"
#define KS_GEMM_ISA ::ks::Isa::Avx512
#define KS_GEMM_BYTES 64
#define KS_GEMM_WIDE_ROWS 12
#define KS_GEMM_NARROW_ROWS 12
#define KS_GEMM_WIDE_NAME "12x32"
#define KS_GEMM_NARROW_NAME "12x8"
#define KS_GEMM_PEAK 1
#include "matmul/gemm_kernels.inc"
