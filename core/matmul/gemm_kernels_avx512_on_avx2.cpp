// A test variant of sgemm's kernels: the avx512 set's code (16-lane vectors, 12×32 tiles) compiled for AVX2,
// so that its logic runs and is tested on CPUs without AVX-512 (each 16-lane operation becomes two
// 256-bit ones, and the tile spills: correct, not fast). Compile flags in core/matmul/CMakeLists.txt.
#define KS_GEMM_NS avx512_on_avx2
#define KS_GEMM_NAME "avx512 tiles on avx2"
#define KS_GEMM_ISA ::ks::Isa::Avx2
#define KS_GEMM_BYTES 64
#define KS_GEMM_WIDE_ROWS 12
#define KS_GEMM_NARROW_ROWS 12
#define KS_GEMM_WIDE_NAME "12x32"
#define KS_GEMM_NARROW_NAME "12x8"
#define KS_GEMM_PEAK 0
#include "matmul/gemm_kernels.inc"
