// The float32-lane kernels for the avx512 instruction set (compile flags in core/matmul/CMakeLists.txt).
#define KS_LANE_NS avx512
#define KS_LANE_ISA ::ks::Isa::Avx512
#define KS_LANE_BYTES 64
#define KS_LANE_ROWS 4
#include "matmul/lane_kernels.inc"
